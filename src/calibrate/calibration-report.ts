import { renderScatterChart } from '../report/charts/scatter-chart.ts';
import type { Figure } from '../report/figure.ts';
import { renderStaticPageHtml } from '../report/static-page.ts';
import { writeReport } from '../report/report-files.ts';
import type { Table, TableCell } from '../report/table.ts';
import { TOOL_VERSION } from '../version.ts';
import type { Calibration } from './calibration.ts';
import { meetsTargets, summarize, TARGETS, type CaseComparison, type ErrorSummary } from './comparison.ts';
import type { ParameterSpec } from './fit.ts';
import { pooledSpreadTable, repeatedCasesOf, spreadTable } from './spread-comparison.ts';
import type { CaseResult, CaseWorkload, MigrationCase } from './migration-case.ts';
import { matchedPassesOf, PROGRESS_POLL_SECONDS, summarizePasses, type Pass } from './pass-comparison.ts';

const MB = 1024 * 1024;

/** (predicted − measured) / measured in percent, signed: the table shows which way the model errs. */
function signedPercent(predicted: number | null, measured: number | null): number | null {
  return predicted === null || measured === null || measured === 0 ? null : ((predicted - measured) / measured) * 100;
}

export function describeWorkload(workload: CaseWorkload): string {
  switch (workload.kind) {
    case 'idle':
      return 'idle';
    case 'memory':
      return `memory ${workload.bufferMB} MB`;
    case 'dirty':
      return `dirty ${workload.rateMBps} MB/s of ${workload.bufferMB} MB`;
    case 'rewrite':
      return `rewrite ${workload.rateMBps} MB/s of a filled ${workload.bufferMB} MB, at random`;
    case 'sweep':
      return `rewrite ${workload.rateMBps} MB/s of a filled ${workload.bufferMB} MB, in page order`;
  }
}

const converged = (result: CaseResult): string => (result.converged ? 'yes' : 'no');

export const CALIBRATION_CASES_TITLE = 'Measured on the qemu lab vs predicted by the sim, per case';

/** The cases' table: `halves` adds the column saying which half of the grid each case is in. */
export function casesTable(comparisons: readonly CaseComparison[], title: string, halves: boolean): Table {
  const half = (c: MigrationCase): TableCell[] => (halves ? [c.training ? 'fit' : 'held out'] : []);
  return {
    id: 'calibration-cases',
    title,
    caption:
      'Each row is one single-VM migration. Errors are (predicted − measured) / measured. ' +
      (halves ? '"fit" cases are the half of the grid a fit uses; "held out" cases are never seen by it. ' : '') +
      'Passes are QEMU\'s dirty-sync-count; downtime is empty where the migration did not converge.',
    columns: [
      { header: 'case', kind: 'text' },
      ...(halves ? [{ header: 'half', kind: 'text' } as const] : []),
      { header: 'RAM (MB)', kind: 'count' },
      { header: 'workload', kind: 'text' },
      { header: 'bandwidth (Mbit/s)', kind: 'count' },
      { header: 'downtime limit (ms)', kind: 'count' },
      { header: 'converged (measured)', kind: 'text' },
      { header: 'converged (predicted)', kind: 'text' },
      { header: 'total (ms, measured)', kind: 'milliseconds' },
      { header: 'total (ms, predicted)', kind: 'milliseconds' },
      { header: 'total error', kind: 'percent-change' },
      { header: 'setup (ms, measured)', kind: 'number' },
      { header: 'setup (ms, predicted)', kind: 'number' },
      { header: 'setup error', kind: 'percent-change' },
      { header: 'downtime (ms, measured)', kind: 'number' },
      { header: 'downtime (ms, predicted)', kind: 'number' },
      { header: 'downtime error', kind: 'percent-change' },
      { header: 'bytes (measured)', kind: 'bytes' },
      { header: 'bytes (predicted)', kind: 'bytes' },
      { header: 'bytes error', kind: 'percent-change' },
      { header: 'passes (measured)', kind: 'count' },
      { header: 'passes (predicted)', kind: 'count' },
    ],
    rows: comparisons.map(({ migrationCase: c, measured, predicted }): TableCell[] => [
      c.id,
      ...half(c),
      c.ramMB,
      describeWorkload(c.workload),
      c.bandwidthMbps,
      c.downtimeLimitMs,
      converged(measured),
      converged(predicted),
      measured.total_ms,
      predicted.total_ms,
      signedPercent(predicted.total_ms, measured.total_ms),
      measured.setup_ms,
      predicted.setup_ms,
      signedPercent(predicted.setup_ms, measured.setup_ms),
      measured.downtime_ms,
      predicted.downtime_ms,
      signedPercent(predicted.downtime_ms, measured.downtime_ms),
      measured.bytes,
      predicted.bytes,
      signedPercent(predicted.bytes, measured.bytes),
      measured.passes,
      predicted.passes,
    ]),
  };
}

/** A row of the errors table: the median errors over some of the cases. */
export interface SummaryRow {
  label: string;
  summary: ErrorSummary;
}

