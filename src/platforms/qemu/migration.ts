import type { Clock } from '../../run/clock.ts';
import type { MigrationOrder, MigrationOutcome } from '../platform.ts';
import type { MigrationConfig, ProbeConfig } from './config.ts';
import type { MigrationIntegrity } from '../../load/integrity.ts';
import type { Lab } from './lab.ts';
import type { ProcessRecord } from './lab-state.ts';
import { Probe, type ProbeResult } from '../../load/probe.ts';
import type { QmpClient, QmpEvent } from './qmp.ts';

/**
 * One record per pass over the VM's memory, as QEMU's guestperf keeps them (from query-migrate,
 * read as the pass begins), and a last one with the migration's end state.
 */
export interface PassProgress {
  at_s: number;
  status: string;
  pass: number;
  transferred: number;
  remaining: number;
  total: number;
  duplicate_pages: number;
  normal_pages: number;
  dirty_pages_rate: number;
  mbps: number;
  expected_downtime_ms: number | null;
}

/** QEMU's own statistics of one migration, next to what the platform records. */
export interface QemuMigrationStats {
  vm: string;
  source: string;
  target: string;
  source_pid: number;
  target_pid: number | null;
  status: string;
  reason: string;
  total_time_ms: number | null;
  downtime_ms: number | null;
  setup_time_ms: number | null;
  transferred_bytes: number | null;
  ram_total_bytes: number | null;
  passes: number | null;
  mbps: number | null;
  max_bandwidth_bytes_per_s: number;
  downtime_limit_ms: number;
  progress: PassProgress[];
  probe: ProbeResult | null;
}

export interface QemuMigrationOutcome extends MigrationOutcome {
  /** `integrity` is the platform's, added once the VM's answers over the migration are in. */
  details: { qemu: QemuMigrationStats; integrity?: MigrationIntegrity };
}

/** QEMU's statistics in a migration record's details; null when the qemu platform did not run it. */
export function qemuStatsOf(details: Record<string, unknown> | undefined): QemuMigrationStats | null {
  const stats = details?.qemu;
  return typeof stats === 'object' && stats !== null ? (stats as QemuMigrationStats) : null;
}

export interface MigrationContext {
  lab: Lab;
  clock: Clock;
  migration: MigrationConfig;
  probe: ProbeConfig;
  /** Bytes the migration stream moved since the previous call, for the hosts' network counters. */
  onBytes(source: string, target: string, bytes: number): void;
}

type MigrateInfo = {
  status?: string;
  'error-desc'?: string;
  'total-time'?: number;
  downtime?: number;
  'setup-time'?: number;
  'expected-downtime'?: number;
  ram?: {
    transferred?: number;
    remaining?: number;
    total?: number;
    duplicate?: number;
    normal?: number;
    'dirty-pages-rate'?: number;
    mbps?: number;
    'dirty-sync-count'?: number;
  };
};

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One live migration, QEMU's way: a target QEMU started with `-incoming` on the target host,
 * `events`, `max-bandwidth` and `downtime-limit` set, `migrate` over a unix socket, then
 * `query-migrate` every poll interval keeping one progress record per pass. On success the
 * VM runs in the target process and the source process is ended; otherwise the target is
 * ended and the VM keeps running where it was.
 */
