import type { MigrationRecord, RequestRecord } from '../record/records.ts';
import type { FlaggedMigration } from './read-migration-details.ts';

/** What a run's records say of its VMs' memory. */
export interface RunIntegrity {
  /** Answers whose data the server checked (a `corrupt_words` count); none when the platform cannot tell. */
  checkedRequests: number;
  /** Answers whose server found words of its data wrong (status `corrupt`), and those words in all; null when nothing was checked. */
  corruptRequests: number | null;
  corruptWords: number | null;
  /**
   * Migrations over which the VM gave a corrupt answer (the answer's send-to-receive interval
   * overlaps the migration's), or that migration-details.jsonl flags (a corrupt answer, or no
   * answer after it); null when nothing was checked and nothing flagged.
   */
  flaggedMigrations: number | null;
}

/** CSV times have 3 decimals; migration-details.jsonl has them whole. */
const SAME_TIME_S = 0.001;

interface IndexedMigration {
  index: number;
  started_s: number;
  ended_s: number;
}

/** A run's integrity counts, accumulated request by request; linear in the rows, however many are corrupt. */
export class IntegritySummary {
  /** Each VM's migrations by start; a VM moves once at a time, so they are by end too. */
  readonly #byVm = new Map<string, IndexedMigration[]>();
  readonly #flagged = new Set<number>();
  /** Flags of migration-details.jsonl that match no row of migrations.csv: counted all the same. */
  #unmatchedFlags = 0;
  #checked = 0;
  #corruptRequests = 0;
  #corruptWords = 0;

  constructor(migrations: readonly MigrationRecord[], flaggedInDetails: readonly FlaggedMigration[]) {
    const byKey = new Map<string, number[]>();
    migrations.forEach((m, index) => {
      const key = migrationKey(m);
      byKey.set(key, [...(byKey.get(key) ?? []), index]);
      const ofVm = this.#byVm.get(m.vm) ?? [];
      ofVm.push({ index, started_s: m.started_s, ended_s: m.ended_s });
      this.#byVm.set(m.vm, ofVm);
    });
    for (const ofVm of this.#byVm.values()) ofVm.sort((a, b) => a.started_s - b.started_s);
    for (const flag of flaggedInDetails) {
      const index = byKey.get(migrationKey(flag))?.find((i) => Math.abs((migrations[i] as MigrationRecord).requested_s - flag.requested_s) <= SAME_TIME_S);
      if (index === undefined) this.#unmatchedFlags++;
      else this.#flagged.add(index);
    }
  }

  add(request: RequestRecord): void {
    if (request.corrupt_words === null) return;
    this.#checked++;
    if (request.corrupt_words === 0) return;
    this.#corruptRequests++;
    this.#corruptWords += request.corrupt_words;
    const ofVm = this.#byVm.get(request.server) ?? [];
    for (let i = firstEndingAfter(ofVm, request.sent_s); i < ofVm.length && (ofVm[i] as IndexedMigration).started_s < request.received_s; i++) {
      this.#flagged.add((ofVm[i] as IndexedMigration).index);
    }
  }

  result(): RunIntegrity {
    const checked = this.#checked > 0;
    const flagged = this.#flagged.size + this.#unmatchedFlags;
    return {
      checkedRequests: this.#checked,
      corruptRequests: checked ? this.#corruptRequests : null,
      corruptWords: checked ? this.#corruptWords : null,
      flaggedMigrations: checked || flagged > 0 ? flagged : null,
    };
  }
}

function migrationKey(m: { vm: string; source: string; target: string; kind: string }): string {
  return JSON.stringify([m.vm, m.source, m.target, m.kind]);
}

/** The first of `sorted` (by end) that ends after `timeS`: binary search. */
function firstEndingAfter(sorted: readonly IndexedMigration[], timeS: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((sorted[middle] as IndexedMigration).ended_s > timeS) high = middle;
    else low = middle + 1;
  }
  return low;
}
