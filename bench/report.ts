/**
 * The report's benchmark: a synthetic run directory of one simulated hour with a million
 * request rows, written by the run's own writer (RunDirectory), then `buildReport` on it in
 * this process, timed and its memory sampled, against the targets of the report issue.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { COUNTERS } from '../src/monitor/counters.ts';
import type { MigrationRecord, RequestStatus } from '../src/record/records.ts';
import { RunDirectory } from '../src/record/run-directory.ts';
import { buildReport } from '../src/report/build-report.ts';
import { TOOL_VERSION } from '../src/version.ts';

export const REPORT_REQUESTS = 1_000_000;
const RUN_SECONDS = 3600;
const HOSTS = 4;
const VMS = 8;
const MIGRATIONS = 200;
/** Closed-loop clients, each on one VM; with requests of about 0.7 s they send a million in about the hour. */
const CLIENTS = 200;
const REPORT_TARGET_S = 10;
const REPORT_TARGET_BYTES = 1024 ** 3;
const RSS_SAMPLE_MS = 50;

const MiB = 1024 * 1024;
const fmt = (value: number, digits = 1): string => value.toFixed(digits);
const count = (value: number): string => value.toLocaleString('en-US');
const progress = (text: string): boolean => process.stderr.write(`${text}\n`);
const round3 = (value: number): number => Math.round(value * 1000) / 1000;

const hostName = (h: number): string => `esx${h + 1}`;
const vmName = (v: number): string => `vm${String(v + 1).padStart(2, '0')}`;

/** A small deterministic generator (mulberry32): the same run every time. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface RowCounts {
  samples: number;
  migrations: number;
  requests: number;
  okRequests: number;
}

/**
 * Writes the synthetic run: 8 VMs on 4 hosts, a migration every 18 s (8 to 15 s long, the VMs
 * in turn, each to the next host round), the hosts' seven counters every second, and a million
 * requests of 200 closed-loop clients, slower while their VM migrates.
 */
function writeSyntheticRun(dir: string): RowCounts {
  const rand = random(42);
  const run = RunDirectory.open(dir, {
    tool: 'vm-monitoring',
    version: TOOL_VERSION,
    node: process.version,
    script: { path: 'bench/report-synthetic.txt', text: '# synthetic: written by bench/report.ts\n' },
    platform: { name: 'synthetic', profile: 'bench' },
    seed: 42,
    interval_s: 1,
    max_migrations_per_host: 4,
    started_at: new Date().toISOString(),
  });

  // Migrations, and from them where each VM is and when it is migrating.
  const hostOf = Array.from({ length: VMS }, (_, v) => v % HOSTS);
  const migrating = Array.from({ length: VMS }, () => new Uint8Array(RUN_SECONDS + 2));
  const vmCountChanges: { time: number; from: number; to: number }[] = [];
  const gap = RUN_SECONDS / MIGRATIONS;
  for (let i = 0; i < MIGRATIONS; i++) {
    const vm = i % VMS;
    const source = hostOf[vm] as number;
    const target = (source + 1) % HOSTS;
    const started = round3(gap / 2 + i * gap);
    const ended = round3(started + 8 + 7 * rand());
    const failed = i % 97 === 96;
    const record: MigrationRecord = {
      vm: vmName(vm),
      source: hostName(source),
      target: hostName(target),
      requested_s: started,
      started_s: started,
      ended_s: ended,
      duration_ms: round3((ended - started) * 1000),
      downtime_ms: failed ? null : round3(240 + 40 * rand()),
      client_downtime_ms: null,
      bytes: failed ? null : Math.round(1.5e8 + 1e7 * rand()),
      passes: failed ? null : 2 + Math.floor(2 * rand()),
      status: failed ? 'failed' : 'succeeded',
      reason: failed ? 'synthetic failure' : '',
      kind: 'script',
    };
    run.migration(record);
    for (let t = Math.floor(started); t <= Math.ceil(ended); t++) (migrating[vm] as Uint8Array)[t] = 1;
    if (!failed) {
      hostOf[vm] = target;
      vmCountChanges.push({ time: ended, from: source, to: target });
    }
  }

  // Samples: every host's seven counters each second.
  const vmsOn = Array.from({ length: HOSTS }, (_, h) => Array.from({ length: VMS }, (_, v) => v % HOSTS).filter((x) => x === h).length);
  let samples = 0;
  let change = 0;
  for (let t = 1; t <= RUN_SECONDS; t++) {
    for (; change < vmCountChanges.length && (vmCountChanges[change] as { time: number }).time <= t; change++) {
      const { from, to } = vmCountChanges[change] as { from: number; to: number };
      vmsOn[from] = (vmsOn[from] as number) - 1;
      vmsOn[to] = (vmsOn[to] as number) + 1;
    }
    for (let h = 0; h < HOSTS; h++) {
      const vms = vmsOn[h] as number;
      const values: [{ name: string; unit: string }, number][] = [
        [COUNTERS.cpuUsage, round3(Math.min(7600, vms * 1900 * (0.8 + 0.2 * rand())))],
        [COUNTERS.memConsumed, round3(vms * 600_000 + 50_000 * rand())],
        [COUNTERS.memActive, round3(vms * 16_384 * (1 + rand()))],
        [COUNTERS.memShared, round3(vms > 1 ? 20_000 * rand() : 0)],
        [COUNTERS.memSwapUsed, 0],
        [COUNTERS.netUsage, round3(5 + 100_000 * rand() * Number(rand() < 0.02))],
        [COUNTERS.vmCount, vms],
      ];
      for (const [counter, value] of values) {
        run.sample({ time_s: t, host: hostName(h), counter: counter.name, value, unit: counter.unit });
        samples++;
      }
    }
  }

  // Requests: client c sends to VM c % VMS, one request after the other.
  const clock = Array.from({ length: CLIENTS }, () => rand());
  let okRequests = 0;
  let lastReceived = 0;
  for (let i = 0; i < REPORT_REQUESTS; i++) {
    const client = i % CLIENTS;
    const vm = client % VMS;
    const sent = clock[client] as number;
    const slow = (migrating[vm] as Uint8Array)[Math.floor(sent)] === 1 ? 1.6 : 1;
    const latencyMs = round3((470 + 450 * rand()) * slow);
    const received = round3(sent + latencyMs / 1000);
    const roll = rand();
    const status: RequestStatus = roll < 0.001 ? 'error' : 'ok';
    if (status === 'ok') okRequests++;
    run.request({
      client_type: client % 3 === 0 ? 'memory2' : 'cpu',
      client_id: `${client % 3 === 0 ? 'memory2' : 'cpu'}-${client + 1}`,
      sent_s: round3(sent),
      received_s: received,
      latency_ms: latencyMs,
      server: vmName(vm),
      processing_ms: round3(latencyMs - 0.5),
      status,
      corrupt_words: status === 'ok' ? 0 : null,
    });
    clock[client] = received + 0.005;
    lastReceived = Math.max(lastReceived, received);
  }
  run.finish({ status: 'completed', ended_at: new Date().toISOString(), run_seconds: Math.max(RUN_SECONDS, lastReceived), wall_seconds: 0 });
  return { samples, migrations: MIGRATIONS, requests: REPORT_REQUESTS, okRequests };
}

function directoryBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((total, entry) => total + statSync(path.join(dir, entry.name)).size, 0);
}

/** Wall time and peak RSS (sampled every 50 ms) of `work`. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; wallSeconds: number; peakRss: number }> {
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), RSS_SAMPLE_MS).unref();
  const started = performance.now();
  try {
    const result = await work();
    const wallSeconds = (performance.now() - started) / 1000;
    return { result, wallSeconds, peakRss: Math.max(peakRss, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

/** Responses counted in Table 2, to show the report read every row. */
function responsesInTable2(csv: string): number {
  const [header, ...rows] = csv.trimEnd().split('\n');
  const column = (header ?? '').split(',').indexOf('responses');
  return rows.reduce((total, row) => total + Number(row.split(',')[column]), 0);
}

export async function benchReport(workDir: string): Promise<void> {
  const runDir = path.join(workDir, 'report-run');
  progress(`report: writing a synthetic run with ${count(REPORT_REQUESTS)} requests...`);
  const writeStarted = performance.now();
  const rows = writeSyntheticRun(runDir);
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  const runBytes = directoryBytes(runDir);

  const outDir = path.join(workDir, 'report-out');
  const rssBefore = process.memoryUsage().rss;
  progress('report: buildReport...');
  const { wallSeconds, peakRss } = await measured(() => buildReport([{ dir: runDir, label: 'synthetic' }], { outDir, host: undefined }));
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const reportFiles = readdirSync(outDir);
  const reportBytes = directoryBytes(outDir);
  const responses = responsesInTable2(readFileSync(path.join(outDir, 'server-performance.csv'), 'utf8'));
  rmSync(runDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });

  const allRows = rows.samples + rows.migrations + rows.requests;
  console.log('');
  console.log('Report on a million requests');
  console.log(`  run: ${HOSTS} hosts, ${VMS} VMs, ${CLIENTS} clients, ${MIGRATIONS} migrations over ${RUN_SECONDS} s, 1 s sampling (synthetic, seed 42)`);
  console.log(
    `  rows: requests ${count(rows.requests)}, samples ${count(rows.samples)}, migrations ${count(rows.migrations)}; ` +
      `${fmt(runBytes / MiB)} MiB, written in ${fmt(writeSeconds, 2)} s (deleted after)`,
  );
  console.log(`  buildReport: ${fmt(wallSeconds, 2)} s wall (target: under ${REPORT_TARGET_S} s; ${fmt((100 * wallSeconds) / REPORT_TARGET_S, 0)}% of it)`);
  console.log(`  speed: ${count(Math.round(rows.requests / wallSeconds))} request rows per wall s (${count(Math.round(allRows / wallSeconds))} rows of all files)`);
  console.log(
    `  peak RSS: ${fmt(peakRss / MiB, 0)} MiB sampled every ${RSS_SAMPLE_MS} ms (${fmt(rssBefore / MiB, 0)} MiB before the report; ` +
      `target: under ${fmt(REPORT_TARGET_BYTES / MiB, 0)} MiB)`,
  );
  console.log(`            ${fmt(maxRss / MiB, 0)} MiB maxRSS of the whole process: it includes the sections above and writing the run`);
  console.log(`  report: ${reportFiles.length} files, ${fmt(reportBytes / 1024, 0)} KiB; Table 2 counts ${count(responses)} responses of the ${count(rows.okRequests)} 'ok' rows written`);
}
