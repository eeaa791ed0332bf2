/**
 * One single-VM migration of the calibration grid, and what was measured or predicted of it.
 * Plain data: the qemu lab measures cases, the sim predicts them, the same way.
 */

/** What the guest does while it migrates. */
export type CaseWorkload =
  | { kind: 'idle' }
  /** The seed's `memory` app in a closed loop: fill a buffer of `bufferMB`, sleep `sleepMs`, free it, again. */
  | { kind: 'memory'; bufferMB: number; sleepMs: number }
  /** The guest dirtier: rewrites pages of a `bufferMB` buffer at a fixed `rateMBps`. */
  | { kind: 'dirty'; bufferMB: number; rateMBps: number }
  /** The guest's /rewrite: fills a `bufferMB` buffer with non-zero data, then rewrites `rateMBps` of its pages, each drawn at random. */
  | { kind: 'rewrite'; bufferMB: number; rateMBps: number }
  /** The guest's /rewrite in page order: fills a `bufferMB` buffer with non-zero data, then rewrites `rateMBps` of its pages, cycling through them. */
  | { kind: 'sweep'; bufferMB: number; rateMBps: number };

export interface MigrationCase {
  /** Unique and readable, e.g. `ram256-dirty64x40-bw300-dl100`. */
  id: string;
  ramMB: number;
  /**
   * The guest's exact RAM where it is not `ramMB` whole MiB: QEMU 7.2 under TCG syncs its
   * dirty bitmap page by page unless the RAM is a multiple of 256 KiB (docs/qemu-7.2-precopy-rules.md).
   */
  ramKiB?: number;
  workload: CaseWorkload;
  /** QEMU's max-bandwidth, in Mbit/s. */
  bandwidthMbps: number;
  /** QEMU's downtime-limit. */
  downtimeLimitMs: number;
  /** True for cases the fit may use; false for the held-out half. */
  training: boolean;
  /** Which of a case's repetitions this is (from 1), where its grid repeats it. */
  repetition?: number;
  /** What the measured guest did on the QEMU process it migrated from, where the measurement says (src/calibrate/source-process.ts). */
  sourceProcess?: SourceProcess;
}

/**
 * The QEMU process a case's guest migrated from, as far as its TCG TLB goes: whether it still
 * had the TLB its boot left (it booted the guest and no migration had started from it), and
 * the buffers, in MB, the guest freed on it since (its earlier cases' workloads ended there).
 */
export interface SourceProcess {
  booted: boolean;
  freedMB: readonly number[];
}

/**
 * What the qemu lab adds to a TCG guest's whole-MiB RAM, so that QEMU 7.2 takes its per-page
 * bitmap sync rather than the fast path that loses dirty pages (src/platforms/qemu/lab.ts).
 */
export const LAB_TCG_RAM_PADDING_KIB = 8;

/** The case's guest RAM in KiB, exactly. */
export function ramKiBOf(migrationCase: MigrationCase): number {
  return migrationCase.ramKiB ?? migrationCase.ramMB * 1024;
}

/** How every case of a grid is run. */
export interface CaseSettings {
  /** The workload runs this long before the migration starts. */
  warmupSeconds: number;
  /** A migration still in pre-copy after this long is cancelled: the case does not converge. */
  convergenceTimeoutSeconds: number;
}

export interface CaseResult {
  id: string;
  /** False when the migration was cancelled for not converging within the timeout. */
  converged: boolean;
  /** From the `migrate` command to completion (QEMU's total-time), or to the cancellation. */
  total_ms: number;
  /** How long the VM was stopped; null when it did not converge. */
  downtime_ms: number | null;
  setup_ms: number | null;
  bytes: number;
  /** Passes over memory, counted as QEMU's dirty-sync-count. */
  passes: number;
  /** Why the migration did not complete, or ''. */
  reason: string;
  /** Where the migration stood as each pass began, when known (not a column of the results files). */
  progress?: readonly CasePassProgress[];
  /** The QEMU processes it migrated between (their pids), when known (not a column either). */
  processes?: { source: number; target: number };
}

/**
 * A record of a migration's progress: seconds since its start, the pass (QEMU's
 * dirty-sync-count), bytes sent so far and bytes still pending, as QEMU's query-migrate gives them.
 */
export interface CasePassProgress {
  at_s: number;
  pass: number;
  transferred: number;
  remaining: number;
}

/** Something that runs cases: the qemu lab measures them, the sim predicts them. */
export interface CaseRunner {
  run(migrationCase: MigrationCase, signal: AbortSignal): Promise<CaseResult>;
  close(): Promise<void>;
}

/** A case as a measured file gives it: what was run, how, and what was measured. */
export interface MeasuredCase {
  migrationCase: MigrationCase;
  settings: CaseSettings;
  measured: CaseResult;
}
