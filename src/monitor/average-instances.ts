import type { CounterReading } from '../platforms/platform.ts';
import type { SampleRecord } from '../record/records.ts';

/** One value per host and counter: the mean of its instances (CPUs, NICs), as the seed's tool did. */
export function averageInstances(readings: readonly CounterReading[], timeS: number): SampleRecord[] {
  const groups = new Map<string, { host: string; counter: string; unit: string; sum: number; count: number }>();
  for (const reading of readings) {
    const key = `${reading.host}\u0000${reading.counter}`;
    const group = groups.get(key);
    if (group) {
      group.sum += reading.value;
      group.count++;
    } else {
      groups.set(key, { host: reading.host, counter: reading.counter, unit: reading.unit, sum: reading.value, count: 1 });
    }
  }
  return [...groups.values()].map((g) => ({
    time_s: timeS,
    host: g.host,
    counter: g.counter,
    value: g.sum / g.count,
    unit: g.unit,
  }));
}
