import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CaseSpec } from './grid.ts';
import type { GuestImage } from './guest-image.ts';
import { isFinished, migrationInfoOf, progressRecordOf, type MigrationInfo, type ProgressRecord } from './migration-info.ts';
import { QemuProcess } from './qemu-process.ts';
import type { QmpClient } from './qmp-client.ts';
import { removeOnExit } from './teardown.ts';
import { sleep } from './wait.ts';

/** The same machine on both sides: one vCPU, no devices but the serial port (no network, no disk). */
export const MACHINE = { type: 'pc', accel: 'tcg', vcpus: 1 } as const;

const QMP_TIMEOUT_MS = 10_000;
/** Boot, and the writer filling its set, under TCG on a busy two-core machine. */
const BOOT_TIMEOUT_MS = 120_000;
const CANCEL_TIMEOUT_MS = 15_000;
/** How long the destination guest is watched after a completed migration for a sign it died. */
const DESTINATION_WATCH_MS = 1_000;
const CONSOLE_TROUBLE = /Kernel panic|BUG:|Oops|general protection|segfault/;

export interface RunSettings {
  qemu: string;
  image: GuestImage;
  warmupSeconds: number;
  timeoutSeconds: number;
  pollMs: number;
}

/** What one migration measured: QEMU's final account, its progress, and how the destination fared. */
export interface CaseMeasurement {
  status: string;
  converged: boolean;
  /** total-time, downtime, setup-time of QEMU's final account; null where it gave none (cancelled). */
  totalTimeMs: number | null;
  downtimeMs: number | null;
  setupTimeMs: number | null;
  transferredBytes: number | null;
  ramTotalBytes: number | null;
  passes: number | null;
  mbps: number | null;
  /** The last account with RAM figures: the final one, or for a cancelled migration the last active one. */
  last: MigrationInfo;
  progress: ProgressRecord[];
  reason: string;
  sourcePid: number;
  destinationPid: number;
  maxBandwidthBytesPerSecond: number;
  /** The destination after a completed migration: its run state and any trouble on its console. */
  destination: { status: string; consoleTrouble: string | null } | null;
}

/** The kernel command line: the words after `--` are the writer's (init's) arguments. */
export function kernelCommandLine(workingSetMB: number | string, rateMBps: number | string): string {
  return `console=ttyS0 quiet panic=-1 -- ws_mb=${workingSetMB} rate_mb_s=${rateMBps}`;
}

/**
 * Measures one migration of `spec` on a fresh pair of QEMUs in a private temp dir, taken down
 * (both QEMUs stopped by pid, the dir removed) however the case ends.
 */
