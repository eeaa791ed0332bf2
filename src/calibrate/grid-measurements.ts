import { casesOf, loadGrid, settingsOf } from './grid.ts';
import type { CaseResult, MeasuredCase } from './migration-case.ts';
import { readResults } from './results-file.ts';
import { withSourceProcesses } from './source-process.ts';

/** A grid's cases, each with what a results file (calibrate's measured.csv) measured of it. */
export async function measuredCasesOfGrid(gridFile: string, resultsFile: string): Promise<MeasuredCase[]> {
  const grid = loadGrid(gridFile);
  const cases = casesOf(grid);
  const results = await readResults(resultsFile, cases);
  const settings = settingsOf(grid);
  return withSourceProcesses(cases, results).map((migrationCase) => ({ migrationCase, settings, measured: results.get(migrationCase.id) as CaseResult }));
}
