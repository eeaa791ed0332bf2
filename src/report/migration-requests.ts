import type { MigrationRecord, RequestRecord } from '../record/records.ts';
import { RunningStats } from './statistics.ts';

/** The requests one migration touched: those whose send-to-receive interval overlaps it, on the VM migrating. */
export interface TouchedRequests {
  requests: number;
  ok: number;
  /** Errors, corrupt answers and aborted requests. */
  failed: number;
  latencyMeanMs: number | null;
  latencyMaxMs: number | null;
}

/**
 * Tallies, request by request, what each migration of a run touched. Per VM its migrations
 * sorted by start; a request is looked up by binary search, then the migrations starting
 * before it ends are walked back while they may still overlap it.
 */
export class MigrationRequestTally {
  readonly #byVm = new Map<string, { starts: number[]; ends: number[]; indices: number[]; longest: number }>();
  readonly #tallies: { requests: number; failed: number; latency: RunningStats }[];

  constructor(migrations: readonly MigrationRecord[]) {
    this.#tallies = migrations.map(() => ({ requests: 0, failed: 0, latency: new RunningStats() }));
    const order = migrations.map((_, i) => i).sort((a, b) => (migrations[a] as MigrationRecord).started_s - (migrations[b] as MigrationRecord).started_s);
    for (const i of order) {
      const migration = migrations[i] as MigrationRecord;
      if (migration.ended_s <= migration.started_s) continue;
      const vm = this.#byVm.get(migration.vm) ?? { starts: [], ends: [], indices: [], longest: 0 };
      vm.starts.push(migration.started_s);
      vm.ends.push(migration.ended_s);
      vm.indices.push(i);
      vm.longest = Math.max(vm.longest, migration.ended_s - migration.started_s);
      this.#byVm.set(migration.vm, vm);
    }
  }

  add(request: RequestRecord): void {
    const vm = this.#byVm.get(request.server);
    if (vm === undefined) return;
    let low = 0;
    let high = vm.starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((vm.starts[middle] as number) < request.received_s) low = middle + 1;
      else high = middle;
    }
    // Migrations starting before the request ended; those ending after it was sent overlap it.
    for (let j = low - 1; j >= 0 && (vm.starts[j] as number) > request.sent_s - vm.longest; j--) {
      if ((vm.ends[j] as number) <= request.sent_s) continue;
      const tally = this.#tallies[vm.indices[j] as number];
      if (tally === undefined) continue;
      tally.requests++;
      if (request.status === 'ok') tally.latency.add(request.latency_ms);
      else tally.failed++;
    }
  }

  /** What each migration touched, in the order of the migrations given. */
  result(): TouchedRequests[] {
    return this.#tallies.map(({ requests, failed, latency }) => {
      const stats = latency.stats();
      return { requests, ok: stats.count, failed, latencyMeanMs: stats.mean, latencyMaxMs: stats.max };
    });
  }
}
