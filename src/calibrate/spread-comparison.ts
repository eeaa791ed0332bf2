import type { Table, TableCell } from '../report/table.ts';
import type { CaseComparison } from './comparison.ts';
import type { CaseResult, MigrationCase } from './migration-case.ts';

/** The repetitions of one case, measured and predicted. */
export interface RepeatedCase {
  /** The case's id without its repetition's suffix. */
  id: string;
  comparisons: CaseComparison[];
}

const QUANTILES = [0.1, 0.5, 0.9] as const;

/** A repetition's case: its id without the repetition's suffix. */
export function repeatedCaseIdOf(migrationCase: MigrationCase): string {
  return migrationCase.id.replace(/-r\d+$/, '');
}

/** The cases of a grid that repeats them, grouped by case; none where nothing repeats. */
export function repeatedCasesOf(comparisons: readonly CaseComparison[]): RepeatedCase[] {
  const groups = new Map<string, CaseComparison[]>();
  for (const comparison of comparisons) {
    if (comparison.migrationCase.repetition === undefined) continue;
    const base = repeatedCaseIdOf(comparison.migrationCase);
    groups.set(base, [...(groups.get(base) ?? []), comparison]);
  }
  return [...groups].filter(([, group]) => group.length > 1).map(([id, group]) => ({ id, comparisons: group }));
}

/** The q-quantile of `values` by linear interpolation between the closest ranks; null for none. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return (sorted[below] as number) + (rank - below) * ((sorted[above] as number) - (sorted[below] as number));
}

type Measure = { name: string; value: (result: CaseResult) => number | null; unit: 'ms' | '%' };

const MEASURES: Measure[] = [
  { name: 'total time (ms)', value: (r) => r.total_ms, unit: '%' },
  { name: 'setup (ms)', value: (r) => r.setup_ms, unit: '%' },
  { name: 'downtime (ms)', value: (r) => (r.converged ? r.downtime_ms : null), unit: 'ms' },
];

/** A predicted spread agrees with a measured one when its 10th-90th percentile span is within this factor of it, either way. */
export const SPREAD_AGREEMENT_FACTOR = 2;

function spread(values: readonly (number | null)[]): string {
  const known = values.filter((value): value is number => value !== null);
  if (known.length === 0) return '';
  return QUANTILES.map((q) => (quantile(known, q) as number).toFixed(0)).join(' / ');
}

/** For each repeated case: the 10th, 50th and 90th percentiles of each measure, measured and predicted. */
export function spreadTable(repeated: readonly RepeatedCase[]): Table {
  return {
    id: 'calibration-spread',
    title: 'How much the same migration varies, measured and predicted',
    caption:
      'Each case repeated, the 10th / 50th / 90th percentiles over its repetitions. The sim draws a migration\'s ' +
      'spreads (the profile\'s costSpread and switchoverStallSeconds) from each repetition\'s own seed, so a run still replays.',
    columns: [
      { header: 'case', kind: 'text' },
      { header: 'repetitions', kind: 'count' },
      ...MEASURES.flatMap(({ name }) => [
        { header: `${name}, measured`, kind: 'text' as const },
        { header: `${name}, predicted`, kind: 'text' as const },
      ]),
    ],
    rows: repeated.map(({ id, comparisons }): TableCell[] => [
      id,
      comparisons.length,
      ...MEASURES.flatMap(({ value }) => [spread(comparisons.map((c) => value(c.measured))), spread(comparisons.map((c) => value(c.predicted)))]),
    ]),
  };
}

/**
 * Each repetition's `measure` around its case's median (in % of it, or in ms), over every
 * repeated case: the spread of one migration from the next, pooled so that a few cases of a
 * few repetitions each say more than any one of them.
 */
function deviations(repeated: readonly RepeatedCase[], { value, unit }: Measure, side: 'measured' | 'predicted'): number[] {
  return repeated.flatMap(({ comparisons }) => {
    const values = comparisons.map((c) => value(c[side])).filter((v): v is number => v !== null);
    const middle = quantile(values, 0.5);
    if (middle === null || (unit === '%' && middle <= 0)) return [];
    return values.map((v) => (unit === '%' ? (v / middle - 1) * 100 : v - middle));
  });
}

/** Per measure, the pooled spread measured and predicted, their 10th-90th percentile spans and whether they agree. */
export function pooledSpreadTable(repeated: readonly RepeatedCase[]): Table {
  const percentiles = (values: readonly number[]): string => QUANTILES.map((q) => (quantile(values, q) as number).toFixed(1)).join(' / ');
  const span = (values: readonly number[]): number => (quantile(values, 0.9) as number) - (quantile(values, 0.1) as number);
  return {
    id: 'calibration-spread-pooled',
    title: 'How much one migration differs from the next, measured and predicted, over every repeated case',
    caption:
      'Each repetition against its case\'s median (total time and setup in %, downtime in ms), pooled over the repeated cases: ' +
      'the 10th / 50th / 90th percentiles, the span from the 10th to the 90th, and whether the predicted span is within a ' +
      `factor of ${SPREAD_AGREEMENT_FACTOR} of the measured one. The sim's spread: the profile's costSpread (a log-normal factor ` +
      'on each migration\'s CPU-bound work) and switchoverStallSeconds (an exponential wait at the stop).',
    columns: [
      { header: 'measure', kind: 'text' },
      { header: 'repetitions', kind: 'count' },
      { header: 'measured', kind: 'text' },
      { header: 'predicted', kind: 'text' },
      { header: 'span, measured', kind: 'number' },
      { header: 'span, predicted', kind: 'number' },
      { header: 'spreads agree', kind: 'text' },
    ],
    rows: MEASURES.flatMap((measure): TableCell[][] => {
      const measured = deviations(repeated, measure, 'measured');
      const predicted = deviations(repeated, measure, 'predicted');
      if (measured.length === 0 || predicted.length === 0) return [];
      const [measuredSpan, predictedSpan] = [span(measured), span(predicted)];
      const agree = predictedSpan <= measuredSpan * SPREAD_AGREEMENT_FACTOR && measuredSpan <= predictedSpan * SPREAD_AGREEMENT_FACTOR;
      return [[`${measure.name.replace(/ \(ms\)$/, '')} (${measure.unit})`, measured.length, percentiles(measured), percentiles(predicted), measuredSpan, predictedSpan, agree ? 'yes' : 'no']];
    }),
  };
}
