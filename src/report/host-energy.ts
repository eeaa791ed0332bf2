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
  readonly #joules = new Map<string, number>();

  add(sample: SampleRecord): void {
    if (sample.counter !== COUNTERS.power.name) return;
    const since = this.#lastSampleS.get(sample.host) ?? 0;
    this.#joules.set(sample.host, (this.#joules.get(sample.host) ?? 0) + sample.value * Math.max(0, sample.time_s - since));
    this.#lastSampleS.set(sample.host, sample.time_s);
  }

  /** All hosts together, in Wh; null when the run has no power samples. */
  wattHours(): number | null {
    if (this.#joules.size === 0) return null;
    return [...this.#joules.values()].reduce((sum, joules) => sum + joules, 0) / JOULES_PER_WATT_HOUR;
  }

  /** Each host's, in Wh, in the order their first samples came. */
  wattHoursByHost(): Map<string, number> {
    return new Map([...this.#joules].map(([host, joules]) => [host, joules / JOULES_PER_WATT_HOUR]));
  }
}
