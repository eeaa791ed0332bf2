import type { Figure } from '../report/figure.ts';
import type { Table, TableCell } from '../report/table.ts';
import { casesTable, comparisonFigures, errorsTable, passComparison, spreadTables, writeComparisonReport, type CaseSeries, type SummaryRow } from './calibration-report.ts';
import { summarize, type CaseComparison } from './comparison.ts';

/** Measured cases predicted by a saved profile: what `calibrate --check` shows. */
export interface CheckedProfile {
  profile: string;
  /** The profile's values as the sim used them, for the report. */
  values: Record<string, unknown>;
  comparisons: readonly CaseComparison[];
  /** True when the cases come from a grid, whose fit and held-out halves are shown apart. */
  halves: boolean;
}

export function checkCasesTable(check: CheckedProfile): Table {
  return casesTable(check.comparisons, `Measured vs predicted by the sim's ${check.profile} profile, per case`, check.halves);
}

/** Every case, then (from a grid) each half: the fit half is what a profile fitted on that grid saw. */
export function checkSummaries(check: CheckedProfile): SummaryRow[] {
  return [{ label: 'all cases', summary: summarize(check.comparisons) }, ...halvesOf(check).map(({ name, comparisons }) => ({ label: name, summary: summarize(comparisons) }))];
}

function halvesOf(check: CheckedProfile): CaseSeries[] {
  if (!check.halves) return [];
  return [
    { name: 'fit half', comparisons: check.comparisons.filter((c) => c.migrationCase.training) },
    { name: 'held-out half', comparisons: check.comparisons.filter((c) => !c.migrationCase.training) },
  ];
}

export function profileTable(check: CheckedProfile): Table {
  return {
    id: 'calibration-profile',
    title: `The sim's ${check.profile} profile`,
    caption: 'The values the sim predicted every case with, as saved: nothing was fitted to these measurements.',
    columns: [
      { header: 'parameter', kind: 'text' },
      { header: 'value', kind: 'text' },
    ],
    rows: Object.entries(check.values).map(([name, value]): TableCell[] => [name, describeValue(value)]),
  };
}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(Number(value.toPrecision(4)));
  if (value === null) return 'none';
  if (typeof value === 'object') return Object.entries(value).map(([key, inner]) => `${key} ${describeValue(inner)}`).join(', ');
  return String(value);
}

/** Writes the tables, figures and report.html of a check into `outDir` (the passes too where the cases have progress); returns the page's path. */
/** `appCost`: the calibrate --app-cost table, where asked for (after the errors). */
export function writeCheckReport(outDir: string, check: CheckedProfile, about: Table, appCost: readonly Table[] = []): string {
  const series = check.halves ? halvesOf(check) : [{ name: 'cases', comparisons: check.comparisons }];
  const passes = passComparison(series, 'cases of');
  const tables = [
    errorsTable(`Median absolute errors of the sim's ${check.profile} profile`, 'cases of', checkSummaries(check)),
    ...appCost,
    ...passes.tables,
    ...spreadTables(check.comparisons),
    profileTable(check),
    checkCasesTable(check),
  ];
  const figures: Figure[] = [...comparisonFigures(series), ...passes.figures];
  return writeComparisonReport(outDir, `vm-monitoring calibrate --check: the sim's ${check.profile} profile against measurements`, about, tables, figures);
}
