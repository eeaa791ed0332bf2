/**
 * Accuracy against real QEMU: every saved measurement set in samples/calibrate predicted by
 * the project's sim (the shipped `qemu-lab` profile, as `calibrate --check --grid` predicts
 * them) and by SimGrid's live-migration plugin (bench/peers/simgrid), their median absolute
 * errors side by side, with the bytes and passes each model counts. SimGrid's rows give way
 * to a line saying what to install when libsimgrid-dev is missing.
 *
 * `benchAccuracy(workDir)` is called from bench/run.ts (the peer is built into `workDir`);
 * `npx tsx bench/accuracy.ts` runs it alone.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCases } from '../src/calibrate/check.ts';
import { compareCase, summarize, type CaseComparison, type ErrorSummary } from '../src/calibrate/comparison.ts';
import { measuredCasesOfGrid } from '../src/calibrate/grid-measurements.ts';
import { readMeasuredCases } from '../src/calibrate/measured-cases-file.ts';
import type { MeasuredCase } from '../src/calibrate/migration-case.ts';
import { checkProfileOf, DEFAULT_CHECK_PROFILE } from '../src/cli/calibrate-profile.ts';
import { simCaseRunner } from '../src/platforms/sim/calibration-runner.ts';
import { idleGuestOf } from '../src/platforms/sim/idle-guest.ts';
import { caseResultOf, simgridCaseOf } from './peers/simgrid/calibration-cases.ts';
import { buildSimgridPeer, runSimgridCases, simgridMissing } from './peers/simgrid/peer.ts';

const CALIBRATE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'samples', 'calibrate');
const GRID_FILE = 'grid.yaml';
const MEASURED_FILE = 'measured.csv';

const progress = (text: string): boolean => process.stderr.write(`${text}\n`);

interface MeasurementSet {
  name: string;
  cases: MeasuredCase[];
  /** Measured by another harness, its cases in the file's columns: its guest is its own. */
  ownGuest: boolean;
}

/**
 * The directories of samples/calibrate with a measured.csv: its cases in its columns (another
 * harness's), or those of its own grid.yaml or, lacking one, of the grid beside them
 * (measured-2026-11-25 was measured on samples/calibrate/grid.yaml).
 */
