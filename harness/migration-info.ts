import type { QmpReturn } from './qmp-client.ts';

/** One record of a migration's progress, as calibrate's measured-details.jsonl keeps them. */
export interface ProgressRecord {
  /** Seconds from the `migrate` command to this query-migrate's answer. */
  at_s: number;
  status: string;
  /** QEMU's dirty-sync-count: the pass over RAM under way. */
  pass: number;
  transferred: number;
  remaining: number;
  total: number;
  duplicate_pages: number;
  normal_pages: number;
  dirty_pages_rate: number;
  mbps: number;
  expected_downtime_ms: number | null;
}

/** The parts of query-migrate's answer (QEMU 7.2's MigrationInfo) the harness reads. */
export interface MigrationInfo {
  status: string;
  totalTimeMs: number | null;
  downtimeMs: number | null;
  setupTimeMs: number | null;
  expectedDowntimeMs: number | null;
  /** Absent while setting up and once cancelled or failed. */
  ram: { transferred: number; remaining: number; total: number; duplicate: number; normal: number; dirtyPagesRate: number; mbps: number; dirtySyncCount: number } | null;
  errorDescription: string | null;
}

export function migrationInfoOf(answer: QmpReturn): MigrationInfo {
  const ram = answer.ram as Record<string, number> | undefined;
  return {
    status: typeof answer.status === 'string' ? answer.status : 'none',
    totalTimeMs: numberOrNull(answer['total-time']),
    downtimeMs: numberOrNull(answer.downtime),
    setupTimeMs: numberOrNull(answer['setup-time']),
    expectedDowntimeMs: numberOrNull(answer['expected-downtime']),
    ram: ram
      ? {
          transferred: ram.transferred ?? 0,
          remaining: ram.remaining ?? 0,
          total: ram.total ?? 0,
          duplicate: ram.duplicate ?? 0,
          normal: ram.normal ?? 0,
          dirtyPagesRate: ram['dirty-pages-rate'] ?? 0,
          mbps: ram.mbps ?? 0,
          dirtySyncCount: ram['dirty-sync-count'] ?? 0,
        }
      : null,
    errorDescription: typeof answer['error-desc'] === 'string' ? answer['error-desc'] : null,
  };
}

/** The record of `info` at `atSeconds`; a status without RAM figures (cancelled, failed) records zeros, as calibrate's lab does. */
export function progressRecordOf(info: MigrationInfo, atSeconds: number): ProgressRecord {
  const ram = info.ram;
  return {
    at_s: atSeconds,
    status: info.status,
    pass: ram?.dirtySyncCount ?? 0,
    transferred: ram?.transferred ?? 0,
    remaining: ram?.remaining ?? 0,
    total: ram?.total ?? 0,
    duplicate_pages: ram?.duplicate ?? 0,
    normal_pages: ram?.normal ?? 0,
    dirty_pages_rate: ram?.dirtyPagesRate ?? 0,
    mbps: ram?.mbps ?? 0,
    expected_downtime_ms: info.status === 'active' ? info.expectedDowntimeMs : null,
  };
}

/** Migration statuses after which nothing changes. */
export function isFinished(status: string): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
