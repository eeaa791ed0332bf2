import { median } from '../report/statistics.ts';
import type { CaseResult, MigrationCase } from './migration-case.ts';

/** Setups shorter than this (the word-wise sync's 0-3 ms, which QEMU gives in whole ms) have no relative error worth a median. */
const SETUP_ERROR_FLOOR_MS = 10;

/** Added to both downtimes in the fit's loss, so that a few ms of noise on a 2 ms downtime does not weigh like a factor of two. */
export const DOWNTIME_FLOOR_MS = 20;

export interface CaseComparison {
  migrationCase: MigrationCase;
  measured: CaseResult;
  predicted: CaseResult;
  /** |predicted − measured| / measured; null where a side has no value. */
  totalError: number | null;
  /** Of QEMU's setup-time, where both sides have it and it took at least SETUP_ERROR_FLOOR_MS. */
  setupError: number | null;
  bytesError: number | null;
  downtimeError: number | null;
  /** |predicted − measured| in ms, where both converged. */
  downtimeErrorMs: number | null;
  passesError: number | null;
  convergenceAgrees: boolean;
}

export interface ErrorSummary {
  cases: number;
  /** Medians of the absolute errors above, over the cases that have them. */
  totalError: number | null;
  setupError: number | null;
  bytesError: number | null;
  downtimeError: number | null;
  downtimeErrorMs: number | null;
  passesError: number | null;
  convergenceMismatches: number;
}

export function compareCase(migrationCase: MigrationCase, measured: CaseResult, predicted: CaseResult): CaseComparison {
  const bothConverged = measured.converged && predicted.converged;
  const downtime = bothConverged && measured.downtime_ms !== null && predicted.downtime_ms !== null;
  return {
    migrationCase,
    measured,
    predicted,
    totalError: relativeError(predicted.total_ms, measured.total_ms),
    setupError: measured.setup_ms != null && measured.setup_ms >= SETUP_ERROR_FLOOR_MS && predicted.setup_ms != null ? relativeError(predicted.setup_ms, measured.setup_ms) : null,
    bytesError: relativeError(predicted.bytes, measured.bytes),
    downtimeError: downtime ? relativeError(predicted.downtime_ms as number, measured.downtime_ms as number) : null,
    downtimeErrorMs: downtime ? Math.abs((predicted.downtime_ms as number) - (measured.downtime_ms as number)) : null,
    passesError: bothConverged ? Math.abs(predicted.passes - measured.passes) : null,
    convergenceAgrees: measured.converged === predicted.converged,
  };
}

export function summarize(comparisons: readonly CaseComparison[]): ErrorSummary {
  const medianOf = (pick: (comparison: CaseComparison) => number | null): number | null =>
    median(comparisons.map(pick).filter((value): value is number => value !== null));
  return {
    cases: comparisons.length,
    totalError: medianOf((c) => c.totalError),
    setupError: medianOf((c) => c.setupError),
    bytesError: medianOf((c) => c.bytesError),
    downtimeError: medianOf((c) => c.downtimeError),
    downtimeErrorMs: medianOf((c) => c.downtimeErrorMs),
    passesError: medianOf((c) => c.passesError),
    convergenceMismatches: comparisons.filter((c) => !c.convergenceAgrees).length,
  };
}

/** The accuracy the sim must reach on migrations it was not fitted to (median absolute errors). */
export const TARGETS = { totalError: 0.07, bytesError: 0.05, downtimeErrorMs: 5 } as const;

/** Total time under 7 %, bytes under 5 %, downtime within 5 ms, convergence always right. */
export function meetsTargets(summary: ErrorSummary): boolean {
  const within = (value: number | null, limit: number): boolean => value === null || value < limit;
  return (
    within(summary.totalError, TARGETS.totalError) &&
    within(summary.bytesError, TARGETS.bytesError) &&
    within(summary.downtimeErrorMs, TARGETS.downtimeErrorMs) &&
    summary.convergenceMismatches === 0
  );
}

/** One line for a person: the median errors, and whether they meet the targets. */
export function describeSummary(summary: ErrorSummary): string {
  const percent = (value: number | null): string => (value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`);
  return (
    `${summary.cases} cases, median |error| total time ${percent(summary.totalError)}${summary.setupError === null ? '' : `, setup ${percent(summary.setupError)}`}, bytes ${percent(summary.bytesError)}, ` +
    `downtime ${percent(summary.downtimeError)} (${summary.downtimeErrorMs?.toFixed(1) ?? 'n/a'} ms), passes ${summary.passesError?.toFixed(1) ?? 'n/a'}, ` +
    `convergence wrong in ${summary.convergenceMismatches}; targets ${meetsTargets(summary) ? 'met' : 'NOT met'}`
  );
}

function relativeError(predicted: number, measured: number): number | null {
  return measured > 0 ? Math.abs(predicted - measured) / measured : null;
}
