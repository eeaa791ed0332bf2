/**
 * Benchmarks of the qemu platform on this machine's lab (real VMs): how late the runner
 * fires actions on the real clock, what the monitor itself costs at 1 s sampling, and how
 * close each migration comes to its wire limit (RAM sent / bandwidth). Brings a lab of its
 * own up (3 hosts, 2 VMs, pinned to the last CPU) and takes it down. Skips with a message when the lab's Debian
 * packages are missing. Figures are printed against their targets, never asserted.
 *
 * `benchQemu(workDir)` is called from bench/run.ts; `npx tsx bench/qemu.ts` runs it alone.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlatformOptions } from '../src/platforms/platform.ts';
import { qemuStatsOf } from '../src/platforms/qemu/migration.ts';
import { openQemuPlatform, type QemuPlatform } from '../src/platforms/qemu/qemu-platform.ts';
import { missingLabPackages } from '../src/platforms/qemu/requirements.ts';
import type { ActionRecord, MigrationRecord, RecordSink, SampleRecord } from '../src/record/records.ts';
import { executeRun, prepareRun } from '../src/run/session.ts';
import { parseScript } from '../src/script/parse.ts';
import { placementOf } from '../src/script/validate.ts';

const LATENESS_TARGET_P99_MS = 10;
const PLACEMENT = 'esx1:vm01 esx2:vm02 esx3:';
const IDLE_SECONDS = 20;
const ACTION_PAIRS = 96;
const ACTION_SPACING_S = 0.1;
const MIGRATE_EVERY_PAIRS = 16;

const fmt = (value: number, digits = 1): string => value.toFixed(digits);
const progress = (text: string): boolean => process.stderr.write(`${text}\n`);

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

interface Collected {
  actions: ActionRecord[];
  migrations: MigrationRecord[];
  samples: SampleRecord[];
  wallSeconds: number;
  cpu: NodeJS.CpuUsage;
}

async function runScript(platform: QemuPlatform, script: string): Promise<Collected> {
  const experiment = parseScript(script, 'bench-qemu.txt');
  const prepared = await prepareRun(experiment, platform, 1);
  const collected: Collected = { actions: [], migrations: [], samples: [], wallSeconds: 0, cpu: { user: 0, system: 0 } };
  const sink: RecordSink = {
    sample: (record) => collected.samples.push(record),
    action: (record) => collected.actions.push(record),
    migration: (record) => collected.migrations.push(record),
    request: () => undefined,
    decision: () => undefined,
  };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await executeRun(prepared, sink, { maxMigrationsPerHost: 4, signal: new AbortController().signal });
  collected.wallSeconds = (performance.now() - started) / 1000;
  collected.cpu = process.cpuUsage(cpuBefore);
  return collected;
}

/** About 200 actions a tenth of a second apart, a migration among them now and then, under a client's load. */
function latenessScript(): string {
  const lines = [PLACEMENT, '0 add-client memory2 1'];
  const route = [['vm01', 'esx2'], ['vm02', 'esx3'], ['vm01', 'esx3'], ['vm02', 'esx1'], ['vm01', 'esx1'], ['vm02', 'esx2']] as const;
  let migrations = 0;
  for (let pair = 0; pair < ACTION_PAIRS; pair++) {
    lines.push(`${ACTION_SPACING_S} add-client cpu 1`, `${ACTION_SPACING_S} remove-client cpu 1`);
    if ((pair + 1) % MIGRATE_EVERY_PAIRS === 0) {
      const [vm, host] = route[migrations++ % route.length] as readonly [string, string];
      lines.push(`${ACTION_SPACING_S} migrate ${vm} ${host}`);
    }
  }
  lines.push('2 end');
  return `${lines.join('\n')}\n`;
}

