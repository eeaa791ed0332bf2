import type { RequestRecord } from '../record/records.ts';
import type { Clock } from '../run/clock.ts';

/** What migration-details.jsonl says, under `integrity`, of what a migration did to the VM's memory. */
export interface MigrationIntegrity {
  /** Requests the VM answered over the migration (their send-to-answer interval overlaps its own) whose data the server checked. */
  checked_requests: number;
  /** Of those, the ones whose server found words of its data wrong, and those words in all. */
  corrupt_requests: number;
  corrupt_words: number;
  /** Requests sent before the migration ended, to any VM, still unanswered when this was written (requests.csv has how they ended). */
  unanswered_requests: number;
  /** The VM answered after the migration; null when nobody asked (the run was interrupted). */
  answered_after: boolean | null;
  /** A corrupt request over the migration, or no answer after it: the VM's memory is in doubt. */
  flagged: boolean;
}

/** The clients' side: how many of their requests sent by then still wait for an answer. */
export interface UnansweredRequests {
  unansweredSentBy(timeS: number): number;
}

type Answer = Pick<RequestRecord, 'sent_s' | 'received_s' | 'corrupt_words'>;

const POLL_SECONDS = 0.1;

/**
 * What the clients' answers say of the VMs' memory across migrations: each migration opens a
 * watch on its VM, which keeps the answers that VM gives until the migration is accounted for.
 */
export class RequestIntegrity {
  private readonly watches = new Set<IntegrityWatch>();
  private readonly loads: UnansweredRequests[] = [];

  constructor(private readonly clock: Clock) {}

  /** Clients whose requests the watches wait for. */
  addLoad(load: UnansweredRequests): void {
    this.loads.push(load);
  }

  /** Hands an answered request to the watches of its VM. */
  record(request: RequestRecord): void {
    for (const watch of this.watches) if (watch.vm === request.server) watch.answers.push(request);
  }

  /** Keeps `vm`'s answers from now on, for a migration starting now; `close` it when done. */
  watch(vm: string): IntegrityWatch {
    const watch = new IntegrityWatch(vm, this.clock, () => this.watches.delete(watch), (timeS) => this.unansweredSentBy(timeS));
    this.watches.add(watch);
    return watch;
  }

  private unansweredSentBy(timeS: number): number {
    return this.loads.reduce((sum, load) => sum + load.unansweredSentBy(timeS), 0);
  }
}

export class IntegrityWatch {
  readonly answers: Answer[] = [];

  constructor(
    readonly vm: string,
    private readonly clock: Clock,
    readonly close: () => void,
    private readonly unansweredSentBy: (timeS: number) => number,
  ) {}

  /**
   * The integrity of the migration over [started_s, ended_s]. When the VM answered after it,
   * first waits up to `waitSeconds` (or until `signal`) for the requests in flight when it
   * ended, so that a request sent during the migration is counted even when it is answered
   * after (a VM that does not answer will not answer them either).
   */
  async settle(
    migration: { started_s: number; ended_s: number },
    answeredAfter: boolean | null,
    waitSeconds: number,
    signal: AbortSignal,
  ): Promise<MigrationIntegrity> {
    const deadline = this.clock.now() + waitSeconds;
    while (answeredAfter === true && !signal.aborted && this.clock.now() < deadline && this.unansweredSentBy(migration.ended_s) > 0) {
      await this.clock.sleepUntil(Math.min(deadline, this.clock.now() + POLL_SECONDS));
    }
    const checked = this.answers.filter(
      (answer) => answer.corrupt_words !== null && answer.received_s > migration.started_s && answer.sent_s < migration.ended_s,
    );
    const corrupt = checked.filter((answer) => (answer.corrupt_words as number) > 0);
    return {
      checked_requests: checked.length,
      corrupt_requests: corrupt.length,
      corrupt_words: corrupt.reduce((sum, answer) => sum + (answer.corrupt_words as number), 0),
      unanswered_requests: this.unansweredSentBy(migration.ended_s),
      answered_after: answeredAfter,
      flagged: corrupt.length > 0 || answeredAfter === false,
    };
  }
}