export async function migrateVm(context: MigrationContext, order: MigrationOrder, signal: AbortSignal): Promise<QemuMigrationOutcome> {
  const { lab, clock, migration } = context;
  const requestedS = clock.now();
  const source = lab.processOf(order.vm);
  const stats = initialStats(order, source.pid, migration);
  const failed = (reason: string, status: MigrationOutcome['status'] = 'failed'): QemuMigrationOutcome => {
    stats.status = status;
    stats.reason = reason;
    return {
      started_s: requestedS, ended_s: clock.now(), downtime_ms: null, client_downtime_ms: null, bytes: null, passes: null, status, reason,
      details: { qemu: stats },
    };
  };
  // A target on the VM's own host would take over its tap: refused before anything starts.
  if (order.source === order.target) return failed(`${order.vm} is already on ${order.target}`);
  if (source.host !== order.source) return failed(`${order.vm} is on ${source.host}, not ${order.source}`);
  if (signal.aborted) return failed('the run was interrupted', 'interrupted');

  let target: ProcessRecord;
  try {
    target = await lab.startIncoming(order.vm, order.target);
  } catch (error) {
    return failed(`cannot start the target QEMU: ${(error as Error).message}`);
  }
  stats.target_pid = target.pid;
  const uri = `unix:${lab.migrationSocket(target.id)}`;
  let sourceQmp: QmpClient;
  let targetQmp: QmpClient;
  try {
    [sourceQmp, targetQmp] = await Promise.all([lab.qmp(source.id), lab.qmp(target.id)]);
    await configure(sourceQmp, targetQmp, uri, stats);
  } catch (error) {
    await lab.retire(target.id).catch(() => undefined);
    return failed(`cannot prepare the migration: ${(error as Error).message}`);
  }

  const probe = new Probe(clock, { socketPath: lab.state.lb_socket }, order.vm, context.probe.intervalMs, migration.convergenceTimeoutSeconds + context.probe.settleSeconds + 60);
  probe.start();
  // The end as QEMU announces it: the MIGRATION event arrives at once, a poll up to one interval later.
  let completedAtS: number | null = null;
  const stopListening = sourceQmp.onEvent((event: QmpEvent) => {
    if (event.event === 'MIGRATION' && event.data.status === 'completed') completedAtS ??= clock.now();
  });
  try {
    const startedS = clock.now();
    const run = await runToEnd(context, order, sourceQmp, uri, startedS, stats.progress, signal);
    const info = run.info.status === 'completed' ? await settledInfo(sourceQmp, run.info) : run.info;
    stopListening();
    const endedS = completedAtS ?? clock.now();
    readStats(stats, info);
    // The final state as its own progress record, when the last poll did not see it.
    if (stats.progress.length > 0) recordPass(stats.progress, info, clock.now() - startedS);

    let reason = run.reason;
    if (info.status === 'completed') {
      if (await waitUntilRunning(targetQmp, 10_000)) {
        // The source goes at once, as after a real switchover; the probe then waits for the VM to answer from its new host.
        lab.commitMove(order.vm, target.id);
        await lab.retire(source.id).catch(() => undefined); // what would not end is left to `lab down`
        stats.probe = await probe.finish(context.probe.settleSeconds);
        return {
          started_s: startedS, ended_s: endedS, downtime_ms: stats.downtime_ms, client_downtime_ms: stats.probe.maxGapMs,
          bytes: stats.transferred_bytes, passes: stats.passes, status: 'succeeded', reason: '', details: { qemu: stats },
        };
      }
      // The target never ran: give the VM back to the source.
      reason = 'the target did not start running after the migration completed';
      await sourceQmp.execute('cont').catch(() => undefined);
    }

    await lab.retire(target.id).catch(() => undefined);
    // QEMU resumes the source after a cancelled or failed migration; make sure it runs.
    if (!(await waitUntilRunning(sourceQmp, 5000))) await sourceQmp.execute('cont').catch(() => undefined);
    // The migration ended here; then the probe waits for the VM to answer where it stayed, unless the run was interrupted: nobody waits then.
    const failedS = clock.now();
    stats.probe = run.interrupted ? await probe.stop() : await probe.finish(context.probe.settleSeconds);
    stats.reason = reason ?? info['error-desc'] ?? `migration ${info.status ?? 'ended'}`;
    return {
      started_s: startedS, ended_s: failedS, downtime_ms: null, client_downtime_ms: stats.probe.maxGapMs,
      bytes: stats.transferred_bytes, passes: stats.passes, status: run.interrupted ? 'interrupted' : 'failed', reason: stats.reason,
      details: { qemu: stats },
    };
  } finally {
    // Whatever happened above, no listener and no probe outlive the migration.
    stopListening();
    if (!probe.isStopped) await probe.stop();
  }
}

function initialStats(order: MigrationOrder, sourcePid: number, migration: MigrationConfig): QemuMigrationStats {
  return {
    vm: order.vm, source: order.source, target: order.target, source_pid: sourcePid, target_pid: null,
    status: 'not started', reason: '', total_time_ms: null, downtime_ms: null, setup_time_ms: null, transferred_bytes: null,
    ram_total_bytes: null, passes: null, mbps: null, max_bandwidth_bytes_per_s: Math.round((migration.maxBandwidthMbps * 1e6) / 8),
    downtime_limit_ms: migration.downtimeLimitMs, progress: [], probe: null,
  };
}

/** The target listens on `uri`; both sides send events; the source gets the bandwidth and downtime limits. */
async function configure(sourceQmp: QmpClient, targetQmp: QmpClient, uri: string, stats: QemuMigrationStats): Promise<void> {
  const events = [{ capability: 'events', state: true }];
  await targetQmp.execute('migrate-set-capabilities', { capabilities: events });
  await targetQmp.execute('migrate-incoming', { uri });
  await sourceQmp.execute('migrate-set-capabilities', { capabilities: events });
  await sourceQmp.execute('migrate-set-parameters', { 'max-bandwidth': stats.max_bandwidth_bytes_per_s, 'downtime-limit': stats.downtime_limit_ms });
}

/**
 * Issues `migrate` and polls `query-migrate` until QEMU says it ended, recording each new pass
 * and the bytes sent; cancels it when it does not converge in time or the run is interrupted.
 * QEMU's MIGRATION_PASS and MIGRATION events wake the poll at once, so that a pass is recorded
 * as it begins, not up to a poll interval later (a pass shorter than a QMP round trip is still
 * seen only through the next one's pass number). `reason` is ours (not QEMU's) when we
 * cancelled the migration or lost QMP.
 */
