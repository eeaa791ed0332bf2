import { closeSync, constants, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appCostTable, describeAppCost } from '../calibrate/app-cost.ts';
import { calibrate, type Calibration } from '../calibrate/calibration.ts';
import { CALIBRATION_CASES_TITLE, casesTable, describeWorkload, writeCalibrationReport } from '../calibrate/calibration-report.ts';
import { describeSummary, summarize } from '../calibrate/comparison.ts';
import { casesOf, loadGrid, settingsOf } from '../calibrate/grid.ts';
import { checkCases } from '../calibrate/check.ts';
import type { CaseComparison } from '../calibrate/comparison.ts';
import { readMeasuredCases } from '../calibrate/measured-cases-file.ts';
import type { CaseResult, CaseSettings, MeasuredCase, MigrationCase } from '../calibrate/migration-case.ts';
import { MEASURED_DETAILS_FILE, MEASURED_FILE, readResults, ResultsFile, withMeasuredAccounts } from '../calibrate/results-file.ts';
import { withSourceProcesses } from '../calibrate/source-process.ts';
import { InputError } from '../errors.ts';
import { openQemuCaseRunner } from '../platforms/qemu/calibration-runner.ts';
import { FITTED_PARAMETERS, labConstantsOf, simCaseRunner, simLabModelOf, type LabConstants, type SimLabModel } from '../platforms/sim/calibration-runner.ts';
import { describeIdleGuest, idleGuestOf } from '../platforms/sim/idle-guest.ts';
import { createEmptyDirectory } from '../record/run-directory.ts';
import { readJsonLines } from '../report/json-lines.ts';
import { writeReportFile } from '../report/report-files.ts';
import { tableToCsv, type Table } from '../report/table.ts';
import { TOOL_VERSION } from '../version.ts';
import { checkAppCostInput, compareAppCosts } from './app-cost-runs.ts';
import { EXIT_INTERRUPTED, timestampedDirectory, watchInterrupts } from './run-command.ts';

export interface CalibrateFlags {
  /** The grids of cases (several only with as many --measured files, one per grid). */
  grid?: string[];
  out?: string;
  measured?: string[];
  /** Measured files with their cases in columns (another harness): predicted with the fitted profile, reported apart. */
  heldOut?: string[];
  /** Lab runs whose application cost the sim's twin of each is compared with (see app-cost-runs.ts). */
  appCost?: string[];
  twin?: string[];
  /** Only with `calibrate --check` (see calibrate-check-command.ts). */
  profile?: string;
  fitGuest?: boolean;
  searches: number;
  population: number;
  generations: number;
}

export const DEFAULT_GRID = fileURLToPath(new URL('../../samples/calibrate/grid.yaml', import.meta.url));

const log = (line: string): void => void process.stderr.write(`calibrate: ${line}\n`);
const LAB_FILE = 'lab.json';
const APPEND_NO_LINK = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/** Appends a line to `file`, never through a link planted in its place. */
function appendLine(file: string, line: string): void {
  const fd = openSync(file, APPEND_NO_LINK, 0o644);
  try {
    writeFileSync(fd, `${line}\n`);
  } finally {
    closeSync(fd);
  }
}

/** One grid of a calibration, with its cases and, when read from an earlier calibration, what was measured of them. */
interface GridPart {
  gridPath: string;
  cases: MigrationCase[];
  settings: CaseSettings;
  measuredFile: string | undefined;
}

