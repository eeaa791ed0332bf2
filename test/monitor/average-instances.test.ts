import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averageInstances } from '../../src/monitor/average-instances.ts';
import type { CounterReading } from '../../src/platforms/platform.ts';

const reading = (host: string, counter: string, instance: string, value: number, unit = 'MHz'): CounterReading => ({ host, counter, instance, value, unit });

describe('averageInstances', () => {
  it('gives one sample per host and counter, the mean of its instances', () => {
    const samples = averageInstances(
      [reading('h1', 'cpu', '0', 10), reading('h1', 'cpu', '1', 20), reading('h1', 'mem', '', 5, 'KB'), reading('h1', 'cpu', '2', 60)],
      30,
    );
    assert.deepEqual(samples, [
      { time_s: 30, host: 'h1', counter: 'cpu', value: 30, unit: 'MHz' },
      { time_s: 30, host: 'h1', counter: 'mem', value: 5, unit: 'KB' },
    ]);
  });

  it('keeps the order in which each host and counter first comes, however hosts interleave', () => {
    const samples = averageInstances(
      [reading('h2', 'cpu', '0', 1), reading('h1', 'cpu', '0', 2), reading('h2', 'net', 'nic0', 3), reading('h1', 'cpu', '1', 4), reading('h2', 'cpu', '1', 5)],
      1,
    );
    assert.deepEqual(
      samples.map((s) => [s.host, s.counter, s.value]),
      [['h2', 'cpu', 3], ['h1', 'cpu', 3], ['h2', 'net', 3]],
    );
  });

  it('leaves a counter of one instance as it was read, and takes the first reading\'s unit', () => {
    const [single, mixed] = averageInstances([reading('h1', 'a', '', 0.1 + 0.2), reading('h1', 'b', '0', 1, 'W'), reading('h1', 'b', '1', 2, 'kW')], 0);
    assert.equal(single!.value, 0.1 + 0.2);
    assert.equal(mixed!.unit, 'W');
    assert.equal(mixed!.value, 1.5);
  });

  it('gives nothing for no readings', () => {
    assert.deepEqual(averageInstances([], 5), []);
  });
});
