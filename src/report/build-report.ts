import { renderReportHtml } from './html-page.ts';
import { loadRuns, type LabelledRun } from './load-runs.ts';
import { counterFigures, latencyFigure, timelineFigure } from './report-figures.ts';
import { migrationTimeTable, runsTable, serverPerformanceTable } from './report-tables.ts';
import { writeReport } from './report-files.ts';

export type { LabelledRun } from './load-runs.ts';

export interface ReportOptions {
  outDir: string;
  /** The host whose counters are charted; by default the one receiving most migrations. */
  host: string | undefined;
}

/** Reads the runs and writes the report into `outDir`; returns the path of report.html. */
export async function buildReport(runs: readonly LabelledRun[], options: ReportOptions): Promise<string> {
  const loaded = await loadRuns(runs, options.host);
  const tables = [migrationTimeTable(loaded.runs), serverPerformanceTable(loaded.runs)];
  const figures = [
    ...counterFigures(loaded.runs, loaded.host),
    ...loaded.runs.map(timelineFigure),
    ...loaded.runs.map(latencyFigure),
  ];
  const title = `vm-monitoring report: ${loaded.runs.map((run) => run.label).join(', ')}`;
  return writeReport(options.outDir, { tables, figures, html: renderReportHtml({ title, runs: runsTable(loaded.runs), tables, figures }) });
}