async function measurementSets(): Promise<MeasurementSet[]> {
  const dirs = readdirSync(CALIBRATE_DIR, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  const sets: MeasurementSet[] = [];
  for (const name of dirs) {
    const measuredFile = path.join(CALIBRATE_DIR, name, MEASURED_FILE);
    if (!existsSync(measuredFile)) continue;
    const ownGrid = path.join(CALIBRATE_DIR, name, GRID_FILE);
    if (hasCaseColumns(measuredFile)) {
      sets.push({ name, cases: await readMeasuredCases(measuredFile), ownGuest: true });
      continue;
    }
    sets.push({ name, cases: await measuredCasesOfGrid(existsSync(ownGrid) ? ownGrid : path.join(CALIBRATE_DIR, GRID_FILE), measuredFile), ownGuest: false });
  }
  return sets;
}

function hasCaseColumns(file: string): boolean {
  const header = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  return header.split(',').includes('workload');
}

/** A model's predictions of a set: how far off (medians) and how much work it counted. */
interface ModelRow {
  model: string;
  summary: ErrorSummary | null;
  bytes: number;
  passes: number;
}

function rowOf(model: string, comparisons: readonly CaseComparison[]): ModelRow {
  return {
    model,
    summary: summarize(comparisons),
    bytes: comparisons.reduce((sum, c) => sum + c.predicted.bytes, 0),
    passes: comparisons.reduce((sum, c) => sum + c.predicted.passes, 0),
  };
}

function measuredRow(set: MeasurementSet): ModelRow {
  return {
    model: 'QEMU',
    summary: null,
    bytes: set.cases.reduce((sum, c) => sum + c.measured.bytes, 0),
    passes: set.cases.reduce((sum, c) => sum + c.measured.passes, 0),
  };
}

async function simgridRow(program: string, set: MeasurementSet): Promise<ModelRow> {
  const outcomes = await runSimgridCases(program, set.cases.map((c) => simgridCaseOf(c.migrationCase, c.settings)));
  const comparisons = set.cases.map((c, index) => compareCase(c.migrationCase, c.measured, caseResultOf(outcomes[index] as (typeof outcomes)[number])));
  return rowOf('SimGrid', comparisons);
}

const percent = (value: number | null | undefined): string => (value == null ? '' : (100 * value).toFixed(1));
const ms = (value: number | null | undefined): string => (value == null ? '' : value.toFixed(1));

function printRow(set: string, cases: string, row: ModelRow): void {
  const s = row.summary;
  console.log(
    `  ${set.padEnd(26)} ${cases.padStart(3)}  ${row.model.padEnd(13)} ${percent(s?.totalError).padStart(7)} ${percent(s?.bytesError).padStart(7)} ` +
      `${ms(s?.downtimeErrorMs).padStart(11)} ${(s ? String(s.convergenceMismatches) : '').padStart(10)} ${(row.bytes / 1e9).toFixed(2).padStart(9)} ${String(row.passes).padStart(7)}`,
  );
}

export async function benchAccuracy(workDir: string): Promise<void> {
  const profile = checkProfileOf(DEFAULT_CHECK_PROFILE);
  const missing = simgridMissing();
  let program: string | null = null;
  if (missing === null) {
    progress('accuracy: building the SimGrid peer...');
    program = await buildSimgridPeer(workDir);
  }

  const sets = await measurementSets();
  const rows: { set: MeasurementSet; models: ModelRow[] }[] = [];
  for (const set of sets) {
    progress(`accuracy: ${set.name}, ${set.cases.length} cases: the sim's ${profile.name}${program ? ', SimGrid' : ''}...`);
    // Another harness's guest is re-derived from its own idle and buffer rows, as calibrate --held-out does.
    const model = set.ownGuest ? ((await idleGuestOf(profile.model, set.cases))?.model ?? profile.model) : profile.model;
    const sim = rowOf(`sim ${profile.name}`, await checkCases(set.cases, (settings) => simCaseRunner(model, settings)));
    rows.push({ set, models: [measuredRow(set), sim, ...(program ? [await simgridRow(program, set)] : [])] });
  }

  console.log('');
  console.log(`Accuracy on the saved QEMU measurements (samples/calibrate/*/): median absolute errors per set, and the work each counts`);
  console.log(
    `  ${'set'.padEnd(26)} ${'n'.padStart(3)}  ${'model'.padEnd(13)} ${'total %'.padStart(7)} ${'bytes %'.padStart(7)} ${'downtime ms'.padStart(11)} ` +
      `${'conv wrong'.padStart(10)} ${'GB sent'.padStart(9)} ${'passes'.padStart(7)}`,
  );
  for (const { set, models } of rows) {
    for (const [index, row] of models.entries()) printRow(index === 0 ? set.name : '', index === 0 ? String(set.cases.length) : '', row);
  }
  console.log(`  (errors over every case of a set, fit and held-out halves alike; downtime where both sides converged; GB sent and passes summed over the set;`);
  console.log(`  another harness's set with its own idle guest, re-derived from its idle and buffer rows)`);
  if (program === null) {
    console.log(`  SimGrid: skipped, ${missing}`);
  } else {
    console.log(`  SimGrid 3.32's live-migration plugin: every byte of RAM sent (no zero pages), its max downtime fixed at 30 ms whatever the case's`);
    console.log(`  limit, every transfer at the case's bandwidth; passes are its transfers (RAM, each round, the last copy), QEMU's its dirty-bitmap syncs.`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const workDir = mkdtempSync(path.join(tmpdir(), 'vm-monitoring-bench-accuracy-'));
  try {
    await benchAccuracy(workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
