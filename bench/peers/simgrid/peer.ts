/**
 * The SimGrid peer from node: whether this machine can build it, building it (g++ against
 * Debian's libsimgrid-dev, into a directory of the caller's), and running its modes: accuracy
 * (bench/accuracy.ts) and the speed modes (bench/speed.ts). The program itself is the C++
 * beside this file (README.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec, execSync, findExecutable } from '../../../src/exec.ts';

export const SIMGRID_PACKAGE = 'libsimgrid-dev';

const SOURCES_DIR = path.dirname(fileURLToPath(import.meta.url));
const PLUGIN_HEADER = 'simgrid/plugins/live_migration.h';
const INCLUDE_DIRS = ['/usr/include', '/usr/local/include'];
/** Compiling against SimGrid's headers takes about 7 s here; twice that on a busy machine is no failure. */
const BUILD_TIMEOUT_MS = 180_000;
const RUN_TIMEOUT_MS = 120_000;

/** Why the peer cannot be built here (naming the Debian package and the install script), or null when it can. */
export function simgridMissing(): string | null {
  const install = 'run scripts/install-simgrid.sh';
  const gxx = findExecutable('g++');
  if (gxx === null) return `the SimGrid peer needs g++ (Debian package g++): ${install}`;
  if (!INCLUDE_DIRS.some((dir) => fs.existsSync(path.join(dir, PLUGIN_HEADER)))) {
    return `the SimGrid peer needs ${SIMGRID_PACKAGE} (no <${PLUGIN_HEADER}>): ${install}`;
  }
  // g++ prints the library's path when its linker would find it, else the bare name.
  if (!path.isAbsolute(execSync(gxx, ['-print-file-name=libsimgrid.so']).stdout.trim())) {
    return `the SimGrid peer needs ${SIMGRID_PACKAGE} (g++ finds no libsimgrid.so): ${install}`;
  }
  return null;
}

/** Builds the peer into `outDir` and returns the program's path; throws with g++'s errors (or what is missing) when it cannot. */
export async function buildSimgridPeer(outDir: string): Promise<string> {
  const missing = simgridMissing();
  if (missing !== null) throw new Error(missing);
  const sources = fs.readdirSync(SOURCES_DIR).filter((name) => name.endsWith('.cpp')).sort().map((name) => path.join(SOURCES_DIR, name));
  const program = path.join(outDir, 'simgrid-peer');
  await exec('g++', ['-O2', '-std=c++17', '-Wall', '-Wextra', ...sources, '-o', program, '-lsimgrid'], { timeoutMs: BUILD_TIMEOUT_MS });
  return program;
}

/** A migration for the peer's accuracy mode, in bytes and seconds. */
export interface SimgridCase {
  id: string;
  ramBytes: number;
  maxBandwidthBytesPerSecond: number;
  workingSetBytes: number;
  dirtyBytesPerSecond: number;
  downtimeLimitSeconds: number;
  timeoutSeconds: number;
}

export interface SimgridOutcome {
  id: string;
  /** The VM was stopped for its last copy within the timeout. */
  converged: boolean;
  totalSeconds: number;
  bytes: number;
  /** Null where it did not converge. */
  downtimeSeconds: number | null;
  /** Transfers of memory: the whole RAM, each round of dirty pages, the last copy. */
  passes: number;
  /** The max downtime SimGrid used: fixed by its plugin, whatever the case asked. */
  maxDowntimeSeconds: number;
}

const OUTCOME_HEADER = 'id,converged,total_s,bytes,downtime_s,passes,max_downtime_s';

/** Migrates every case with the peer, one after another in one simulation; outcomes in the cases' order. */
export async function runSimgridCases(program: string, cases: readonly SimgridCase[]): Promise<SimgridOutcome[]> {
  const input = cases
    .map((c) => [c.id, c.ramBytes, c.maxBandwidthBytesPerSecond, c.workingSetBytes, c.dirtyBytesPerSecond, c.downtimeLimitSeconds, c.timeoutSeconds].join(','))
    .join('\n');
  const { stdout } = await exec(program, ['accuracy'], { input: `${input}\n`, timeoutMs: RUN_TIMEOUT_MS });
  const [header, ...rows] = stdout.trim().split('\n');
  if (header !== OUTCOME_HEADER) throw new Error(`simgrid-peer accuracy: expected the header ${OUTCOME_HEADER}, not ${header}`);
  const outcomes = rows.map(outcomeOf);
  const ids = outcomes.map((outcome) => outcome.id).join(',');
  if (ids !== cases.map((c) => c.id).join(',')) throw new Error(`simgrid-peer accuracy: outcomes for ${ids}, not for the cases given`);
  return outcomes;
}

function outcomeOf(row: string): SimgridOutcome {
  const [id, converged, total, bytes, downtime, passes, maxDowntime] = row.split(',');
  const numberOf = (cell: string | undefined): number => {
    const value = Number(cell);
    if (cell === undefined || cell === '' || !Number.isFinite(value)) throw new Error(`simgrid-peer accuracy: a bad row: ${row}`);
    return value;
  };
  return {
    id: id ?? '',
    converged: converged === 'yes',
    totalSeconds: numberOf(total),
    bytes: numberOf(bytes),
    downtimeSeconds: downtime === '' ? null : numberOf(downtime),
    passes: numberOf(passes),
    maxDowntimeSeconds: numberOf(maxDowntime),
  };
}

/** What one of the peer's speed modes (`sequential N`, `concurrent N`, `datacenter ...`, speed.cpp) did and how long it took. */
export interface SimgridSpeedRun {
  scenario: string;
  migrations: number;
  /** Of those, the migrations whose VM was stopped for its last copy (all, in the speed scenarios). */
  converged: number;
  /** SimGrid's clock when the simulation ended. */
  simulatedSeconds: number;
  /** Summed over the migrations: every transfer of memory. */
  bytes: number;
  passes: number;
  /** Wall time of the simulation loop alone (engine.run()), measured inside the program: start-up and building the platform are left out. */
  wallSeconds: number;
  /** Wall time of the whole process, from its start to its exit, measured from node. */
  processSeconds: number;
}

const SPEED_HEADER = 'scenario,migrations,converged,simulated_s,bytes,passes,wall_s';

/** Runs one of the peer's speed modes; `args` are the mode's (a count, or the datacenter's constants). */
export async function runSimgridSpeed(program: string, mode: 'sequential' | 'concurrent' | 'datacenter', args: readonly string[]): Promise<SimgridSpeedRun> {
  const started = performance.now();
  const { stdout } = await exec(program, [mode, ...args], { timeoutMs: RUN_TIMEOUT_MS });
  const processSeconds = (performance.now() - started) / 1000;
  const [header, row, ...rest] = stdout.trim().split('\n');
  if (header !== SPEED_HEADER || row === undefined || rest.length > 0) throw new Error(`simgrid-peer ${mode}: expected the header ${SPEED_HEADER} and one row, not ${stdout.trim()}`);
  const [scenario, ...cells] = row.split(',');
  const numbers = cells.map(Number);
  if (scenario !== mode || numbers.length !== 6 || !numbers.every(Number.isFinite)) throw new Error(`simgrid-peer ${mode}: a bad row: ${row}`);
  const [migrations, converged, simulatedSeconds, bytes, passes, wallSeconds] = numbers as [number, number, number, number, number, number];
  return { scenario, migrations, converged, simulatedSeconds, bytes, passes, wallSeconds, processSeconds };
}
