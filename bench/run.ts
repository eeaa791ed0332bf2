/**
 * `npm run bench`: runs every sample script on the simulated datacenter in this process, then
 * the two datacenter-scale scenarios, each in a child process of its own, then the speed scenarios beside SimGrid's, then times `vm-monitoring report` (a child process)
 * on a sim run of a million requests, sets the sim's accuracy on the saved QEMU measurements
 * beside SimGrid's, and prints what it measured. Progress goes to stderr, the report to stdout. The machine may be
 * shared and noisy: figures are printed against their targets, never asserted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLOUD, DATACENTER, type DatacenterSpec } from './datacenter.ts';
import type { DatacenterRunResult } from './datacenter-run.ts';
import { benchAccuracy } from './accuracy.ts';
import { benchQemu } from './qemu.ts';
import { benchReport } from './report.ts';
import { benchSpeed } from './speed.ts';
import { runOnSim, type SimRunResult } from './run-on-sim.ts';

const SAMPLES_DIR = 'samples';
const SAMPLES_3_3_CONFIG = 'samples/3.3/sim.yaml';
const DATACENTER_RUN = fileURLToPath(new URL('./datacenter-run.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES_TARGET_S = 10;

const MiB = 1024 * 1024;
const fmt = (value: number, digits = 1): string => value.toFixed(digits);
const count = (value: number): string => value.toLocaleString('en-US');
const totalRows = (result: SimRunResult): number => Object.values(result.rows).reduce((a, b) => a + b, 0);
const progress = (text: string): boolean => process.stderr.write(`${text}\n`);

function sampleScripts(): string[] {
  return readdirSync(SAMPLES_DIR, { withFileTypes: true })
    // The seed's experiments only: samples/qemu and samples/vsphere are for those platforms.
    .filter((entry) => entry.isDirectory() && /^\d/.test(entry.name))
    .flatMap((dir) => readdirSync(path.join(SAMPLES_DIR, dir.name)).filter((name) => name.endsWith('.txt')).map((name) => path.join(SAMPLES_DIR, dir.name, name)))
    .sort();
}

async function benchSamples(workDir: string): Promise<void> {
  const has33Config = existsSync(SAMPLES_3_3_CONFIG);
  const lines: string[] = [];
  let wallTotal = 0;
  for (const [index, script] of sampleScripts().entries()) {
    const is33 = script.startsWith(path.join(SAMPLES_DIR, '3.3') + path.sep);
    const configPath = is33 && has33Config ? SAMPLES_3_3_CONFIG : undefined;
    progress(`samples: ${script}${configPath ? ` --config ${configPath}` : ''}`);
    const result = await runOnSim(script, { configPath, outDir: path.join(workDir, `sample-${index}`) });
    wallTotal += result.wallSeconds;
    lines.push(
      `  ${script.padEnd(30)} ${fmt(result.simSeconds, 0).padStart(6)} ${fmt(result.wallSeconds, 2).padStart(7)} ` +
        `${count(Math.round(result.simSeconds / result.wallSeconds)).padStart(9)} ${count(totalRows(result)).padStart(9)}` +
        `${result.status === 'completed' ? '' : `  ${result.status}`}`,
    );
  }
  console.log('All samples (each at its default interval, seed 1)');
  console.log(`  ${'script'.padEnd(30)} ${'sim s'.padStart(6)} ${'wall s'.padStart(7)} ${'sim s/s'.padStart(9)} ${'rows'.padStart(9)}`);
  for (const line of lines) console.log(line);
  console.log(
    has33Config
      ? `  (3.3 scripts with --config ${SAMPLES_3_3_CONFIG})`
      : `  (${SAMPLES_3_3_CONFIG} does not exist yet: 3.3 scripts ran with the default config, i.e. ~200 s requests)`,
  );
  console.log(`  total wall time: ${fmt(wallTotal, 2)} s (target: under ${SAMPLES_TARGET_S} s; ${fmt((100 * wallTotal) / SAMPLES_TARGET_S, 0)}% of it)`);
}

/** The scenario in a child process of its own (bench/datacenter-run.ts), as a user's run has one. */
function runDatacenterChild(workDir: string, spec: DatacenterSpec): DatacenterRunResult {
  const child = spawnSync(process.execPath, ['--import', 'tsx', DATACENTER_RUN, spec.name, workDir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: MiB });
  if (child.status !== 0) throw new Error(`${spec.name}: ${DATACENTER_RUN} exited with ${child.status ?? child.signal}`);
  return JSON.parse(child.stdout) as DatacenterRunResult;
}

async function benchDatacenter(workDir: string, spec: DatacenterSpec): Promise<void> {
  const vms = spec.hosts * spec.vmsPerHost;
  progress(`${spec.name}: ${spec.hosts} hosts, ${vms} VMs, ${spec.migrations} migrations, ${spec.intervalSeconds} s sampling, in a process of its own...`);
  const { result, peakRss, maxRss } = runDatacenterChild(workDir, spec);

  const clients = Object.entries(spec.clients).map(([type, n]) => `${count(n)} ${type}`).join(', ');
  const rows = result.rows;
  console.log('');
  console.log(`Datacenter scale: ${spec.name}`);
  console.log(`  scenario: ${spec.hosts} hosts (${spec.hostCores} cores, ${spec.hostMemoryMB / 1024} GiB each), ${count(vms)} VMs (${spec.vmsPerHost} a host),`);
  console.log(`            ${count(Object.values(spec.clients).reduce((a, b) => a + b, 0))} clients (${clients}), ${spec.migrations} migrations over ${spec.timelineSeconds} s, ${spec.intervalSeconds} s sampling;`);
  console.log(`            request length ${spec.requestSeconds} s on an uncontended vCPU for every type (cpu seconds, memory sleep, memory2 seconds; jitter 5%)`);
  console.log(`  simulated: ${fmt(result.simSeconds)} s (${result.status})`);
  console.log(`  migrations: ${rows.migrations - result.failedMigrations} succeeded, ${result.failedMigrations} did not; actions postponed for a slot: ${fmt(result.postponedSeconds)} s in all`);
  console.log(`  wall time: ${fmt(result.wallSeconds, 2)} s (target: under ${spec.targetSeconds} s; ${fmt((100 * result.wallSeconds) / spec.targetSeconds, 0)}% of it)`);
  console.log(`  speed: ${count(Math.round(result.simSeconds / result.wallSeconds))} simulated s per wall s`);
  console.log(`  requests handled: ${count(rows.requests)} (${count(Math.round(rows.requests / result.wallSeconds))} per wall s)`);
  console.log(`  rows written: ${count(totalRows(result))} (samples ${count(rows.samples)}, requests ${count(rows.requests)}, migrations ${count(rows.migrations)}, actions ${count(rows.actions)})`);
  console.log(`  run directory: ${fmt(result.bytes / MiB)} MiB written (deleted after)`);
  console.log(`  peak RSS: ${fmt(peakRss / MiB, 0)} MiB sampled every 100 ms, ${fmt(maxRss / MiB, 0)} MiB maxRSS of its process (target: under ${fmt(spec.targetBytes / MiB, 0)} MiB)`);
}

const workDir = mkdtempSync(path.join(tmpdir(), 'vm-monitoring-bench-'));
try {
  const started = performance.now();
  await benchSamples(workDir);
  await benchDatacenter(workDir, DATACENTER);
  await benchDatacenter(workDir, CLOUD);
  await benchSpeed(workDir);
  await benchReport(workDir);
  await benchAccuracy(workDir);
  await benchQemu(workDir);
  console.log(`\nbench took ${fmt((performance.now() - started) / 1000)} s in all (node ${process.version})`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
