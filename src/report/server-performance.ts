import type { MigrationRecord, RequestRecord } from '../record/records.ts';
import { IntervalIndex, type TimeSpan } from './interval-index.ts';
import { percentChange, RunningStats, type Stats } from './statistics.ts';
import type { TableColumn } from './table-columns.ts';
import type { TableCell } from './table.ts';
import { TimeBuckets, type BucketSeries } from './time-buckets.ts';

export type Phase = 'migration' | 'normal';

/** What clients got from the servers in one phase. */
export interface PhasePerformance {
  /** Requests answered `ok`: the only ones in the rates and latencies. */
  responses: number;
  /** Requests that failed, or were answered corrupt. */
  errors: number;
  aborted: number;
  /** Server-seconds spent in this phase, summed over the VMs that served requests. */
  seconds: number;
  responsesPerSecond: number | null;
  latencyMs: Stats;
  processingMeanMs: number | null;
}

/** Percentage changes of the normal phase against the migration phase, as the seed's Table 2. */
export interface PhaseChange {
  responsesPerSecond: number | null;
  latencyMin: number | null;
  latencyMax: number | null;
  latencyMean: number | null;
  latencyStd: number | null;
}

export interface ServerPerformanceResult {
  migration: PhasePerformance;
  normal: PhasePerformance;
  normalAgainstMigration: PhaseChange;
  /**
   * Why the split says little, when it does: requests lasting as long as migrations or longer
   * each overlap a migration whole, so 'migration' holds nearly every request and its rate
   * counts them against the migrations' short time. Null when it is meaningful.
   */
  splitNotMeaningful: string | null;
}

/**
 * The seed's Table 2 of one run, accumulated request by request. A request belongs to the
 * 'migration' phase when its [sent_s, received_s] overlaps a migration of the VM that served it
 * (any migration, setup or script, whatever its outcome: a client feels all of them), and to
 * 'normal' otherwise.
 *
 * Responses per second divide by server-seconds: for each VM that served requests, the time
 * from its first request sent to its last received, split into the part during its own
 * migrations and the rest. With one VM this is the seed's wall-clock rate; with several, a
 * run-wide "time any VM was migrating" would count the requests of the VMs standing still
 * against time they were not in, inflating the normal rate by the number of VMs.
 */
export class ServerPerformance {
  readonly #migrationsOf: Map<string, IntervalIndex>;
  readonly #migrationSeconds = new RunningStats();
  readonly #servers = new Map<string, ServerActivity>();
  readonly #phases = { migration: new PhaseAccumulator(), normal: new PhaseAccumulator() };
  readonly #latency = new TimeBuckets();

  constructor(migrations: readonly MigrationRecord[]) {
    const spansOf = new Map<string, TimeSpan[]>();
    for (const migration of migrations) {
      // A migration refused at once took no time, and no client can have felt it.
      if (migration.ended_s <= migration.started_s) continue;
      this.#migrationSeconds.add(migration.ended_s - migration.started_s);
      const spans = spansOf.get(migration.vm) ?? [];
      spans.push({ start: migration.started_s, end: migration.ended_s });
      spansOf.set(migration.vm, spans);
    }
    this.#migrationsOf = new Map([...spansOf].map(([vm, spans]) => [vm, new IntervalIndex(spans)]));
  }

  /** Counts the request in its phase, and says which. */
  add(request: RequestRecord): Phase {
    if (request.server === '') {
      // Nobody answered (a refused connection, a timeout): no VM to charge its time to.
      this.#phases.normal.add(request);
      return 'normal';
    }
    const server = this.#serverActivity(request.server);
    if (request.sent_s < server.firstSent) server.firstSent = request.sent_s;
    if (request.received_s > server.lastReceived) server.lastReceived = request.received_s;
    const phase: Phase = server.migrations.overlaps(request.sent_s, request.received_s) ? 'migration' : 'normal';
    this.#phases[phase].add(request);
    if (request.status === 'ok') this.#latency.add(request.received_s, request.latency_ms);
    return phase;
  }

  result(): ServerPerformanceResult {
    let migrationSeconds = 0;
    let activeSeconds = 0;
    for (const server of this.#servers.values()) {
      activeSeconds += server.lastReceived - server.firstSent;
      migrationSeconds += server.migrations.coveredSeconds(server.firstSent, server.lastReceived);
    }
    const migration = this.#phases.migration.result(migrationSeconds);
    const normal = this.#phases.normal.result(activeSeconds - migrationSeconds);
    return { migration, normal, normalAgainstMigration: phaseChange(migration, normal), splitNotMeaningful: this.#splitNotMeaningful(migration, normal) };
  }

  #splitNotMeaningful(migration: PhasePerformance, normal: PhasePerformance): string | null {
    const answered = migration.latencyMs.count + normal.latencyMs.count;
    const requestS = answered === 0 ? 0 : ((migration.latencyMs.mean ?? 0) * migration.latencyMs.count + (normal.latencyMs.mean ?? 0) * normal.latencyMs.count) / answered / 1000;
    const migrationS = this.#migrationSeconds.stats().mean;
    if (migrationS === null || requestS < migrationS) return null;
    return `not meaningful: requests (${seconds(requestS)} on average) last as long as migrations (${seconds(migrationS)}) or longer`;
  }