/** The grids, paired in order with the measured files; each case's id once over all of them. */
function gridParts(flags: CalibrateFlags): GridPart[] {
  const grids = flags.grid?.length ? flags.grid : [DEFAULT_GRID];
  const measured = flags.measured ?? [];
  if (measured.length > 0 && measured.length !== grids.length) {
    throw new InputError(`${grids.length} --grid for ${measured.length} --measured: give each measured.csv the grid it was measured from, in the same order`);
  }
  if (measured.length === 0 && grids.length > 1) throw new InputError('the lab measures one grid at a time: several --grid need their --measured files');
  const seen = new Map<string, string>();
  return grids.map((gridPath, index) => {
    const grid = loadGrid(gridPath);
    const cases = casesOf(grid);
    for (const { id } of cases) {
      const other = seen.get(id);
      if (other !== undefined) throw new InputError(`${gridPath}: case ${id} is also a case of ${other}: the grids must differ`);
      seen.set(id, gridPath);
    }
    return { gridPath, cases, settings: settingsOf(grid), measuredFile: measured[index] };
  });
}

/**
 * `vm-monitoring calibrate`: measures the grid's cases on the qemu lab (or reads earlier
 * measured.csv files, each with its grid), fits the sim's qemu profile on the fit cases,
 * predicts all, and writes the comparison (CSV on stdout, tables, charts, report.html and the
 * fitted profile in --out).
 */
export async function calibrateCommand(flags: CalibrateFlags): Promise<number> {
  if (flags.profile !== undefined) throw new InputError('--profile goes with --check: calibrate itself fits the qemu profile');
  if (flags.fitGuest) throw new InputError('--fit-guest goes with --check: calibrate fits the idle guest on its grids, and re-derives a --held-out file\'s from its own rows');
  const parts = gridParts(flags);
  const gridCases = parts.flatMap((part) => part.cases);
  const harnesses = await heldOutHarnesses(flags.heldOut ?? [], new Set(gridCases.map((c) => c.id)));
  const appCostInput = { runs: flags.appCost ?? [], twins: flags.twin ?? [] };
  await checkAppCostInput(appCostInput);
  const fitting = gridCases.some((c) => c.training);
  const measuring = parts.some((part) => part.measuredFile === undefined);
  if (!fitting && !measuring) throw new InputError('no case of the grids is to be fitted on (each says split: held-out): give a grid to fit on as well');
  const settingsById = new Map(parts.flatMap((part) => part.cases.map((c) => [c.id, part.settings] as const)));
  const earlier = new Map<string, CaseResult>();
  for (const part of parts) {
    if (part.measuredFile === undefined) continue;
    // A measured file may hold other cases too: each grid's own are taken from its own file.
    const ids = new Set(part.cases.map((c) => c.id));
    for (const [id, result] of await readResults(part.measuredFile, part.cases)) if (ids.has(id)) earlier.set(id, result);
  }
  const outDir = flags.out ?? timestampedDirectory('calibrations');
  createEmptyDirectory(outDir);

  let measured: ReadonlyMap<string, CaseResult>;
  let measuredOn: MeasuredOn[];
  if (parts.every((part) => part.measuredFile !== undefined)) {
    writeResults(path.join(outDir, MEASURED_FILE), gridCases, earlier);
    for (const part of parts) await copyMeasuredDetails(part, path.join(outDir, MEASURED_DETAILS_FILE));
    measured = earlier;
    measuredOn = parts.map((part) => earlierLab(part.measuredFile as string));
  } else {
    const [only] = parts as [GridPart];
    const lab = await measureOnLab(only.cases, only.settings, outDir);
    if (!lab.measured) return EXIT_INTERRUPTED;
    // QEMU's account of each case names the processes it ran between, which the predictions follow.
    measured = await withMeasuredAccounts(path.join(outDir, MEASURED_FILE), new Map(lab.measured));
    measuredOn = [lab.description];
    if (!fitting) {
      log(`the grid is held out whole: nothing to fit; ${path.join(outDir, MEASURED_FILE)} keeps its cases for a calibration with a grid to fit on`);
      return 0;
    }
  }

  const cases = parts.flatMap((part) => withSourceProcesses(part.cases, measured));
  log(`fitting ${FITTED_PARAMETERS.length} parameters of the sim on ${cases.filter((c) => c.training).length} cases`);
  const settingsOfCase = (migrationCase: MigrationCase): CaseSettings => settingsById.get(migrationCase.id) as CaseSettings;
  const constants = labConstantsOf(cases, measured);
  log(`measured on the fit cases: ${describeConstants(constants)}`);
  const calibration = await calibrate({
    cases,
    measured,
    parameters: FITTED_PARAMETERS,
    predictorFor: (values) => simCaseRunner(simLabModelOf(values, constants), settingsOfCase),
    fit: { searches: flags.searches, population: flags.population, generations: flags.generations },
  });
  const gridPaths = parts.map((part) => part.gridPath);
  const fittedModel = simLabModelOf(calibration.fitted.values, constants);
  writeResults(path.join(outDir, 'predicted.csv'), cases, new Map(calibration.comparisons.map((c) => [c.migrationCase.id, c.predicted])));
  writeFittedProfile(path.join(outDir, 'fitted-profile.json'), fittedModel, calibration, gridPaths, measuredOn);
  const grids = parts.map((part) => {
    const ids = new Set(part.cases.map((c) => c.id));
    return { name: displayPath(part.gridPath), comparisons: calibration.comparisons.filter((c) => ids.has(c.migrationCase.id)) };
  });
  const elsewhere = await predictHarnesses(harnesses, fittedModel);
  const everyComparison = [...calibration.comparisons, ...elsewhere.flatMap((harness) => harness.comparisons)];
  const appCosts = await compareAppCosts(appCostInput, fittedModel.migration);
  const page = writeCalibrationReport(
    outDir,
    { ...calibration, comparisons: everyComparison },
    FITTED_PARAMETERS,
    aboutTable(parts, measuredOn, elsewhere),
    [...grids, ...elsewhere.map(({ name, comparisons }) => ({ name: `${name} (another harness)`, comparisons }))],
    appCosts.length > 0 ? [appCostTable(appCosts)] : [],
  );

  process.stdout.write(tableToCsv(casesTable(everyComparison, CALIBRATION_CASES_TITLE, true)));
  log(`fit half: ${describeSummary(calibration.training)}`);
  log(`held-out half: ${describeSummary(calibration.heldOut)}`);
  if (grids.length > 1) {
    for (const { name, comparisons } of grids) {
      const heldOut = comparisons.filter((c) => !c.migrationCase.training);
      if (heldOut.length > 0) log(`held out of ${name}: ${describeSummary(summarize(heldOut))}`);
    }
  }
  for (const { name, comparisons } of elsewhere) log(`held out, another harness, ${name}: ${describeSummary(summarize(comparisons))}`);
  for (const comparison of appCosts) log(`application cost, ${describeAppCost(comparison)}`);
  log(`report: ${page}`);
  return 0;
}

