/**
 * The project's calibration cases as SimGrid migrations, and SimGrid's outcomes as the case
 * results the calibration compares (src/calibrate/comparison.ts). What SimGrid's model has
 * no counterpart for is left out, as README.md says: the workload is a dirty rate over a
 * working set, nothing else.
 */
import { ramKiBOf, type CaseResult, type CaseSettings, type CaseWorkload, type MigrationCase } from '../../../src/calibrate/migration-case.ts';
import type { SimgridCase, SimgridOutcome } from './peer.ts';

/** The grids' MB are MiB, RAM, buffers and rates alike (guest/server.c, the sim's calibration runner). */
const MIB = 1024 * 1024;
/** Mbit/s as QEMU's max-bandwidth reads it: 10^6 bits. */
const bytesPerSecondOfMbps = (mbps: number): number => (mbps * 1e6) / 8;

export function simgridCaseOf(migrationCase: MigrationCase, settings: CaseSettings): SimgridCase {
  const { dirtyBytesPerSecond, workingSetBytes } = dirtyingOf(migrationCase.workload);
  return {
    id: migrationCase.id,
    ramBytes: ramKiBOf(migrationCase) * 1024,
    maxBandwidthBytesPerSecond: bytesPerSecondOfMbps(migrationCase.bandwidthMbps),
    workingSetBytes,
    dirtyBytesPerSecond,
    downtimeLimitSeconds: migrationCase.downtimeLimitMs / 1000,
    timeoutSeconds: settings.convergenceTimeoutSeconds,
  };
}

/** Idle and a held buffer dirty nothing; the dirtier, the rewriter and the sweep dirty their rate over their buffer. */
function dirtyingOf(workload: CaseWorkload): { dirtyBytesPerSecond: number; workingSetBytes: number } {
  switch (workload.kind) {
    case 'idle':
    case 'memory':
      return { dirtyBytesPerSecond: 0, workingSetBytes: 0 };
    case 'dirty':
    case 'rewrite':
    case 'sweep':
      return { dirtyBytesPerSecond: workload.rateMBps * MIB, workingSetBytes: workload.bufferMB * MIB };
  }
}

export function caseResultOf(outcome: SimgridOutcome): CaseResult {
  return {
    id: outcome.id,
    converged: outcome.converged,
    total_ms: outcome.totalSeconds * 1000,
    downtime_ms: outcome.downtimeSeconds === null ? null : outcome.downtimeSeconds * 1000,
    // The plugin has no setup: its first transfer starts at once.
    setup_ms: null,
    bytes: outcome.bytes,
    passes: outcome.passes,
    reason: outcome.converged ? '' : 'SimGrid: pre-copy not over within the timeout',
  };
}