/** Median errors per row of cases, the first column (`labelHeader`) saying which cases. */
export function errorsTable(title: string, labelHeader: string, rows: readonly SummaryRow[]): Table {
  const percent = (value: number | null): number | null => (value === null ? null : value * 100);
  const row = ({ label, summary }: SummaryRow): TableCell[] => [
    label,
    summary.cases,
    percent(summary.totalError),
    percent(summary.setupError),
    percent(summary.bytesError),
    percent(summary.downtimeError),
    summary.downtimeErrorMs,
    summary.passesError,
    summary.convergenceMismatches,
    meetsTargets(summary) ? 'yes' : 'no',
  ];
  return {
    id: 'calibration-errors',
    title,
    caption:
      'Medians of |predicted − measured| over each row\'s cases (in % of measured, downtime also in ms). Targets on cases a fit never saw: ' +
      `total time under ${Math.round(TARGETS.totalError * 1000) / 10} %, bytes under ${Math.round(TARGETS.bytesError * 1000) / 10} %, downtime within ${TARGETS.downtimeErrorMs} ms, no case predicted to converge that did not or the reverse.`,
    columns: [
      { header: labelHeader, kind: 'text' },
      { header: 'cases', kind: 'count' },
      { header: 'total time (%)', kind: 'number' },
      { header: 'setup (%)', kind: 'number' },
      { header: 'bytes (%)', kind: 'number' },
      { header: 'downtime (%)', kind: 'number' },
      { header: 'downtime (ms)', kind: 'number' },
      { header: 'passes', kind: 'number' },
      { header: 'convergence wrong', kind: 'count' },
      { header: 'meets targets', kind: 'text' },
    ],
    rows: rows.map(row),
  };
}

export function parametersTable(calibration: Calibration, parameters: readonly ParameterSpec[]): Table {
  return {
    id: 'calibration-parameters',
    title: 'Fitted parameters of the sim\'s qemu profile',
    caption: `Chosen by differential evolution and Nelder-Mead over ${calibration.fitted.evaluations} evaluations of the sim on the fit half (mean loss ${calibration.fitted.loss.toFixed(3)}).`,
    columns: [
      { header: 'parameter', kind: 'text' },
      { header: 'fitted', kind: 'text' },
      { header: 'searched from', kind: 'text' },
      { header: 'to', kind: 'text' },
    ],
    rows: parameters.map((spec) => [spec.name, (calibration.fitted.values[spec.name] as number).toPrecision(4), String(spec.min), String(spec.max)]),
  };
}

type Metric = { id: string; name: string; unit: string; band: number; value: (result: CaseResult) => number | null };

const METRICS: Metric[] = [
  { id: 'total-time', name: 'total time', unit: 'ms', band: 0.1, value: (r) => r.total_ms },
  { id: 'bytes', name: 'bytes sent', unit: 'MB', band: 0.1, value: (r) => r.bytes / MB },
  { id: 'downtime', name: 'downtime', unit: 'ms', band: 0.25, value: (r) => (r.converged ? r.downtime_ms : null) },
];

/** Cases drawn as one series of the charts. */
export interface CaseSeries {
  name: string;
  comparisons: readonly CaseComparison[];
}

/** One chart per measure, measured against predicted, a series per group of cases. */
export function comparisonFigures(series: readonly CaseSeries[]): Figure[] {
  const pointsOf = (metric: Metric, comparisons: readonly CaseComparison[]): Point[] =>
    comparisons.flatMap(({ measured, predicted }) => {
      const x = metric.value(measured);
      const y = metric.value(predicted);
      return x === null || y === null ? [] : [{ x, y }];
    });
  return METRICS.map((metric) =>
    scatterFigure(
      metric,
      `One point per case; the diagonal is a perfect prediction, the band ±${metric.band * 100} % around it.`,
      series.map(({ name, comparisons }) => ({ name, points: pointsOf(metric, comparisons) })),
    ),
  );
}

type Point = { x: number; y: number };

/** Measured (x) against predicted (y) of one measure, on log axes, with the diagonal and its band. */
function scatterFigure(metric: Omit<Metric, 'value'>, caption: string, series: { name: string; points: Point[] }[]): Figure {
  const title = `Measured vs predicted ${metric.name}`;
  return {
    id: `calibration-${metric.id}`,
    title,
    caption,
    svg: renderScatterChart({
      title,
      xLabel: `measured ${metric.name} (${metric.unit})`,
      yLabel: `predicted ${metric.name} (${metric.unit})`,
      series,
      logScale: true,
      diagonal: { band: metric.band },
    }),
  };
}

type PassMetric = Omit<Metric, 'value'> & { value: (pass: Pass) => number };

const PASS_METRICS: PassMetric[] = [
  { id: 'pass-duration', name: 'pass duration', unit: 's', band: 0.1, value: (pass) => pass.seconds },
  { id: 'pass-bytes', name: 'pass bytes', unit: 'MB', band: 0.1, value: (pass) => pass.bytes / MB },
];

/**
 * Where the cases have progress on both sides: a chart per pass measure (a point per pass
 * known on both sides, a series per group of cases) and the median errors per group. Nothing
 * when no pass is known on both sides.
 */
