import { COUNTERS } from '../monitor/counters.ts';
import type { SampleRecord } from '../record/records.ts';

interface CpuSample {
  timeS: number;
  mhz: number;
}

/**
 * The hosts' recent CPU samples, as the monitor recorded them: what the placement policy
 * decides by. A sample at time t averages the interval before t.
 */
export class CpuHistory {
  private readonly samples = new Map<string, CpuSample[]>();

  constructor(
    private readonly intervalSeconds: number,
    /** Nothing older than this is ever read. */
    private readonly keepSeconds: number,
  ) {}

  observe(record: SampleRecord): void {
    if (record.counter !== COUNTERS.cpuUsage.name) return;
    const samples = this.samples.get(record.host) ?? [];
    samples.push({ timeS: record.time_s, mhz: record.value });
    const keepFromS = record.time_s - this.keepSeconds - this.intervalSeconds;
    while ((samples[0]?.timeS ?? Number.POSITIVE_INFINITY) < keepFromS) samples.shift();
    this.samples.set(record.host, samples);
  }

  /** The host's mean CPU over the samples whose intervals began at `fromS` or later (and ended by `toS`), or undefined if none did. */
  meanSince(host: string, fromS: number, toS = Number.POSITIVE_INFINITY): number | undefined {
    const window = this.since(host, fromS).filter((sample) => sample.timeS <= toS + 1e-9);
    return window.length === 0 ? undefined : window.reduce((sum, sample) => sum + sample.mhz, 0) / window.length;
  }

  /**
   * Where the host's CPU is heading `aheadSeconds` after now: the mean of the samples since
   * `recentFromS`, carried from their mean time on along the least-squares trend of the
   * longer history since `trendFromS` (a staircase of load steps shows in a long trend, not
   * within one step). Linear, so the hosts' forecasts add up to their total's (the monitor
   * samples every host at once).
   */
  forecast(host: string, recent: { fromS: number; trendFromS: number; nowS: number; aheadSeconds: number }): number | undefined {
    const window = this.since(host, recent.fromS);
    if (window.length === 0) return undefined;
    const meanT = window.reduce((sum, sample) => sum + sample.timeS, 0) / window.length;
    const meanMHz = window.reduce((sum, sample) => sum + sample.mhz, 0) / window.length;
    return meanMHz + slopeOf(this.since(host, recent.trendFromS)) * (recent.nowS + recent.aheadSeconds - meanT);
  }

  latest(host: string): number | undefined {
    return this.samples.get(host)?.at(-1)?.mhz;
  }

  private since(host: string, fromS: number): CpuSample[] {
    return (this.samples.get(host) ?? []).filter((sample) => sample.timeS - this.intervalSeconds >= fromS - 1e-9);
  }
}

/** The least-squares slope of CPU over time, in MHz per second (0 for fewer than two times). */
function slopeOf(samples: readonly CpuSample[]): number {
  if (samples.length === 0) return 0;
  const meanT = samples.reduce((sum, sample) => sum + sample.timeS, 0) / samples.length;
  const meanMHz = samples.reduce((sum, sample) => sum + sample.mhz, 0) / samples.length;
  const spread = samples.reduce((sum, sample) => sum + (sample.timeS - meanT) ** 2, 0);
  return spread > 0 ? samples.reduce((sum, sample) => sum + (sample.timeS - meanT) * (sample.mhz - meanMHz), 0) / spread : 0;
}