export async function benchQemu(workDir: string): Promise<void> {
  console.log('');
  console.log('QEMU lab (real VMs on this machine)');
  const missing = missingLabPackages();
  if (missing.length > 0) {
    console.log(`  skipped: missing Debian packages ${[...new Set(missing.map((m) => m.debianPackage))].join(' ')} (scripts/install-lab-deps.sh installs them)`);
    return;
  }
  if (process.getuid?.() !== 0) {
    console.log('  skipped: the lab needs root (network namespaces, taps)');
    return;
  }
  const configPath = path.join(workDir, 'qemu-bench.yaml');
  // The lab's QEMU processes pinned to the last CPU, the others left to the tool and HAProxy:
  // on a 2-core machine, two TCG guests and a migration stream otherwise saturate both cores
  // and stall every process on it (even a bare Node timer) by tens of milliseconds.
  const cpus = availableParallelism();
  const pin = cpus >= 2 ? `, cpus: [${cpus - 1}]` : '';
  const hosts = ['esx1', 'esx2', 'esx3'].map((name) => `{ name: ${name}${pin} }`).join(', ');
  writeFileSync(configPath, `labDir: ${path.join(workDir, 'qemu-lab')}\nhosts: [${hosts}]\nload: { requestTimeoutSeconds: 60 }\n`);
  const options: PlatformOptions = { configPath, seed: 1, placement: placementOf(parseScript(`${PLACEMENT}\n`, 'placement')), caFile: undefined, insecure: false };
  progress('qemu: bringing a lab up (3 hosts, 2 VMs)...');
  const platform = await openQemuPlatform(options);
  try {
    const lab = platform.lab.state;
    console.log(`  lab: ${lab.hosts.length} hosts, ${lab.vms.length} VMs of ${lab.memory_mb} MB, accelerator ${lab.accelerator} (${lab.accelerator_note});`);
    console.log(`       ${pin ? `QEMU pinned to CPU ${cpus - 1}, CPUs 0-${cpus - 2} left to this tool and HAProxy` : 'one CPU: nothing pinned'}`);
    console.log(`       boot ${Object.entries(lab.boot_seconds).map(([vm, s]) => `${vm} ${fmt(s)} s`).join(', ')}`);

    progress(`qemu: ${IDLE_SECONDS} s idle at 1 s sampling (the monitor's own cost)...`);
    const idle = await runScript(platform, `${PLACEMENT}\n${IDLE_SECONDS} end\n`);
    const cpuMs = (idle.cpu.user + idle.cpu.system) / 1000;
    const samples = new Set(idle.samples.map((s) => s.time_s)).size;
    console.log(
      `  monitor cost at 1 s sampling: ${fmt(cpuMs / idle.wallSeconds)} ms of CPU per second (${fmt(cpuMs / idle.wallSeconds / 10, 2)}% of a core; ` +
        `${samples} samples of ${lab.hosts.length} hosts, dirty-rate queries included) over ${fmt(idle.wallSeconds)} s, no clients`,
    );

    progress(`qemu: ${ACTION_PAIRS * 2} client actions ${ACTION_SPACING_S} s apart with migrations among them...`);
    const busy = await runScript(platform, latenessScript());
    const fired = busy.actions.filter((a) => a.status === 'fired' && a.action !== 'end');
    const late = (a: ActionRecord): number => (a.fired_s - a.scheduled_s) * 1000 - a.postponed_ms;
    const lateness = fired.map(late).sort((a, b) => a - b);
    const p99 = quantile(lateness, 0.99);
    const migrating = (a: ActionRecord): boolean => busy.migrations.some((m) => a.scheduled_s >= m.started_s && a.scheduled_s <= m.ended_s);
    const during = fired.filter(migrating).map(late).sort((a, b) => a - b);
    const outside = fired.filter((a) => !migrating(a)).map(late).sort((a, b) => a - b);
    console.log(
      `  action lateness (fired − scheduled − postponed) over ${lateness.length} actions: p50 ${fmt(quantile(lateness, 0.5), 2)} ms, ` +
        `p99 ${fmt(p99, 2)} ms, max ${fmt(lateness.at(-1) ?? Number.NaN, 2)} ms (target: p99 under ${LATENESS_TARGET_P99_MS} ms; ${p99 < LATENESS_TARGET_P99_MS ? 'met' : 'missed'})`,
    );
    console.log(
      `    while no migration runs (${outside.length}): p50 ${fmt(quantile(outside, 0.5), 2)} ms, p99 ${fmt(quantile(outside, 0.99), 2)} ms, max ${fmt(outside.at(-1) ?? Number.NaN, 2)} ms; ` +
        `during a migration (${during.length}): p50 ${fmt(quantile(during, 0.5), 2)} ms, max ${fmt(during.at(-1) ?? Number.NaN, 2)} ms`,
    );
    const busyCpuMs = (busy.cpu.user + busy.cpu.system) / 1000;
    console.log(`  the tool's CPU under load (clients, probe at 1 ms, monitor): ${fmt(busyCpuMs / busy.wallSeconds / 10, 1)}% of a core over ${fmt(busy.wallSeconds)} s`);

    console.log('  migrations: total time against the wire limit (RAM sent / max-bandwidth)');
    console.log(`    ${'vm'.padEnd(5)} ${'route'.padEnd(11)} ${'status'.padEnd(10)} ${'total ms'.padStart(8)} ${'MB sent'.padStart(8)} ${'wire ms'.padStart(8)} ${'ratio'.padStart(6)} ${'passes'.padStart(6)} ${'down ms'.padStart(7)} ${'probe ms'.padStart(8)}`);
    const ratios: number[] = [];
    for (const stats of [...idle.migrations, ...busy.migrations].flatMap((record) => qemuStatsOf(record.details) ?? [])) {
      const wireMs = stats.transferred_bytes !== null ? (stats.transferred_bytes / stats.max_bandwidth_bytes_per_s) * 1000 : Number.NaN;
      const ratio = stats.total_time_ms !== null ? stats.total_time_ms / wireMs : Number.NaN;
      if (Number.isFinite(ratio)) ratios.push(ratio);
      console.log(
        `    ${stats.vm.padEnd(5)} ${`${stats.source}->${stats.target}`.padEnd(11)} ${stats.status.padEnd(10)} ${String(stats.total_time_ms ?? '-').padStart(8)} ` +
          `${fmt((stats.transferred_bytes ?? Number.NaN) / 1e6).padStart(8)} ${fmt(wireMs, 0).padStart(8)} ${fmt(ratio, 2).padStart(6)} ${String(stats.passes ?? '-').padStart(6)} ` +
          `${String(stats.downtime_ms ?? '-').padStart(7)} ${fmt(stats.probe?.maxGapMs ?? Number.NaN, 0).padStart(8)}`,
      );
    }
    if (ratios.length > 0) {
      const sorted = [...ratios].sort((a, b) => a - b);
      console.log(`    ratio over ${ratios.length} migrations: min ${fmt(sorted[0] as number, 2)}, median ${fmt(quantile(sorted, 0.5), 2)}, max ${fmt(sorted.at(-1) as number, 2)} (1.00: the wire limit; above: setup, passes waiting on the guest, switchover)`);
    }
  } finally {
    await platform.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const workDir = mkdtempSync(path.join(tmpdir(), 'vm-monitoring-bench-qemu-'));
  try {
    await benchQemu(workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
