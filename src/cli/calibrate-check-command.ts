import { appCostTable, describeAppCost } from '../calibrate/app-cost.ts';
import { describeWorkload } from '../calibrate/calibration-report.ts';
import { checkCases } from '../calibrate/check.ts';
import { checkCasesTable, checkSummaries, writeCheckReport, type CheckedProfile } from '../calibrate/check-report.ts';
import { describeSummary } from '../calibrate/comparison.ts';
import { measuredCasesOfGrid } from '../calibrate/grid-measurements.ts';
import { readMeasuredCases } from '../calibrate/measured-cases-file.ts';
import type { MeasuredCase } from '../calibrate/migration-case.ts';
import { InputError } from '../errors.ts';
import { guestNonZeroPerRamMBOf, simCaseRunner, type SimLabModel } from '../platforms/sim/calibration-runner.ts';
import { describeIdleGuest, idleGuestOf } from '../platforms/sim/idle-guest.ts';
import { createEmptyDirectory } from '../record/run-directory.ts';
import { tableToCsv, type Table } from '../report/table.ts';
import { TOOL_VERSION } from '../version.ts';
import { checkAppCostInput, compareAppCosts } from './app-cost-runs.ts';
import { displayPath } from './calibrate-command.ts';
import { checkProfileOf, DEFAULT_CHECK_PROFILE } from './calibrate-profile.ts';

export interface CheckFlags {
  /** The measured file. */
  check: string;
  /** Take the cases from this grid, the measured file giving results by case id (calibrate's measured.csv). */
  grid?: string;
  profile?: string;
  out?: string;
  /** Re-derive the guest from the file's cases: its idle non-zero memory, and the freed pages a buffer reuses. */
  fitGuest?: boolean;
  /** Lab runs whose application cost the sim's twin of each is compared with (see app-cost-runs.ts). */
  appCost?: string[];
  twin?: string[];
}

const log = (line: string): void => void process.stderr.write(`calibrate: ${line}\n`);

/**
 * `vm-monitoring calibrate --check`: predicts measured cases with a saved sim profile, no
 * fitting, and writes the side-by-side table (CSV on stdout), the median errors (stderr) and,
 * with --out, the tables, charts and report.html.
 */
export async function calibrateCheckCommand(flags: CheckFlags): Promise<number> {
  const profile = checkProfileOf(flags.profile ?? DEFAULT_CHECK_PROFILE);
  const cases = flags.grid === undefined ? await readMeasuredCases(flags.check) : await measuredCasesOfGrid(flags.grid, flags.check);
  const appCostInput = { runs: flags.appCost ?? [], twins: flags.twin ?? [] };
  await checkAppCostInput(appCostInput);
  if (flags.out !== undefined) createEmptyDirectory(flags.out);
  const model = flags.fitGuest ? await guestFittedModel(profile.model, cases, flags.check) : profile.model;

  const check: CheckedProfile = {
    profile: flags.fitGuest ? `${profile.name}, its guest re-derived from the file's idle and buffer rows` : profile.name,
    values: { ...model.migration, ...model.vms, guestNonZeroPerRamMB: guestNonZeroPerRamMBOf(model) },
    comparisons: await checkCases(cases, (settings) => simCaseRunner(model, settings)),
    halves: flags.grid !== undefined,
  };
  process.stdout.write(tableToCsv(checkCasesTable(check)));
  for (const { label, summary } of checkSummaries(check)) log(`${label}: ${describeSummary(summary)}`);
  const appCosts = await compareAppCosts(appCostInput, model.migration);
  for (const comparison of appCosts) log(`application cost, ${describeAppCost(comparison)}`);
  const appCostTables = appCosts.length > 0 ? [appCostTable(appCosts)] : [];
  if (flags.out !== undefined) log(`report: ${writeCheckReport(flags.out, check, aboutTable(flags, cases, profile.name), appCostTables)}`);
  return 0;
}

/** The profile with the guest of the file's own cases (say what it came to). */
async function guestFittedModel(model: SimLabModel, cases: readonly MeasuredCase[], file: string): Promise<SimLabModel> {
  const guest = await idleGuestOf(model, cases);
  if (guest === null) throw new InputError(`--fit-guest: ${displayPath(file)} has no converged idle migration to re-derive the guest from`);
  log(`idle guest: ${describeIdleGuest(guest)}`);
  return guest.model;
}

function aboutTable(flags: CheckFlags, cases: readonly MeasuredCase[], profile: string): Table {
  const workloads = [...new Set(cases.map((c) => describeWorkload(c.migrationCase.workload)))].join('; ');
  return {
    id: 'calibration',
    title: 'Check',
    caption: 'The measurements and the profile that predicted them.',
    columns: [
      { header: 'measured', kind: 'text' },
      { header: 'grid', kind: 'text' },
      { header: 'cases', kind: 'count' },
      { header: 'workloads', kind: 'text' },
      { header: 'profile', kind: 'text' },
      { header: 'tool', kind: 'text' },
    ],
    rows: [[displayPath(flags.check), flags.grid === undefined ? 'the measured file\'s columns' : displayPath(flags.grid), cases.length, workloads, profile, `vm-monitoring ${TOOL_VERSION}`]],
  };
}
