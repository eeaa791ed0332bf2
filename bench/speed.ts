/**
 * Speed against SimGrid: the same migrations simulated by the project's sim (in this process,
 * on a script and a config each, as `vm-monitoring run --platform sim` runs them) and by
 * SimGrid 3.32's live-migration plugin (bench/peers/simgrid, its speed modes), the wall time of
 * each simulation loop side by side with their ratio, and what each model did (migrations,
 * bytes, passes), since their work per migration differs. SimGrid's side gives way to a line
 * saying what to install when libsimgrid-dev or g++ is missing.
 *
 * `benchSpeed(workDir)` is for bench/run.ts (the peer is built into `workDir`, the scenarios'
 * scripts and configs written there); `npx tsx bench/speed.ts` runs it alone.
 *
 * The scenarios (the same block is in bench/peers/simgrid/speed.cpp; its README.md has them as a table):
 *
 *   sequential N: 2 hosts, each with a 1 Gbit/s link (125,000,000 B/s) of its own each way, no
 *     latency; one VM of 512 MiB dirtying 20 MiB/s over a 64 MiB working set, migrated N times
 *     back and forth between the two hosts, each migration starting as the one before ends, the
 *     first at 0.1 s.
 *   concurrent N: 2 hosts, each with a 10 Gbit/s link (1,250,000,000 B/s) of its own each way,
 *     no latency; N idle VMs of 256 MiB (nothing dirtied), all migrating at 0 s from the one
 *     host to the other, sharing the one's link out and the other's link in.
 *   datacenter: bench/datacenter.ts's hosts, VMs and migrations, without its clients: 100 hosts
 *     of 24 cores, each with a 1 Gbit/s link of its own each way (no latency); 2,000 VMs of
 *     512 MiB (20 a host), each dirtying 0.5 MiB/s over a 16 MiB working set (the sim's default
 *     guest OS); migration i (0 to 199) at 9 + 18 i s moves the (i / 100)-th VM of host i % 100
 *     to host (i % 100 + 50) % 100; the run ends at 3,600 s.
 *
 *   Both models, every scenario: a migration sends all of its VM's memory, then what was
 *   dirtied meanwhile (at most the working set), again until what is left fits in 30 ms at the
 *   last pass's rate, then stops the VM and sends the rest; no setup, switchover or stream CPU
 *   cost; a stream gets 97 % of its share of the links (SimGrid's default network model's
 *   bandwidth factor; the sim's linkEfficiency is set to it). The one difference in the work:
 *   the sim's datacenter VMs have written 140 MiB of their 512 (its default guest) and send the
 *   rest as 16-byte zero-page records, where SimGrid sends every byte of RAM.
 *
 * What is timed, two ways. The simulation loop alone: ours executeRun (the script parsed, the
 * platform built and the run prepared before it; its records counted in memory, not formatted
 * or written; one sample every SAMPLE_INTERVAL_SECONDS), SimGrid's engine.run(), measured
 * inside the peer (process start-up, SimGrid's initialisation, the platform and the VMs left
 * out). The whole run: ours as `vm-monitoring run` runs it in this process (bench/run-on-sim.ts:
 * parsing, building, the run, its run directory written), SimGrid's process from start to
 * exit. Module loading is never timed. Each side runs each scenario REPEATS times, in turns,
 * and its fastest is shown, after an untimed warm-up of ours.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSimPlatform } from '../src/platforms/sim/sim-platform.ts';
import type { MigrationProfile } from '../src/platforms/sim/profiles.ts';
import type { RecordSink } from '../src/record/records.ts';
import { executeRun, prepareRun } from '../src/run/session.ts';
import { parseScript } from '../src/script/parse.ts';
import { placementOf } from '../src/script/validate.ts';
import { DATACENTER, datacenterConfig, datacenterScript } from './datacenter.ts';
import { runOnSim } from './run-on-sim.ts';
import { buildSimgridPeer, runSimgridSpeed, simgridMissing, type SimgridSpeedRun } from './peers/simgrid/peer.ts';

/** Sizes that run in seconds on both sides, two of each so that scaling shows. */
export const SEQUENTIAL_SIZES = [100, 1000] as const;
export const CONCURRENT_SIZES = [50, 500] as const;
/** Each side's fastest of this many runs: the machine may be shared and noisy. */
const REPEATS = 5;
/**
 * The sim samples every host's and VM's counters at this interval whatever the script does;
 * SimGrid samples nothing. An hour: a sample an hour and one at the end, so that both time
 * little but their migrations (at the sim's default 20 s the datacenter's 2,100 hosts and VMs
 * are sampled 180 times, which costs more than its 200 migrations).
 */
const SAMPLE_INTERVAL_SECONDS = 3600;