/** A measured file of another harness, its cases in columns; read before the lab starts, so that a bad one stops nothing under way. */
interface HeldOutHarness {
  file: string;
  cases: MeasuredCase[];
}

async function heldOutHarnesses(files: readonly string[], gridIds: ReadonlySet<string>): Promise<HeldOutHarness[]> {
  const ids = new Set(gridIds);
  const harnesses: HeldOutHarness[] = [];
  for (const file of files) {
    const cases = await readMeasuredCases(file);
    for (const { migrationCase } of cases) {
      if (ids.has(migrationCase.id)) throw new InputError(`${displayPath(file)}: case ${migrationCase.id} is also a case of a grid or of another --held-out file: the ids must differ`);
      ids.add(migrationCase.id);
    }
    harnesses.push({ file, cases });
  }
  return harnesses;
}

/** What the fitted profile predicts of each harness's cases, with the guest that harness's own cases imply. */
interface PredictedHarness {
  name: string;
  cases: readonly MeasuredCase[];
  guest: string;
  comparisons: CaseComparison[];
}

async function predictHarnesses(harnesses: readonly HeldOutHarness[], fitted: SimLabModel): Promise<PredictedHarness[]> {
  const predicted: PredictedHarness[] = [];
  for (const { file, cases } of harnesses) {
    const guest = await idleGuestOf(fitted, cases);
    const guestText = guest === null ? 'the fit\'s (no idle migration to re-derive it from)' : describeIdleGuest(guest);
    log(`${displayPath(file)}: idle guest ${guestText}`);
    const model = guest?.model ?? fitted;
    predicted.push({ name: displayPath(file), cases, guest: guestText, comparisons: await checkCases(cases, (settings) => simCaseRunner(model, settings)) });
  }
  return predicted;
}

