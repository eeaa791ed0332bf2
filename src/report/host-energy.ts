import { COUNTERS } from '../monitor/counters.ts';
import type { SampleRecord } from '../record/records.ts';

const JOULES_PER_WATT_HOUR = 3600;

/**
 * The energy the hosts drew, from their power.power.average samples (W): a sample at time t
 * is the average since the previous sample of its host, the first one since the run started
 * (the monitor starts with the run). Samples come in time order, as they were recorded.
 */
export class HostEnergy {
  readonly #lastSampleS = new Map<string, number>();
  #joules = 0;

  add(sample: SampleRecord): void {
    if (sample.counter !== COUNTERS.power.name) return;
    const since = this.#lastSampleS.get(sample.host) ?? 0;
    this.#joules += sample.value * Math.max(0, sample.time_s - since);
    this.#lastSampleS.set(sample.host, sample.time_s);
  }

  /** All hosts together, in Wh; null when the run has no power samples. */
  wattHours(): number | null {
    return this.#lastSampleS.size === 0 ? null : this.#joules / JOULES_PER_WATT_HOUR;
  }
}