/**
 * The sim's migration for the comparison, over its default `vsphere-4.1` profile (whose
 * end-of-pass rule is the plugin's): SimGrid's plugin has no setup or switchover cost, no
 * pass cap and no CPU for the stream, a fixed 30 ms max downtime, and its default network
 * model gives a flow 97 % of its share of a link.
 */
export const SPEED_MIGRATION: Partial<MigrationProfile> = {
  setupSeconds: { min: 0, max: 0 },
  switchoverSeconds: 0,
  downtimeLimitSeconds: 0.03,
  maxPasses: null,
  linkEfficiency: 0.97,
  cpuMHzPerMBps: 0,
  tracingSlowdown: 0,
  convergenceTimeoutSeconds: 3600,
};

/** When the first sequential migration starts: the peer's VM computes for 0.1 s first, so that the plugin's dirty tracking finds it (DIRTIER_LEAD_S), and the sim's starts with it. */
const SEQUENTIAL_FIRST_AT_S = 0.1;
/** The sim's hypervisor and per-VM overhead (its defaults), for hosts roomy enough that nothing swaps. */
const HYPERVISOR_MB = 400;
const VM_OVERHEAD_MB = 60;

export interface SpeedScenario {
  name: string;
  migrations: number;
  script: string;
  config: Record<string, unknown>;
  maxMigrationsPerHost: number;
  peer: { mode: 'sequential' | 'concurrent' | 'datacenter'; args: string[] };
}

export function sequentialScenario(count: number): SpeedScenario {
  const lines = ['host001:vm01 host002:'];
  for (let i = 0; i < count; i++) lines.push(`${i === 0 ? SEQUENTIAL_FIRST_AT_S : 0} migrate vm01 ${i % 2 === 0 ? 'host002' : 'host001'}`);
  lines.push('0 end');
  return {
    name: `sequential ${count}`,
    migrations: count,
    script: lines.join('\n') + '\n',
    config: {
      migration: SPEED_MIGRATION,
      hosts: { linkMbps: 1000 },
      // All 512 MiB written (SimGrid has no zero pages), 20 MiB/s rewritten over 64 MiB of it.
      vms: { memoryMB: 512, guestOsMB: 512, guestOsActiveMB: 64, guestOsDirtyMBps: 20 },
      refreshSeconds: SAMPLE_INTERVAL_SECONDS,
    },
    maxMigrationsPerHost: 1,
    peer: { mode: 'sequential', args: [String(count)] },
  };
}

export function concurrentScenario(count: number): SpeedScenario {
  const vms = Array.from({ length: count }, (_, i) => `vm${String(i + 1).padStart(4, '0')}`);
  const lines = [`host001:${vms.join(',')} host002:`, ...vms.map((vm) => `0 migrate ${vm} host002`), '0 end'];
  return {
    name: `concurrent ${count}`,
    migrations: count,
    script: lines.join('\n') + '\n',
    config: {
      migration: SPEED_MIGRATION,
      hosts: { linkMbps: 10_000, memoryMB: HYPERVISOR_MB + count * (256 + VM_OVERHEAD_MB) },
      // Idle: all 256 MiB written once (SimGrid has no zero pages), nothing written during the migration.
      vms: { memoryMB: 256, guestOsMB: 256, guestOsActiveMB: 0, guestOsDirtyMBps: 0 },
      refreshSeconds: SAMPLE_INTERVAL_SECONDS,
    },
    maxMigrationsPerHost: count,
    peer: { mode: 'concurrent', args: [String(count)] },
  };
}

/** bench/datacenter.ts's script without its `add-client` lines (all at 0 s, so the migrations keep their times) and its config. */
export function datacenterScenario(): SpeedScenario {
  const script = datacenterScript().split('\n').filter((line) => !/^\S+\s+add-client\s/.test(line)).join('\n');
  return {
    name: 'datacenter',
    migrations: DATACENTER.migrations,
    script,
    // Its VMs are the sim's default guest: 512 MiB, 140 MiB written, 0.5 MiB/s over 16 MiB of it.
    config: { ...(JSON.parse(datacenterConfig()) as Record<string, unknown>), migration: SPEED_MIGRATION, refreshSeconds: SAMPLE_INTERVAL_SECONDS },
    maxMigrationsPerHost: 4,
    peer: { mode: 'datacenter', args: [DATACENTER.hosts, DATACENTER.vmsPerHost, DATACENTER.migrations, DATACENTER.timelineSeconds, DATACENTER.hostCores].map(String) },
  };
}

export function speedScenarios(): SpeedScenario[] {
  return [...SEQUENTIAL_SIZES.map(sequentialScenario), ...CONCURRENT_SIZES.map(concurrentScenario), datacenterScenario()];
}