/**
 * Runs every case on a lab of its own, keeping each result in measured.csv and QEMU's own
 * account of it (per-pass progress included) in measured-details.jsonl as it comes; `measured`
 * is null when interrupted.
 */
async function measureOnLab(
  cases: readonly MigrationCase[],
  settings: CaseSettings,
  outDir: string,
): Promise<{ measured: Map<string, CaseResult> | null; description: Record<string, unknown> }> {
  const file = path.join(outDir, MEASURED_FILE);
  const results = new ResultsFile(file);
  const interrupts = watchInterrupts(() => results.close(), 'ending the case under way and taking the lab down');
  const measured = new Map<string, CaseResult>();
  const runner = await openQemuCaseRunner({ settings, log });
  let description: Record<string, unknown> = {};
  try {
    for (const [index, migrationCase] of cases.entries()) {
      if (interrupts.signal.aborted) break;
      const result = await runner.run(migrationCase, interrupts.signal);
      if (interrupts.signal.aborted) break;
      measured.set(migrationCase.id, result);
      results.append(result);
      appendLine(path.join(outDir, MEASURED_DETAILS_FILE), JSON.stringify({ id: migrationCase.id, qemu: runner.lastStats }));
      description = runner.describe();
      writeReportFile(outDir, LAB_FILE, `${JSON.stringify(description, null, 2)}\n`);
      log(`[${index + 1}/${cases.length}] ${migrationCase.id}: ${describeResult(result)}`);
    }
  } finally {
    await runner.close();
    results.close();
    interrupts.dispose();
  }
  if (measured.size < cases.length) {
    log(`interrupted: ${file} keeps the ${measured.size} cases measured`);
    return { measured: null, description };
  }
  return { measured, description };
}

/** QEMU's own account of a grid's cases, from the measured-details.jsonl beside its measured.csv (if any), so that --out keeps it too. */
async function copyMeasuredDetails(part: GridPart, file: string): Promise<void> {
  const ids = new Set(part.cases.map((c) => c.id));
  await readJsonLines(path.join(path.dirname(part.measuredFile as string), MEASURED_DETAILS_FILE), (line) => {
    const id = (line as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && ids.has(id)) appendLine(file, JSON.stringify(line));
  });
}

function writeResults(file: string, cases: readonly MigrationCase[], results: ReadonlyMap<string, CaseResult>): void {
  const out = new ResultsFile(file);
  for (const migrationCase of cases) {
    const result = results.get(migrationCase.id);
    if (result) out.append(result);
  }
  out.close();
}

function describeConstants(constants: LabConstants): string {
  return [
    `per-page sync ${(constants.syncSecondsPerPage * 1e6).toFixed(3)} µs per dirty page and ${(constants.syncScanSecondsPerPage * 1e9).toFixed(1)} ns per page of RAM`,
    `${(constants.tlbEntrySyncSeconds * 1e9).toFixed(2)} ns more per dirty page per TLB entry beyond 256, ${constants.bootTlbEntries} entries after a boot`,
    `word sync ${(constants.wordSyncSecondsPerPage * 1e9).toFixed(1)} ns/page`,
    `idle guest dirtying ${constants.guestOsDirtyMBps.toFixed(3)} MB/s`,
    `cost spread σ ${constants.costSpread.toFixed(2)}`,
  ].join(', ');
}

