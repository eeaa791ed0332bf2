import { percentilesTable } from './distributions.ts';
import { renderReportHtml } from './html-page.ts';
import { pageData } from './page/page-data.ts';
import { loadRuns, policyRuns, type LabelledRun } from './load-runs.ts';
import { placementPolicyFigure } from './placement-policy-figure.ts';
import { placementPolicyTable } from './placement-policy-table.ts';
import { hasHostPower, hostPowerTable } from './host-power-table.ts';
import { counterFigures, latencyFigure, timelineFigure } from './report-figures.ts';
import { migrationTimeTable, runsTable, serverPerformanceTable } from './report-tables.ts';
import { writeReport } from './report-files.ts';
import { TOOL_VERSION } from '../version.ts';

export type { LabelledRun } from './load-runs.ts';

export interface ReportOptions {
  outDir: string;
  /** The host whose counters are charted; by default the one receiving most migrations. */
  host: string | undefined;
  /** The command line that asked for the report, for the page's footer. */
  command?: string;
}

/** Reads the runs and writes the report into `outDir`; returns the path of report.html. */
export async function buildReport(runs: readonly LabelledRun[], options: ReportOptions): Promise<string> {
  const loaded = await loadRuns(runs, options.host);
  // Runs without a placement policy get none of its table and figures: a report of the seed's runs stays the seed's.
  const withPolicy = policyRuns(loaded.runs);
  const tables = [
    migrationTimeTable(loaded.runs),
    serverPerformanceTable(loaded.runs),
    ...(withPolicy.length > 0 ? [placementPolicyTable(withPolicy)] : []),
    ...(hasHostPower(withPolicy) ? [hostPowerTable(withPolicy)] : []),
  ];
  const policyFigures = withPolicy.map(placementPolicyFigure);
  const figures = [...counterFigures(loaded.runs, loaded.host), ...loaded.runs.map(timelineFigure), ...loaded.runs.map(latencyFigure), ...policyFigures];
  const percentiles = percentilesTable(loaded.runs);
  const title = `vm-monitoring report: ${loaded.runs.map((run) => run.label).join(', ')}`;
  const html = renderReportHtml({
    title,
    runs: runsTable(loaded.runs),
    tables,
    percentiles,
    figures,
    inlineFigures: policyFigures,
    data: pageData(loaded.runs, loaded.host),
    madeBy: { version: TOOL_VERSION, command: options.command },
  });
  return writeReport(options.outDir, { tables: [...tables, percentiles], figures, html });
}