export async function runCase(spec: CaseSpec, settings: RunSettings, say: (message: string) => void): Promise<CaseMeasurement> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'second-harness-'));
  const forgetDir = removeOnExit(dir);
  const started: QemuProcess[] = [];
  const clients: QmpClient[] = [];
  try {
    const guest = guestArguments(spec, settings.image);
    const source = QemuProcess.start(settings.qemu, guest, filesIn(dir, 'source'));
    started.push(source);
    const destination = QemuProcess.start(settings.qemu, [...guest, '-incoming', 'tcp:127.0.0.1:0'], filesIn(dir, 'destination'));
    started.push(destination);
    say(`source pid ${source.pid}, destination pid ${destination.pid}`);
    const sourceQmp = await source.connectQmp(QMP_TIMEOUT_MS);
    clients.push(sourceQmp);
    const destinationQmp = await destination.connectQmp(QMP_TIMEOUT_MS);
    clients.push(destinationQmp);
    const port = await incomingPort(destinationQmp);
    const ready = await source.waitForConsole(spec.bufferMB === 0 ? /^writer: idle/ : /^writer: (filled|bad|cannot)/, BOOT_TIMEOUT_MS);
    if (!/^writer: (idle|filled)/.test(ready)) throw new Error(`the source guest's writer failed: ${ready.trim()}`);
    await sleep(settings.warmupSeconds * 1000);
    if (source.exitedWith !== undefined) throw new Error(`the source QEMU ${source.exitedWith} during the warm-up: ${source.logTail()}`);
    const maxBandwidthBytesPerSecond = (spec.bandwidthMbps * 1e6) / 8;
    await sourceQmp.execute('migrate-set-parameters', { 'max-bandwidth': maxBandwidthBytesPerSecond, 'downtime-limit': spec.downtimeLimitMs }, QMP_TIMEOUT_MS);
    const migration = await migrate(sourceQmp, port, settings);
    const converged = migration.final.status === 'completed';
    if (!converged && migration.final.status !== 'cancelled') {
      throw new Error(`the migration ${migration.final.status}: ${migration.final.errorDescription ?? 'no reason given'}; destination ${destination.exitedWith ?? 'running'}: ${destination.logTail()}`);
    }
    const final = converged ? migration.final : null;
    return {
      status: migration.final.status,
      converged,
      totalTimeMs: final?.totalTimeMs ?? null,
      downtimeMs: final?.downtimeMs ?? null,
      setupTimeMs: final?.setupTimeMs ?? null,
      transferredBytes: final?.ram?.transferred ?? null,
      ramTotalBytes: final?.ram?.total ?? null,
      passes: final?.ram?.dirtySyncCount ?? null,
      mbps: final?.ram?.mbps ?? null,
      last: migration.last,
      progress: migration.progress,
      reason: converged ? '' : `did not converge within ${settings.timeoutSeconds} s (${migration.last.ram?.dirtySyncCount ?? 0} passes)`,
      sourcePid: source.pid,
      destinationPid: destination.pid,
      maxBandwidthBytesPerSecond,
      destination: converged ? await destinationAfter(destination, destinationQmp) : null,
    };
  } finally {
    for (const client of clients) client.close();
    await Promise.all(started.map((qemu) => qemu.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
    forgetDir();
  }
}

function guestArguments(spec: CaseSpec, image: GuestImage): string[] {
  return [
    '-machine', MACHINE.type, '-accel', MACHINE.accel, '-m', `${spec.ramMB}M`, '-smp', String(MACHINE.vcpus),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', image.kernel, '-initrd', image.initrd, '-append', kernelCommandLine(spec.bufferMB, spec.dirtyMBps),
  ];
}

function filesIn(dir: string, side: string): { serialFile: string; logFile: string; qmpSocket: string } {
  return { serialFile: path.join(dir, `${side}.serial`), logFile: path.join(dir, `${side}.log`), qmpSocket: path.join(dir, `${side}.qmp`) };
}

/** The port the kernel gave the destination's `-incoming tcp:127.0.0.1:0`, as its query-migrate says. */
async function incomingPort(destinationQmp: QmpClient): Promise<number> {
  const answer = await destinationQmp.execute('query-migrate', {}, QMP_TIMEOUT_MS);
  const addresses = answer['socket-address'] as { type: string; host: string; port: string }[] | undefined;
  const port = Number(addresses?.find((address) => address.type === 'inet')?.port);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`the destination listens on no TCP port: ${JSON.stringify(answer)}`);
  return port;
}

interface Migration {
  final: MigrationInfo;
  last: MigrationInfo;
  progress: ProgressRecord[];
}

/**
 * Starts the migration and polls query-migrate every `pollMs`: a record whenever a pass begins
 * (dirty-sync-count changes) and the final one. Still going after the timeout, it is cancelled.
 */
async function migrate(qmp: QmpClient, port: number, settings: RunSettings): Promise<Migration> {
  const progress: ProgressRecord[] = [];
  const start = performance.now();
  const seconds = (): number => (performance.now() - start) / 1000;
  await qmp.execute('migrate', { uri: `tcp:127.0.0.1:${port}` }, QMP_TIMEOUT_MS);
  let last: MigrationInfo | undefined;
  let cancelled = false;
  for (;;) {
    const info = migrationInfoOf(await qmp.execute('query-migrate', {}, QMP_TIMEOUT_MS));
    const at = seconds();
    if (isFinished(info.status)) {
      progress.push(progressRecordOf(info, at));
      return { final: info, last: info.ram ? info : (last ?? info), progress };
    }
    if (info.ram) {
      if (info.status === 'active' && progress.at(-1)?.pass !== info.ram.dirtySyncCount) progress.push(progressRecordOf(info, at));
      last = info;
    }
    if (!cancelled && at >= settings.timeoutSeconds) {
      await qmp.execute('migrate_cancel', {}, QMP_TIMEOUT_MS);
      cancelled = true;
    }
    if (cancelled && at >= settings.timeoutSeconds + CANCEL_TIMEOUT_MS / 1000) throw new Error(`the migration was still ${info.status} ${CANCEL_TIMEOUT_MS / 1000} s after migrate_cancel`);
    await sleep(Math.max(0, settings.pollMs - (seconds() - at) * 1000));
  }
}

/** After a completed migration: is the destination guest running, and did its console show trouble within a second? */
async function destinationAfter(destination: QemuProcess, qmp: QmpClient): Promise<{ status: string; consoleTrouble: string | null }> {
  await sleep(DESTINATION_WATCH_MS);
  const answer = destination.exitedWith ? null : await qmp.execute('query-status', {}, QMP_TIMEOUT_MS).catch(() => null);
  // A guest that panics reboots, and -no-reboot makes its QEMU exit (code 0).
  const status = answer ? String(answer.status) : (destination.exitedWith ?? 'no answer to query-status');
  const trouble = destination.console().split('\n').find((line) => CONSOLE_TROUBLE.test(line));
  return { status, consoleTrouble: trouble?.trim() ?? null };
}