function describeResult(result: CaseResult): string {
  const mb = (result.bytes / (1024 * 1024)).toFixed(1);
  if (!result.converged) return `did not converge (${result.reason}), ${mb} MB sent`;
  return `${result.total_ms.toFixed(0)} ms, downtime ${result.downtime_ms?.toFixed(0) ?? '?'} ms, ${mb} MB, ${result.passes} passes`;
}

/** Where the measurements come from: the lab a calibration ran on, or just an earlier calibration's file. */
type MeasuredOn = string | Record<string, unknown>;

/** The lab a calibration measured on, kept next to its measured.csv. */

/** An earlier calibration's lab, with the file the measurements are read from; just the file's name without a lab.json. */
function earlierLab(measuredFile: string): MeasuredOn {
  const labFile = path.join(path.dirname(measuredFile), LAB_FILE);
  if (!existsSync(labFile)) return displayPath(measuredFile);
  return { measured: displayPath(measuredFile), ...(JSON.parse(readFileSync(labFile, 'utf8')) as Record<string, unknown>) };
}

/** A path as run files record it: relative to where the tool runs when inside it, so records do not name one machine's directories. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function describeSource(measuredOn: MeasuredOn): string {
  if (typeof measuredOn === 'string') return measuredOn;
  const text = (key: string): string => String(measuredOn[key] ?? '?');
  const lab = `the qemu lab: QEMU ${text('qemu_version')}, accelerator ${text('accelerator')}, guest kernel ${text('kernel_version')}`;
  return measuredOn.measured === undefined ? lab : `${lab} (read from ${text('measured')})`;
}

function aboutTable(parts: readonly GridPart[], measuredOn: readonly MeasuredOn[], elsewhere: readonly PredictedHarness[]): Table {
  return {
    id: 'calibration',
    title: 'Calibration',
    caption: 'The grids and where their measurements come from.',
    columns: [
      { header: 'grid', kind: 'text' },
      { header: 'cases', kind: 'count' },
      { header: 'split', kind: 'text' },
      { header: 'workloads', kind: 'text' },
      { header: 'measured on', kind: 'text' },
      { header: 'tool', kind: 'text' },
    ],
    rows: [
      ...parts.map((part, index) => [
        displayPath(part.gridPath),
        part.cases.length,
        splitOf(part.cases),
        workloadsOf(part.cases),
        describeSource(measuredOn[index] ?? measuredOn[0] ?? '?'),
        `vm-monitoring ${TOOL_VERSION}`,
      ]),
      ...elsewhere.map(({ name, cases, guest }) => [
        name,
        cases.length,
        'all held out',
        workloadsOf(cases.map((c) => c.migrationCase)),
        `another harness (the file's own columns); its idle guest: ${guest}`,
        `vm-monitoring ${TOOL_VERSION}`,
      ]),
    ],
  };
}

const workloadsOf = (cases: readonly MigrationCase[]): string => [...new Set(cases.map((c) => describeWorkload(c.workload)))].join('; ');

function splitOf(cases: readonly MigrationCase[]): string {
  const fit = cases.filter((c) => c.training).length;
  if (fit === cases.length) return 'all fitted on';
  if (fit === 0) return 'all held out';
  return `${fit} fitted on, ${cases.length - fit} held out`;
}

/** The fitted profile as the sim loads it (see src/platforms/sim/profiles.ts), with how it was obtained. */
function writeFittedProfile(file: string, model: SimLabModel, calibration: Calibration, gridPaths: readonly string[], measuredOn: readonly MeasuredOn[]): void {
  const profile = {
    based_on: 'qemu',
    migration: model.migration,
    vms: model.vms,
    calibration: {
      at: new Date().toISOString(),
      grids: gridPaths.map(displayPath),
      measured_on: measuredOn,
      fit_loss: calibration.fitted.loss,
      fit: calibration.training,
      held_out: calibration.heldOut,
    },
  };
  writeReportFile(path.dirname(file), path.basename(file), `${JSON.stringify(profile, null, 2)}\n`);
}
