import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LastResultCache } from '../../src/platforms/sim/last-result-cache.ts';

describe('LastResultCache', () => {
  it('works out the function once for an argument repeated', () => {
    const calls: number[] = [];
    const cache = new LastResultCache((x) => {
      calls.push(x);
      return Math.exp(x);
    });
    assert.equal(cache.of(-0.5), Math.exp(-0.5));
    assert.equal(cache.of(-0.5), Math.exp(-0.5));
    assert.equal(cache.of(-2), Math.exp(-2));
    assert.equal(cache.of(-0.5), Math.exp(-0.5));
    assert.deepEqual(calls, [-0.5, -2, -0.5]);
  });

  it('tells +0 from -0, whose results can differ in sign', () => {
    const cache = new LastResultCache(Math.expm1);
    assert.ok(Object.is(cache.of(0), 0));
    assert.ok(Object.is(cache.of(-0), -0));
    assert.ok(Object.is(cache.of(-0), -0));
    assert.ok(Object.is(cache.of(0), 0));
  });

  it('gives the function of its first argument, however the cache starts', () => {
    assert.ok(Object.is(new LastResultCache(Math.exp).of(0), 1));
    assert.ok(Number.isNaN(new LastResultCache(Math.exp).of(NaN)));
  });
});
