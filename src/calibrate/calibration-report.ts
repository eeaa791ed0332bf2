import { renderScatterChart } from '../report/charts/scatter-chart.ts';
import { renderReportHtml, type Figure } from '../report/html-page.ts';
import { createOutputDirectory, writeFigure, writeReportFile, writeTable } from '../report/report-files.ts';
import type { Table, TableCell } from '../report/table.ts';
import type { Calibration } from './calibration.ts';
import { DOWNTIME_FLOOR_MS, meetsTargets, type CaseComparison, type ErrorSummary } from './comparison.ts';
import type { ParameterSpec } from './fit.ts';
import type { CaseResult, CaseWorkload } from './migration-case.ts';

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
  }
}

const converged = (result: CaseResult): string => (result.converged ? 'yes' : 'no');

export function casesTable(calibration: Calibration): Table {
  return {
    id: 'calibration-cases',
    title: 'Measured on the qemu lab vs predicted by the sim, per case',
    caption:
      'Each row is one single-VM migration. Errors are (predicted − measured) / measured. "fit" cases fitted the model; ' +
      '"held out" cases were never seen by the fit. Passes are QEMU\'s dirty-sync-count; downtime is empty where the migration did not converge.',
    columns: [
      { header: 'case', kind: 'text' },
      { header: 'half', kind: 'text' },
      { header: 'RAM (MB)', kind: 'count' },
      { header: 'workload', kind: 'text' },
      { header: 'bandwidth (Mbit/s)', kind: 'count' },
      { header: 'downtime limit (ms)', kind: 'count' },
      { header: 'converged (measured)', kind: 'text' },
      { header: 'converged (predicted)', kind: 'text' },
      { header: 'total (ms, measured)', kind: 'milliseconds' },
      { header: 'total (ms, predicted)', kind: 'milliseconds' },
      { header: 'total error', kind: 'percent-change' },
      { header: 'downtime (ms, measured)', kind: 'number' },
      { header: 'downtime (ms, predicted)', kind: 'number' },
      { header: 'downtime error', kind: 'percent-change' },
      { header: 'bytes (measured)', kind: 'bytes' },
      { header: 'bytes (predicted)', kind: 'bytes' },
      { header: 'bytes error', kind: 'percent-change' },
      { header: 'passes (measured)', kind: 'count' },
      { header: 'passes (predicted)', kind: 'count' },
    ],
    rows: calibration.comparisons.map(({ migrationCase: c, measured, predicted }): TableCell[] => [
      c.id,
      c.training ? 'fit' : 'held out',
      c.ramMB,
      describeWorkload(c.workload),
      c.bandwidthMbps,
      c.downtimeLimitMs,
      converged(measured),
      converged(predicted),
      measured.total_ms,
      predicted.total_ms,
      signedPercent(predicted.total_ms, measured.total_ms),
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

export function errorsTable(calibration: Calibration): Table {
  const percent = (value: number | null): number | null => (value === null ? null : value * 100);
  const row = (half: string, summary: ErrorSummary): TableCell[] => [
    half,
    summary.cases,
    percent(summary.totalError),
    percent(summary.bytesError),
    percent(summary.downtimeError),
    summary.downtimeErrorMs,
    summary.passesError,
    summary.convergenceMismatches,
    meetsTargets(summary) ? 'yes' : 'no',
  ];
  return {
    id: 'calibration-errors',
    title: 'Median absolute errors of the fitted sim',
    caption:
      'Medians over each half of |predicted − measured| (in % of measured, downtime also in ms). Targets on the held-out half: ' +
      `total time and bytes under 10 %, downtime under 25 % or ${DOWNTIME_FLOOR_MS} ms, no case predicted to converge that did not or the reverse.`,
    columns: [
      { header: 'half', kind: 'text' },
      { header: 'cases', kind: 'count' },
      { header: 'total time (%)', kind: 'number' },
      { header: 'bytes (%)', kind: 'number' },
      { header: 'downtime (%)', kind: 'number' },
      { header: 'downtime (ms)', kind: 'number' },
      { header: 'passes', kind: 'number' },
      { header: 'convergence wrong', kind: 'count' },
      { header: 'meets targets', kind: 'text' },
    ],
    rows: [row('fit', calibration.training), row('held out', calibration.heldOut)],
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

export function comparisonFigures(calibration: Calibration): Figure[] {
  const pointsOf = (metric: Metric, comparisons: CaseComparison[]): { x: number; y: number }[] =>
    comparisons.flatMap(({ measured, predicted }) => {
      const x = metric.value(measured);
      const y = metric.value(predicted);
      return x === null || y === null ? [] : [{ x, y }];
    });
  return METRICS.map((metric) => {
    const title = `Measured vs predicted ${metric.name}`;
    return {
      id: `calibration-${metric.id}`,
      title,
      caption: `One point per case; the diagonal is a perfect prediction, the band ±${metric.band * 100} % around it.`,
      svg: renderScatterChart({
        title,
        xLabel: `measured ${metric.name} (${metric.unit})`,
        yLabel: `predicted ${metric.name} (${metric.unit})`,
        series: [
          { name: 'fit cases', points: pointsOf(metric, calibration.comparisons.filter((c) => c.migrationCase.training)) },
          { name: 'held-out cases', points: pointsOf(metric, calibration.comparisons.filter((c) => !c.migrationCase.training)) },
        ],
        logScale: true,
        diagonal: { band: metric.band },
      }),
    };
  });
}

/** Writes the tables, figures and report.html of a calibration into `outDir`; returns the page's path. */
export function writeCalibrationReport(outDir: string, calibration: Calibration, parameters: readonly ParameterSpec[], about: Table): string {
  createOutputDirectory(outDir);
  const tables = [errorsTable(calibration), parametersTable(calibration, parameters), casesTable(calibration)];
  const figures = comparisonFigures(calibration);
  for (const table of tables) writeTable(outDir, table);
  for (const figure of figures) writeFigure(outDir, figure);
  return writeReportFile(outDir, 'report.html', renderReportHtml({ title: 'vm-monitoring calibration: the sim against the qemu lab', runs: about, tables, figures }));
}