export function passComparison(series: readonly CaseSeries[], labelHeader: string): { tables: Table[]; figures: Figure[] } {
  const matched = series.map(({ name, comparisons }) => ({ name, passes: comparisons.flatMap(matchedPassesOf) }));
  if (matched.every(({ passes }) => passes.length === 0)) return { tables: [], figures: [] };
  const caption = (metric: PassMetric): string =>
    `One point per pass known on both sides: from the record of its start to that of the next pass (the lab polls every ${PROGRESS_POLL_SECONDS * 1000} ms, ` +
    `so a shorter pass and the one before it are not known, nor the last pass). The diagonal is a perfect prediction, the band ±${metric.band * 100} % around it.`;
  const figures = PASS_METRICS.map((metric) =>
    scatterFigure(
      metric,
      caption(metric),
      matched.map(({ name, passes }) => ({ name, points: passes.map(({ measured, predicted }) => ({ x: metric.value(measured), y: metric.value(predicted) })) })),
    ),
  );
  return { tables: [passErrorsTable(series, labelHeader)], figures };
}

function passErrorsTable(series: readonly CaseSeries[], labelHeader: string): Table {
  const percent = (value: number | null): number | null => (value === null ? null : value * 100);
  return {
    id: 'calibration-pass-errors',
    title: 'Median absolute errors per pass',
    caption:
      'Medians of |predicted − measured| / measured over the passes known on both sides (each from the start of its pass to that of the next), ' +
      'for the cases whose measurement and prediction both have their progress.',
    columns: [
      { header: labelHeader, kind: 'text' },
      { header: 'cases', kind: 'count' },
      { header: 'passes', kind: 'count' },
      { header: 'pass duration (%)', kind: 'number' },
      { header: 'pass bytes (%)', kind: 'number' },
    ],
    rows: series.map(({ name, comparisons }): TableCell[] => {
      const summary = summarizePasses(comparisons);
      return [name, summary.cases, summary.passes, percent(summary.durationError), percent(summary.bytesError)];
    }),
  };
}

/** Writes tables, figures and the report.html showing them into `outDir`; returns the page's path. */
export function writeComparisonReport(outDir: string, title: string, about: Table, tables: readonly Table[], figures: readonly Figure[]): string {
  const madeBy = { version: TOOL_VERSION, command: undefined };
  return writeReport(outDir, { tables, figures, html: renderStaticPageHtml({ title, about, tables: [...tables], figures: [...figures], madeBy }) });
}

/**
 * Writes the tables, figures and report.html of a calibration into `outDir`; returns the page's
 * path. With several grids, each grid's held-out cases also get their own row and series.
 * Where the cases have progress, the passes are compared too (passComparison). `appCost`: the
 * calibrate --app-cost table, where asked for (after the errors).
 */
export function writeCalibrationReport(
  outDir: string,
  calibration: Calibration,
  parameters: readonly ParameterSpec[],
  about: Table,
  grids: readonly CaseSeries[] = [],
  appCost: readonly Table[] = [],
): string {
  const byHalf = (training: boolean): readonly CaseComparison[] => calibration.comparisons.filter((c) => c.migrationCase.training === training);
  const heldOutByGrid = heldOutOf(grids);
  const heldOutSeries = heldOutByGrid.length > 1 ? heldOutByGrid.map(({ name, comparisons }) => ({ name: `held out: ${name}`, comparisons })) : [{ name: 'held-out cases', comparisons: byHalf(false) }];
  const series = [{ name: 'fit cases', comparisons: byHalf(true) }, ...heldOutSeries];
  const passes = passComparison(series, 'half');
  const tables = [
    errorsTable('Median absolute errors of the fitted sim', 'half', [
      { label: 'fit', summary: calibration.training },
      { label: 'held out', summary: calibration.heldOut },
      ...heldOutByGrid.map(({ name, comparisons }) => ({ label: `held out: ${name}`, summary: summarize(comparisons) })),
    ]),
    ...appCost,
    ...passes.tables,
    ...spreadTables(calibration.comparisons),
    parametersTable(calibration, parameters),
    casesTable(calibration.comparisons, CALIBRATION_CASES_TITLE, true),
  ];
  const figures = [...comparisonFigures(series), ...passes.figures];
  return writeComparisonReport(outDir, 'vm-monitoring calibration: the sim against the qemu lab', about, tables, figures);
}

/** The spread of repeated cases, where a grid repeats its cases. */
export function spreadTables(comparisons: readonly CaseComparison[]): Table[] {
  const repeated = repeatedCasesOf(comparisons);
  return repeated.length > 0 ? [spreadTable(repeated), pooledSpreadTable(repeated)] : [];
}

/** Each grid's held-out cases, for grids that have some, when there are several grids. */
function heldOutOf(grids: readonly CaseSeries[]): CaseSeries[] {
  if (grids.length < 2) return [];
  return grids.flatMap(({ name, comparisons }) => {
    const heldOut = comparisons.filter((c) => !c.migrationCase.training);
    return heldOut.length > 0 ? [{ name, comparisons: heldOut }] : [];
  });
}
