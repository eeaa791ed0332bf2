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

/** A run's integrity counts, accumulated request by request. */
export class IntegritySummary {
  readonly #migrations: readonly MigrationRecord[];
  readonly #flagged = new Set<number>();
  /** Flags of migration-details.jsonl that match no row of migrations.csv: counted all the same. */
  #unmatchedFlags = 0;
  #checked = 0;
  #corruptRequests = 0;
  #corruptWords = 0;

  constructor(migrations: readonly MigrationRecord[], flaggedInDetails: readonly FlaggedMigration[]) {
    this.#migrations = migrations;
    for (const flag of flaggedInDetails) {
      const index = migrations.findIndex(
        (m) => m.vm === flag.vm && m.source === flag.source && m.target === flag.target && m.kind === flag.kind && Math.abs(m.requested_s - flag.requested_s) <= SAME_TIME_S,
      );
      if (index < 0) this.#unmatchedFlags++;
      else this.#flagged.add(index);
    }
  }

  add(request: RequestRecord): void {
    if (request.corrupt_words === null) return;
    this.#checked++;
    if (request.corrupt_words === 0) return;
    this.#corruptRequests++;
    this.#corruptWords += request.corrupt_words;
    // Corrupt answers are rare: a scan of the migrations for each is cheap.
    this.#migrations.forEach((m, index) => {
      if (m.vm === request.server && request.received_s > m.started_s && request.sent_s < m.ended_s) this.#flagged.add(index);
    });
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
