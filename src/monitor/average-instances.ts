import type { CounterReading } from '../platforms/platform.ts';
import type { SampleRecord } from '../record/records.ts';

/**
 * One value per host and counter: the mean of its instances (CPUs, NICs), as the seed's tool did,
 * in the order each host and counter first comes. A host has a handful of counters, so a
 * reading's is looked for among its host's rather than under a key made of both names.
 */
export function averageInstances(readings: readonly CounterReading[], timeS: number): SampleRecord[] {
  const samples: SampleRecord[] = [];
  /** Per sample, how many instances its value is the sum of. */
  const instances: number[] = [];
  /** Per host, the indexes of its samples. */
  const samplesOfHost = new Map<string, number[]>();
  for (const reading of readings) {
    let ofHost = samplesOfHost.get(reading.host);
    if (ofHost === undefined) {
      ofHost = [];
      samplesOfHost.set(reading.host, ofHost);
    }
    const index = sampleOfCounter(samples, ofHost, reading.counter);
    if (index === undefined) {
      ofHost.push(samples.length);
      samples.push({ time_s: timeS, host: reading.host, counter: reading.counter, value: reading.value, unit: reading.unit });
      instances.push(1);
    } else {
      (samples[index] as SampleRecord).value += reading.value;
      instances[index] = (instances[index] as number) + 1;
    }
  }
  samples.forEach((sample, i) => {
    const count = instances[i] as number;
    if (count > 1) sample.value /= count;
  });
  return samples;
}

/** Of a host's samples, the one of `counter`: a loop, not find(), which would make a function for each of millions of readings. */
function sampleOfCounter(samples: readonly SampleRecord[], ofHost: readonly number[], counter: string): number | undefined {
  for (const i of ofHost) if ((samples[i] as SampleRecord).counter === counter) return i;
  return undefined;
}