  /** Latency of `ok` requests by the time they were received, in at most `maxBuckets` buckets. */
  latencyOverTime(maxBuckets = 1000): BucketSeries {
    return this.#latency.series(maxBuckets);
  }

  #serverActivity(vm: string): ServerActivity {
    let server = this.#servers.get(vm);
    if (server === undefined) {
      server = { migrations: this.#migrationsOf.get(vm) ?? NO_MIGRATIONS, firstSent: Infinity, lastReceived: -Infinity };
      this.#servers.set(vm, server);
    }
    return server;
  }
}

interface ServerActivity {
  migrations: IntervalIndex;
  firstSent: number;
  lastReceived: number;
}

const NO_MIGRATIONS = new IntervalIndex([]);

class PhaseAccumulator {
  readonly #latency = new RunningStats();
  readonly #processing = new RunningStats();
  #errors = 0;
  #aborted = 0;

  add(request: RequestRecord): void {
    // A corrupt answer came, but with data its server found wrong: no good answer either.
    if (request.status === 'error' || request.status === 'corrupt') this.#errors++;
    else if (request.status === 'aborted') this.#aborted++;
    else {
      this.#latency.add(request.latency_ms);
      if (request.processing_ms !== null) this.#processing.add(request.processing_ms);
    }
  }

  result(seconds: number): PhasePerformance {
    const responses = this.#latency.count;
    return {
      responses,
      errors: this.#errors,
      aborted: this.#aborted,
      seconds,
      responsesPerSecond: seconds > 0 ? responses / seconds : null,
      latencyMs: this.#latency.stats(),
      processingMeanMs: this.#processing.stats().mean,
    };
  }
}

function phaseChange(migration: PhasePerformance, normal: PhasePerformance): PhaseChange {
  const latency = (statistic: 'min' | 'max' | 'mean' | 'std'): number | null =>
    percentChange(migration.latencyMs[statistic], normal.latencyMs[statistic]);
  return {
    responsesPerSecond: percentChange(migration.responsesPerSecond, normal.responsesPerSecond),
    latencyMin: latency('min'),
    latencyMax: latency('max'),
    latencyMean: latency('mean'),
    latencyStd: latency('std'),
  };
}

function seconds(value: number): string {
  return `${value >= 10 ? value.toFixed(0) : value.toPrecision(2)} s`;
}

/** The columns of Table 2, in the seed's order: each figure followed by its change. */
export const SERVER_PERFORMANCE_COLUMNS: readonly TableColumn[] = [
  { header: 'run', kind: 'text' },
  { header: 'phase', kind: 'text' },
  { header: 'responses/s', kind: 'per-second' },
  { header: 'responses/s change', kind: 'percent-change' },
  { header: 'min [ms]', kind: 'milliseconds' },
  { header: 'min change', kind: 'percent-change' },
  { header: 'max [ms]', kind: 'milliseconds' },
  { header: 'max change', kind: 'percent-change' },
  { header: 'average [ms]', kind: 'milliseconds' },
  { header: 'average change', kind: 'percent-change' },
  { header: 'std. dev. [ms]', kind: 'milliseconds' },
  { header: 'std. dev. change', kind: 'percent-change' },
  { header: 'processing average [ms]', kind: 'milliseconds' },
  { header: 'responses', kind: 'count' },
  { header: 'errors', kind: 'count' },
  { header: 'aborted', kind: 'count' },
  { header: 'split', kind: 'text' },
];

/** A run's two rows in the order of SERVER_PERFORMANCE_COLUMNS: migration, then normal with its changes. */
export function serverPerformanceCells(label: string, result: ServerPerformanceResult): TableCell[][] {
  // A change from a split that means nothing would be read as a finding: the split column says why it is left out.
  const change = result.splitNotMeaningful === null ? result.normalAgainstMigration : null;
  const split = result.splitNotMeaningful ?? 'meaningful';
  return [
    [...phaseCells(label, 'migration', result.migration, null), split],
    [...phaseCells(label, 'normal', result.normal, change), split],
  ];
}

function phaseCells(label: string, phase: Phase, performance: PhasePerformance, change: PhaseChange | null): TableCell[] {
  const latency = performance.latencyMs;
  return [
    label,
    phase,
    performance.responsesPerSecond,
    change?.responsesPerSecond ?? null,
    latency.min,
    change?.latencyMin ?? null,
    latency.max,
    change?.latencyMax ?? null,
    latency.mean,
    change?.latencyMean ?? null,
    latency.std,
    change?.latencyStd ?? null,
    performance.processingMeanMs,
    performance.responses,
    performance.errors,
    performance.aborted,
  ];
}
