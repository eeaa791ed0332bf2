import { COUNTERS } from '../monitor/counters.ts';
import type { SampleRecord } from '../record/records.ts';
import type { HostsLeftOut } from './hosts-left-out.ts';
import { populationStd } from './statistics.ts';

export interface HostLoadSpread {
  /** [sample time, population standard deviation of the hosts' CPU use over capacity], in time order. */
  points: [number, number][];
  /** Their mean: samples come at a fixed interval, so this is the average over time. */
  mean: number | null;
}

/**
 * The spread of host load DRS acts on, at every sample time rather than only when DRS
 * looked: each host's cpu.usagemhz over its capacity, hosts DRS leaves out (in maintenance,
 * or not powered on) left out, hosts without a known capacity too.
 */
export class HostLoadSpreadSeries {
  readonly #capacityMHz: ReadonlyMap<string, number>;
  readonly #leftOut: HostsLeftOut;
  readonly #loadsAt = new Map<number, number[]>();

  constructor(capacityMHz: ReadonlyMap<string, number>, leftOut: HostsLeftOut) {
    this.#capacityMHz = capacityMHz;
    this.#leftOut = leftOut;
  }

  add(sample: SampleRecord): void {
    const capacity = this.#capacityMHz.get(sample.host);
    if (sample.counter !== COUNTERS.cpuUsage.name || capacity === undefined || this.#leftOut.has(sample.host, sample.time_s)) return;
    const loads = this.#loadsAt.get(sample.time_s) ?? [];
    loads.push(sample.value / capacity);
    this.#loadsAt.set(sample.time_s, loads);
  }

  result(): HostLoadSpread {
    const points = [...this.#loadsAt]
      .map(([time, loads]): [number, number] => [time, populationStd(loads) as number])
      .sort((a, b) => a[0] - b[0]);
    const mean = points.length === 0 ? null : points.reduce((sum, [, spread]) => sum + spread, 0) / points.length;
    return { points, mean };
  }
}