async function runToEnd(
  context: MigrationContext,
  order: MigrationOrder,
  sourceQmp: QmpClient,
  uri: string,
  startedS: number,
  progress: PassProgress[],
  signal: AbortSignal,
): Promise<{ info: MigrateInfo; reason: string | null; interrupted: boolean }> {
  const { clock, migration } = context;
  let info: MigrateInfo = {};
  let reason: string | null = null;
  let interrupted = false;
  let cancelled = false;
  let lastTransferred = 0;
  let wake: (() => void) | null = null;
  const stopWaking = sourceQmp.onEvent((event: QmpEvent) => {
    if (event.event === 'MIGRATION_PASS' || event.event === 'MIGRATION') wake?.();
  });
  try {
    await sourceQmp.execute('migrate', { uri });
    for (;;) {
      info = await sourceQmp.execute<MigrateInfo>('query-migrate');
      const now = clock.now();
      const transferred = info.ram?.transferred ?? lastTransferred;
      if (transferred > lastTransferred) context.onBytes(order.source, order.target, transferred - lastTransferred);
      lastTransferred = transferred;
      recordPass(progress, info, now - startedS);
      // Every poll, not only as a pass begins: a live view shows the bytes moving.
      order.onProgress?.({
        at_s: now - startedS, status: info.status ?? '', pass: info.ram?.['dirty-sync-count'] ?? 0, transferred, remaining: info.ram?.remaining ?? 0,
      });
      if (TERMINAL.has(info.status ?? '')) break;
      if (!cancelled) {
        if (signal.aborted) {
          interrupted = true;
          reason = 'the run was interrupted';
        } else if (now - startedS > migration.convergenceTimeoutSeconds) {
          reason = `did not converge within ${migration.convergenceTimeoutSeconds} s (${info.ram?.['dirty-sync-count'] ?? 0} passes)`;
        }
        if (reason !== null) {
          cancelled = true;
          await sourceQmp.execute('migrate_cancel');
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, migration.pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } catch (error) {
    reason ??= `QMP: ${(error as Error).message}`;
    info = { ...info, status: 'failed' };
  } finally {
    stopWaking();
  }
  return { info, reason, interrupted };
}

/** Right at completion QEMU may still read 0 for total-time: reads again, a little later, until it does not. */
async function settledInfo(sourceQmp: QmpClient, info: MigrateInfo): Promise<MigrateInfo> {
  let settled = info;
  for (let attempt = 0; attempt < 10 && !((settled['total-time'] ?? 0) > 0 && settled.downtime !== undefined); attempt++) {
    await sleep(50);
    settled = await sourceQmp.execute<MigrateInfo>('query-migrate').catch(() => settled);
  }
  return settled;
}

/** QEMU's final account of the migration, from its last `query-migrate`. */
function readStats(stats: QemuMigrationStats, info: MigrateInfo): void {
  stats.status = info.status ?? 'unknown';
  stats.total_time_ms = info['total-time'] ?? null;
  stats.downtime_ms = info.downtime ?? null;
  stats.setup_time_ms = info['setup-time'] ?? null;
  stats.transferred_bytes = info.ram?.transferred ?? null;
  stats.ram_total_bytes = info.ram?.total ?? null;
  stats.passes = info.ram?.['dirty-sync-count'] ?? null;
  stats.mbps = info.ram?.mbps ?? null;
}

/** Appends a progress record when a new pass began (dirty-sync-count grew) or the migration reached a new end state. */
function recordPass(progress: PassProgress[], info: MigrateInfo, atS: number): void {
  const pass = info.ram?.['dirty-sync-count'] ?? 0;
  const status = info.status ?? '';
  const last = progress.at(-1);
  const isNew = !last || pass > last.pass || (TERMINAL.has(status) && last.status !== status);
  if (!isNew) return;
  progress.push({
    at_s: atS,
    status,
    pass,
    transferred: info.ram?.transferred ?? 0,
    remaining: info.ram?.remaining ?? 0,
    total: info.ram?.total ?? 0,
    duplicate_pages: info.ram?.duplicate ?? 0,
    normal_pages: info.ram?.normal ?? 0,
    dirty_pages_rate: info.ram?.['dirty-pages-rate'] ?? 0,
    mbps: info.ram?.mbps ?? 0,
    expected_downtime_ms: info['expected-downtime'] ?? null,
  });
}

async function waitUntilRunning(qmp: QmpClient, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const status = await qmp.execute<{ status: string }>('query-status', undefined, Math.max(100, deadline - performance.now())).catch(() => null);
    if (status?.status === 'running') return true;
    await sleep(20);
  }
  return false;
}
