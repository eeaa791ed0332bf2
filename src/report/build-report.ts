import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { svgToPng } from './charts/png.ts';
import { renderReportHtml, type Figure } from './html-page.ts';
import { loadRuns, type LabelledRun } from './load-runs.ts';
import { counterFigures, latencyFigure, timelineFigure } from './report-figures.ts';
import { migrationTimeTable, runsTable, serverPerformanceTable } from './report-tables.ts';
import { tableToCsv, tableToMarkdown, type Table } from './table.ts';

export type { LabelledRun } from './load-runs.ts';

export interface ReportOptions {
  outDir: string;
  /** The host whose counters are charted; by default the one receiving most migrations. */
  host: string | undefined;
}

function writeTable(outDir: string, table: Table): void {
  writeFileSync(path.join(outDir, `${table.id}.md`), tableToMarkdown(table));
  writeFileSync(path.join(outDir, `${table.id}.csv`), tableToCsv(table));
}

function writeFigure(outDir: string, figure: Figure): void {
  writeFileSync(path.join(outDir, `${figure.id}.svg`), figure.svg);
  writeFileSync(path.join(outDir, `${figure.id}.png`), svgToPng(figure.svg));
}

function createOutputDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new InputError(`cannot create report directory ${dir}: ${(error as Error).message}`);
  }
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
  createOutputDirectory(options.outDir);
  for (const table of tables) writeTable(options.outDir, table);
  for (const figure of figures) writeFigure(options.outDir, figure);
  const title = `vm-monitoring report: ${loaded.runs.map((run) => run.label).join(', ')}`;
  const page = path.join(options.outDir, 'report.html');
  writeFileSync(page, renderReportHtml({ title, runs: runsTable(loaded.runs), tables, figures }));
  return page;
}
