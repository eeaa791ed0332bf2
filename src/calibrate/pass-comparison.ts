import { median } from '../report/statistics.ts';
import type { CasePassProgress, CaseResult } from './migration-case.ts';

/** One pass over memory, as the progress records that begin it and the next pass bracket it. */
export interface Pass {
  /** QEMU's dirty-sync-count while the pass ran. */
  pass: number;
  seconds: number;
  bytes: number;
}

export interface MatchedPass {
  pass: number;
  measured: Pass;
  predicted: Pass;
}

/** Median errors of pass durations and bytes over the matched passes of some cases. */
export interface PassErrorSummary {
  /** Cases with progress on both sides. */
  cases: number;
  /** Passes known on both sides, over those cases. */
  passes: number;
  /** Medians of |predicted − measured| / measured; null where no pass has a measured value above 0. */
  durationError: number | null;
  bytesError: number | null;
}

/**
 * How often the qemu lab polls query-migrate (guestperf's 50 ms, the qemu platform's default
 * pollMs): each measured record is up to this late, so a pass's duration, and what the stream
 * sends in it, are uncertain by about this much.
 */
export const PROGRESS_POLL_SECONDS = 0.05;

/**
 * A migration's progress as a case keeps it, from the qemu lab's records of query-migrate:
 * those of passes under way and the last one of a completed migration. A cancelled or failed
 * migration's end record has no RAM figures, and the setup record no pass.
 */
export function caseProgressOf(records: readonly (CasePassProgress & { status: string })[]): CasePassProgress[] {
  return records
    .filter(({ status }) => status === 'active' || status === 'completed')
    .map(({ at_s, pass, transferred, remaining }) => ({ at_s, pass, transferred, remaining }));
}

/**
 * The passes a migration's progress shows whole: pass k from its record to the next record,
 * which must be pass k + 1. A pass shorter than the poll has no record, so neither it nor the
 * one before it is known; nor is the last pass, which no record of a next pass ends.
 */
export function passesOf(progress: readonly CasePassProgress[]): Pass[] {
  const passes: Pass[] = [];
  for (let index = 1; index < progress.length; index++) {
    const start = progress[index - 1] as CasePassProgress;
    const end = progress[index] as CasePassProgress;
    if (end.pass === start.pass + 1) passes.push({ pass: start.pass, seconds: end.at_s - start.at_s, bytes: end.transferred - start.transferred });
  }
  return passes;
}

/** The passes known on both sides, by pass number, in the measured order. */
export function matchPasses(measured: readonly Pass[], predicted: readonly Pass[]): MatchedPass[] {
  const predictedByPass = new Map(predicted.map((pass) => [pass.pass, pass]));
  return measured.flatMap((pass) => {
    const other = predictedByPass.get(pass.pass);
    return other ? [{ pass: pass.pass, measured: pass, predicted: other }] : [];
  });
}

/** A case's matched passes; none unless both its measurement and its prediction have progress. */
export function matchedPassesOf({ measured, predicted }: { measured: CaseResult; predicted: CaseResult }): MatchedPass[] {
  if (!measured.progress || !predicted.progress) return [];
  return matchPasses(passesOf(measured.progress), passesOf(predicted.progress));
}

export function summarizePasses(comparisons: readonly { measured: CaseResult; predicted: CaseResult }[]): PassErrorSummary {
  const withProgress = comparisons.filter(({ measured, predicted }) => measured.progress && predicted.progress);
  const matched = withProgress.flatMap(matchedPassesOf);
  const medianOf = (pick: (pass: Pass) => number): number | null =>
    median(matched.flatMap(({ measured, predicted }) => (pick(measured) > 0 ? [Math.abs(pick(predicted) - pick(measured)) / pick(measured)] : [])));
  return {
    cases: withProgress.length,
    passes: matched.length,
    durationError: medianOf((pass) => pass.seconds),
    bytesError: medianOf((pass) => pass.bytes),
  };
}

/**
 * The shortest measured pass the fit compares: its two records are each up to a poll late, so
 * 5 polls measure a pass to within 20 %. Shorter ones (a sync or two as a migration ends) come
 * and go as the parameters move, and would make the loss jump where the totals barely change.
 */
export const SHORTEST_COMPARED_PASS_SECONDS = 5 * PROGRESS_POLL_SECONDS;

/**
 * The mean over the matched passes measured to last SHORTEST_COMPARED_PASS_SECONDS or more of
 * |log(predicted / measured)| of the duration plus that of the bytes, each side with a floor
 * of what one poll means (PROGRESS_POLL_SECONDS, and what the case's cap sends in it), so
 * that a pass predicted to be nearly empty weighs as a bounded error; null without such passes.
 */
export function meanPassLogError(matched: readonly MatchedPass[], bandwidthMbps: number): number | null {
  const compared = matched.filter(({ measured }) => measured.seconds >= SHORTEST_COMPARED_PASS_SECONDS);
  if (compared.length === 0) return null;
  const bytesFloor = ((bandwidthMbps * 1e6) / 8) * PROGRESS_POLL_SECONDS;
  const logRatio = (predicted: number, measured: number, floor: number): number => Math.abs(Math.log((Math.max(predicted, 0) + floor) / (Math.max(measured, 0) + floor)));
  const sum = compared.reduce(
    (total, { measured, predicted }) => total + logRatio(predicted.seconds, measured.seconds, PROGRESS_POLL_SECONDS) + logRatio(predicted.bytes, measured.bytes, bytesFloor),
    0,
  );
  return sum / compared.length;
}
