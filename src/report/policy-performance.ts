import type { MigrationRecord, RequestRecord } from '../record/records.ts';
import { isPolicyMigration } from './migration-kinds.ts';
import { ServerPerformance, type Phase } from './server-performance.ts';
import { percentiles } from './statistics.ts';

export const LATENCY_PERCENTILES = [50, 95, 99] as const;

/** What clients got in one phase: during the placement policy's migrations, or outside them. */
export interface PolicyPhase {
  /** Requests answered `ok`: the only ones in the rate and latencies. */
  responses: number;
  responsesPerSecond: number | null;
  /** Latency at each of LATENCY_PERCENTILES, in that order. */
  latencyPercentilesMs: (number | null)[];
}

export interface PolicyPerformanceResult {
  during: PolicyPhase;
  outside: PolicyPhase;
}

/**
 * Table 2's split (see ServerPerformance), with the policy's migrations (POLICY_KINDS) as the
 * only migrations: a request is `during` when it overlaps one of the VM that served it.
 * Percentiles need every latency, so they are kept: 8 bytes per answered request.
 */
export class PolicyPerformance {
  readonly #split: ServerPerformance;
  readonly #latencies: Record<Phase, number[]> = { migration: [], normal: [] };

  constructor(migrations: readonly MigrationRecord[]) {
    this.#split = new ServerPerformance(migrations.filter((migration) => isPolicyMigration(migration.kind)));
  }

  add(request: RequestRecord): void {
    const phase = this.#split.add(request);
    if (request.status === 'ok') this.#latencies[phase].push(request.latency_ms);
  }

  result(): PolicyPerformanceResult {
    const split = this.#split.result();
    const phase = (name: Phase): PolicyPhase => ({
      responses: split[name].responses,
      responsesPerSecond: split[name].responsesPerSecond,
      latencyPercentilesMs: percentiles(this.#latencies[name], LATENCY_PERCENTILES),
    });
    return { during: phase('migration'), outside: phase('normal') };
  }
}
