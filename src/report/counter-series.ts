import { COUNTERS } from '../monitor/counters.ts';
import type { MigrationRecord, SampleRecord } from '../record/records.ts';

/** The counters of the seed's Figures 2 to 6, one chart each. */
export const CHARTED_COUNTERS = [
  COUNTERS.cpuUsage,
  COUNTERS.memConsumed,
  COUNTERS.memActive,
  COUNTERS.memShared,
  COUNTERS.memSwapUsed,
  COUNTERS.netUsage,
] as const;

export interface CounterSeries {
  counter: string;
  unit: string;
  /** [time_s, value] in time order. */
  points: [number, number][];
}

export interface HostCounters {
  /** The host the series are of; undefined when the run has no samples. */
  host: string | undefined;
  /** Every host seen in the samples, in name order: lets a caller tell a misspelled host from a quiet one. */
  hostsSeen: string[];
  /** One series per charted counter, in CHARTED_COUNTERS order. */
  counters: CounterSeries[];
  /** The number of VMs on the host over time. */
  vmCount: [number, number][];
}

/** Collects one host's charted counters from a stream of samples. */
export class HostCounterSeries {
  #host: string | undefined;
  readonly #hostsSeen = new Set<string>();
  readonly #pointsOf = new Map<string, [number, number][]>();

  /** Without a host, the series are of the first host in the samples. */
  constructor(host?: string) {
    this.#host = host;
    for (const { name } of [...CHARTED_COUNTERS, COUNTERS.vmCount]) this.#pointsOf.set(name, []);
  }

  add(sample: SampleRecord): void {
    this.#hostsSeen.add(sample.host);
    this.#host ??= sample.host;
    if (sample.host !== this.#host) return;
    this.#pointsOf.get(sample.counter)?.push([sample.time_s, sample.value]);
  }

  result(): HostCounters {
    const inTimeOrder = (name: string): [number, number][] =>
      (this.#pointsOf.get(name) as [number, number][]).sort((a, b) => a[0] - b[0]);
    return {
      host: this.#host,
      hostsSeen: [...this.#hostsSeen].sort(),
      counters: CHARTED_COUNTERS.map(({ name, unit }) => ({ counter: name, unit, points: inTimeOrder(name) })),
      vmCount: inTimeOrder(COUNTERS.vmCount.name),
    };
  }
}

/**
 * The target of the most script migrations, whatever their outcome (a failed attempt still
 * loads the target); ties go to the first in name order. Undefined without script migrations.
 */
export function hostReceivingMostMigrations(migrations: readonly MigrationRecord[]): string | undefined {
  const received = new Map<string, number>();
  for (const migration of migrations) {
    if (migration.kind === 'script') received.set(migration.target, (received.get(migration.target) ?? 0) + 1);
  }
  let busiest: string | undefined;
  let most = 0;
  for (const [host, count] of received) {
    if (count > most || (count === most && busiest !== undefined && host < busiest)) {
      busiest = host;
      most = count;
    }
  }
  return busiest;
}
