import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentChange, RunningStats } from '../../src/report/statistics.ts';

function statsOf(values: number[]): ReturnType<RunningStats['stats']> {
  const running = new RunningStats();
  for (const value of values) running.add(value);
  return running.stats();
}

describe('RunningStats', () => {
  it('gives count, min, max, mean and the sample standard deviation', () => {
    const { std, ...rest } = statsOf([3, 1, 4, 2]);
    assert.deepEqual(rest, { count: 4, min: 1, max: 4, mean: 2.5 });
    // Squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over n − 1 = 3.
    assert.ok(Math.abs(std! - Math.sqrt(5 / 3)) < 1e-12);
    assert.equal(std!.toFixed(3), '1.291');
  });

  it('defines the deviation of one value as 0', () => {
    assert.deepEqual(statsOf([7]), { count: 1, min: 7, max: 7, mean: 7, std: 0 });
  });

  it('gives nulls for no values', () => {
    assert.deepEqual(statsOf([]), { count: 0, min: null, max: null, mean: null, std: null });
  });

  it('stays exact for small spreads around a large value', () => {
    const stats = statsOf([1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4]);
    assert.equal(stats.mean, 1e9 + 2.5);
    assert.ok(Math.abs(stats.std! - Math.sqrt(5 / 3)) < 1e-6);
  });
});

describe('percentChange', () => {
  it('is the change of other against base in percent of base', () => {
    assert.equal(percentChange(100, 130), 30);
    assert.equal(percentChange(10, 5), -50);
    assert.equal(percentChange(4, 4), 0);
  });

  it('is null when base is 0 or a value is missing', () => {
    assert.equal(percentChange(0, 5), null);
    assert.equal(percentChange(null, 5), null);
    assert.equal(percentChange(5, null), null);
  });
});