/** What one model did in one scenario, and how long it took. */
export interface ModelRun {
  migrations: number;
  /** Of those, the migrations that succeeded (converged, for SimGrid). */
  succeeded: number;
  simulatedSeconds: number;
  bytes: number;
  passes: number;
  /** The simulation loop alone: ours executeRun, SimGrid's engine.run() timed inside the peer. */
  loopSeconds: number;
  /** Ours as `vm-monitoring run` runs it (runOnSim: the script parsed, the platform built, the run, its run directory written); SimGrid's process from start to exit. */
  wholeSeconds: number;
}

/** Counts migrations, their bytes and passes; everything else the run records is dropped. */
function migrationTally(): RecordSink & { work: Pick<ModelRun, 'migrations' | 'succeeded' | 'bytes' | 'passes'> } {
  const work = { migrations: 0, succeeded: 0, bytes: 0, passes: 0 };
  return {
    work,
    sample: () => undefined,
    action: () => undefined,
    migration: (record) => {
      work.migrations++;
      if (record.status === 'succeeded') work.succeeded++;
      work.bytes += record.bytes ?? 0;
      work.passes += record.passes ?? 0;
    },
    request: () => undefined,
    decision: () => undefined,
  };
}

function writeScenario(workDir: string, scenario: SpeedScenario): { scriptPath: string; configPath: string } {
  const base = path.join(workDir, `speed-${scenario.name.replace(/\W+/g, '-')}`);
  const scriptPath = `${base}.txt`;
  const configPath = `${base}.json`;
  writeFileSync(scriptPath, scenario.script);
  writeFileSync(configPath, JSON.stringify(scenario.config, null, 2) + '\n');
  return { scriptPath, configPath };
}

/** Runs a scenario's simulation on the sim in this process, timing executeRun alone. */
async function runOursLoop(workDir: string, scenario: SpeedScenario): Promise<Omit<ModelRun, 'wholeSeconds'>> {
  const { scriptPath, configPath } = writeScenario(workDir, scenario);
  const experiment = parseScript(scenario.script, scriptPath);
  const platform = openSimPlatform({ configPath, seed: 1, placement: placementOf(experiment), caFile: undefined, insecure: false });
  try {
    const prepared = await prepareRun(experiment, platform);
    const tally = migrationTally();
    const started = performance.now();
    const outcome = await executeRun(prepared, tally, { maxMigrationsPerHost: scenario.maxMigrationsPerHost, signal: new AbortController().signal });
    const loopSeconds = (performance.now() - started) / 1000;
    if (outcome.status !== 'completed') throw new Error(`speed: ${scenario.name} on the sim: ${outcome.status}${outcome.failure ? `: ${outcome.failure}` : ''}`);
    return { ...tally.work, simulatedSeconds: outcome.endedS, loopSeconds };
  } finally {
    await platform.close();
  }
}

