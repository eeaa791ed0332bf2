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

type Measure = { name: string; value: (result: CaseResult) => number | null };

const MEASURES: Measure[] = [
  { name: 'total time (ms)', value: (r) => r.total_ms },
  { name: 'setup (ms)', value: (r) => r.setup_ms },
  { name: 'downtime (ms)', value: (r) => (r.converged ? r.downtime_ms : null) },
];

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
      'cost spread (the profile\'s costSpread) from each repetition\'s own seed, so a run still replays.',
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