/** Runs a scenario on the sim twice in this process: its loop alone, then as `vm-monitoring run` does (the run directory written, then deleted). */
export async function runOurs(workDir: string, scenario: SpeedScenario): Promise<ModelRun> {
  const loop = await runOursLoop(workDir, scenario);
  const { scriptPath, configPath } = writeScenario(workDir, scenario);
  const outDir = mkdtempSync(path.join(workDir, 'speed-run-'));
  try {
    const whole = await runOnSim(scriptPath, { configPath, outDir, maxMigrationsPerHost: scenario.maxMigrationsPerHost });
    return { ...loop, wholeSeconds: whole.wallSeconds };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function simgridRun(run: SimgridSpeedRun): ModelRun {
  return {
    migrations: run.migrations, succeeded: run.converged, simulatedSeconds: run.simulatedSeconds, bytes: run.bytes, passes: run.passes,
    loopSeconds: run.wallSeconds, wholeSeconds: run.processSeconds,
  };
}

/** Each time the fastest of the runs: the models are deterministic, every run doing the same work. */
function fastest(best: ModelRun | null, run: ModelRun): ModelRun {
  if (best === null) return run;
  return { ...best, loopSeconds: Math.min(best.loopSeconds, run.loopSeconds), wholeSeconds: Math.min(best.wholeSeconds, run.wholeSeconds) };
}

export interface SpeedRow {
  scenario: SpeedScenario;
  ours: ModelRun;
  simgrid: ModelRun | null;
}

const progress = (text: string): boolean => process.stderr.write(`${text}\n`);
const fmt = (value: number, digits: number): string => value.toFixed(digits);
const count = (value: number): string => value.toLocaleString('en-US');

function timeCells(ours: number, simgrid: number | undefined): string {
  const sg = simgrid === undefined ? '' : fmt(simgrid, 3);
  const ratio = simgrid === undefined ? '' : fmt(ours / simgrid, 1);
  return `${fmt(ours, 3).padStart(8)} ${sg.padStart(9)} ${ratio.padStart(7)}`;
}

function workRow(scenario: string, model: string, run: ModelRun): string {
  const migrations = run.succeeded === run.migrations ? count(run.migrations) : `${count(run.succeeded)} of ${count(run.migrations)}`;
  return `  ${scenario.padEnd(16)} ${model.padEnd(8)} ${migrations.padStart(10)} ${fmt(run.simulatedSeconds, 1).padStart(9)} ${fmt(run.bytes / 1e9, 2).padStart(9)} ${count(run.passes).padStart(7)}`;
}

export function printSpeed(rows: readonly SpeedRow[], missing: string | null): void {
  console.log('');
  console.log(`Speed against SimGrid: the same migrations on both (wall s, each side's fastest of ${REPEATS} runs; ours/SG at or under 1.0: the sim is no slower)`);
  console.log(`  ${''.padEnd(16)} ${'the simulation loop alone'.padEnd(26)}   ${'the whole run'}`);
  console.log(`  ${'scenario'.padEnd(16)} ${'ours'.padStart(8)} ${'SimGrid'.padStart(9)} ${'ours/SG'.padStart(7)}   ${'ours'.padStart(8)} ${'SimGrid'.padStart(9)} ${'ours/SG'.padStart(7)}`);
  for (const { scenario, ours, simgrid } of rows) {
    console.log(`  ${scenario.name.padEnd(16)} ${timeCells(ours.loopSeconds, simgrid?.loopSeconds)}   ${timeCells(ours.wholeSeconds, simgrid?.wholeSeconds)}`.trimEnd());
  }
  console.log(`  (the loop: ours executeRun, its records counted in memory, one sample an hour; SimGrid engine.run(), timed inside the peer.`);
  console.log(`  The whole run: ours as \`vm-monitoring run\` runs it in this process, the script parsed, the platform built, the run directory written;`);
  console.log(`  SimGrid the peer's process from start to exit: its start-up, the platform and VMs built, the run, its one line printed.)`);
  if (missing !== null) console.log(`  SimGrid: skipped, ${missing}`);
  console.log('');
  console.log(`What each model did (summed over the scenario's migrations)`);
  console.log(`  ${'scenario'.padEnd(16)} ${'model'.padEnd(8)} ${'migrations'.padStart(10)} ${'sim s'.padStart(9)} ${'GB sent'.padStart(9)} ${'passes'.padStart(7)}`);
  for (const { scenario, ours, simgrid } of rows) {
    console.log(workRow(scenario.name, 'sim', ours));
    if (simgrid !== null) console.log(workRow('', 'SimGrid', simgrid));
  }
  console.log(`  (per migration both send all RAM, then each round's dirty pages, at most the working set, until the rest fits 30 ms, then the`);
  console.log(`  rest with the VM stopped; passes are those transfers, the last copy included. The sequential and concurrent VMs have written all`);
  console.log(`  their RAM, so there the work is the same; the datacenter's guests wrote 140 of their 512 MiB, which the sim sends as 16-byte`);
  console.log(`  zero-page records and SimGrid byte for byte. Scenarios: bench/peers/simgrid/README.md, "The speed modes")`);
}

/** Runs every scenario on both sides and prints the tables; the peer is built into `workDir`, the scenarios' files written there. */
export async function benchSpeed(workDir: string): Promise<SpeedRow[]> {
  const missing = simgridMissing();
  let program: string | null = null;
  if (missing === null) {
    progress('speed: building the SimGrid peer...');
    program = await buildSimgridPeer(workDir);
  }
  // Untimed: the first runs of the sim's code in this process are slower while V8 compiles it.
  progress('speed: warming up the sim...');
  await runOurs(workDir, sequentialScenario(50));
  await runOurs(workDir, concurrentScenario(50));

  const rows: SpeedRow[] = [];
  for (const scenario of speedScenarios()) {
    progress(`speed: ${scenario.name}: the sim${program ? ' and SimGrid' : ''}, ${REPEATS} runs each...`);
    // In turns, so that a busy spell of the machine falls on both sides alike.
    let ours: ModelRun | null = null;
    let simgrid: ModelRun | null = null;
    for (let i = 0; i < REPEATS; i++) {
      ours = fastest(ours, await runOurs(workDir, scenario));
      if (program !== null) simgrid = fastest(simgrid, simgridRun(await runSimgridSpeed(program, scenario.peer.mode, scenario.peer.args)));
    }
    rows.push({ scenario, ours: ours as ModelRun, simgrid });
  }
  printSpeed(rows, missing);
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const workDir = mkdtempSync(path.join(tmpdir(), 'vm-monitoring-bench-speed-'));
  try {
    await benchSpeed(workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
