import type { Clock } from '../../run/clock.ts';
import type { MigrationOrder, MigrationOutcome } from '../platform.ts';
import type { MigrationConfig, ProbeConfig } from './config.ts';
import type { Lab } from './lab.ts';
import type { ProcessRecord } from './lab-state.ts';
import { Probe, type ProbeResult } from './probe.ts';
import type { QmpClient, QmpEvent } from './qmp.ts';

/** One record per pass over the VM's memory, as QEMU's guestperf keeps them (from query-migrate). */
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
  details: { qemu: QemuMigrationStats };
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
  const maxBandwidth = Math.round((migration.maxBandwidthMbps * 1e6) / 8);
  const source = lab.processOf(order.vm);
  const stats: QemuMigrationStats = {
    vm: order.vm, source: order.source, target: order.target, source_pid: source.pid, target_pid: null,
    status: 'not started', reason: '', total_time_ms: null, downtime_ms: null, setup_time_ms: null, transferred_bytes: null,
    ram_total_bytes: null, passes: null, mbps: null, max_bandwidth_bytes_per_s: maxBandwidth, downtime_limit_ms: migration.downtimeLimitMs,
    progress: [], probe: null,
  };
  const failed = (reason: string, status: MigrationOutcome['status'] = 'failed'): QemuMigrationOutcome => {
    const now = clock.now();
    stats.status = status;
    stats.reason = reason;
    return {
      started_s: requestedS, ended_s: now, downtime_ms: null, client_downtime_ms: null, bytes: null, passes: null, status, reason, details: { qemu: stats },
    };
  };
  if (source.host !== order.source) return failed(`${order.vm} is on ${source.host}, not ${order.source}`);
  if (signal.aborted) return failed('the run was interrupted', 'interrupted');

  let target: ProcessRecord;
  let sourceQmp: QmpClient;
  let targetQmp: QmpClient;
  try {
    target = await lab.startIncoming(order.vm, order.target);
  } catch (error) {
    return failed(`cannot start the target QEMU: ${(error as Error).message}`);
  }
  stats.target_pid = target.pid;
  const uri = `unix:${lab.migrationSocket(target.id)}`;
  try {
    [sourceQmp, targetQmp] = await Promise.all([lab.qmp(source.id), lab.qmp(target.id)]);
    const events = [{ capability: 'events', state: true }];
    await targetQmp.execute('migrate-set-capabilities', { capabilities: events });
    await targetQmp.execute('migrate-incoming', { uri });
    await sourceQmp.execute('migrate-set-capabilities', { capabilities: events });
    await sourceQmp.execute('migrate-set-parameters', { 'max-bandwidth': maxBandwidth, 'downtime-limit': migration.downtimeLimitMs });
  } catch (error) {
    await lab.retire(target.id).catch(() => undefined);
    return failed(`cannot prepare the migration: ${(error as Error).message}`);
  }

  const probe = new Probe(clock, lab.state.lb_socket, order.vm, context.probe.intervalMs, migration.convergenceTimeoutSeconds + context.probe.settleSeconds + 60);
  probe.start();
  // The end as QEMU announces it: the MIGRATION event arrives at once, a poll up to one interval later.
  let completedAtS: number | null = null;
  const stopListening = sourceQmp.onEvent((event: QmpEvent) => {
    if (event.event === 'MIGRATION' && event.data.status === 'completed') completedAtS ??= clock.now();
  });

  const startedS = clock.now();
  let info: MigrateInfo = {};
  let ourReason: string | null = null;
  let interrupted = false;
  let lastTransferred = 0;
  try {
    await sourceQmp.execute('migrate', { uri });
    let cancelled = false;
    for (;;) {
      info = await sourceQmp.execute<MigrateInfo>('query-migrate');
      const now = clock.now();
      const transferred = info.ram?.transferred ?? lastTransferred;
      if (transferred > lastTransferred) context.onBytes(order.source, order.target, transferred - lastTransferred);
      lastTransferred = transferred;
      recordPass(stats.progress, info, now - startedS);
      if (TERMINAL.has(info.status ?? '')) break;
      if (!cancelled && signal.aborted) {
        interrupted = true;
        ourReason = 'the run was interrupted';
      } else if (!cancelled && now - startedS > migration.convergenceTimeoutSeconds) {
        ourReason = `did not converge within ${migration.convergenceTimeoutSeconds} s (${info.ram?.['dirty-sync-count'] ?? 0} passes)`;
      }
      if (!cancelled && ourReason !== null) {
        cancelled = true;
        await sourceQmp.execute('migrate_cancel');
      }
      await sleep(migration.pollMs);
    }
  } catch (error) {
    ourReason ??= `QMP: ${(error as Error).message}`;
    info = { ...info, status: 'failed' };
  }

  if (info.status === 'completed') {
    // Right at completion QEMU may still read 0 for total-time and downtime: read again.
    for (let attempt = 0; attempt < 10 && !(info['total-time'] && info.downtime !== undefined && info['total-time'] > 0); attempt++) {
      await sleep(50);
      info = await sourceQmp.execute<MigrateInfo>('query-migrate').catch(() => info);
    }
  }
  stopListening();
  const endedS = Math.min(completedAtS ?? clock.now(), clock.now());
  stats.status = info.status ?? 'unknown';
  stats.total_time_ms = info['total-time'] ?? null;
  stats.downtime_ms = info.downtime ?? null;
  stats.setup_time_ms = info['setup-time'] ?? null;
  stats.transferred_bytes = info.ram?.transferred ?? null;
  stats.ram_total_bytes = info.ram?.total ?? null;
  stats.passes = info.ram?.['dirty-sync-count'] ?? null;
  stats.mbps = info.ram?.mbps ?? null;
  const lastPass = stats.progress.at(-1);
  if (lastPass && lastPass.status !== stats.status) recordPass(stats.progress, info, clock.now() - startedS, true);

  if (info.status === 'completed') {
    const running = await waitUntilRunning(targetQmp, 10_000);
    if (running) {
      // The source goes at once, as after a real switchover; the probe then waits for the VM to answer from its new host.
      lab.commitMove(order.vm, target.id);
      await lab.retire(source.id);
      stats.probe = await probe.finish(context.probe.settleSeconds);
      return {
        started_s: startedS, ended_s: endedS, downtime_ms: stats.downtime_ms, client_downtime_ms: stats.probe.maxGapMs,
        bytes: stats.transferred_bytes, passes: stats.passes, status: 'succeeded', reason: '', details: { qemu: stats },
      };
    }
    // The target never ran: give the VM back to the source.
    ourReason = 'the target did not start running after the migration completed';
    await sourceQmp.execute('cont').catch(() => undefined);
  }

  stats.probe = await probe.stop();
  await lab.retire(target.id).catch(() => undefined);
  // QEMU resumes the source after a cancelled or failed migration; make sure it runs.
  if (!(await waitUntilRunning(sourceQmp, 5000))) await sourceQmp.execute('cont').catch(() => undefined);
  const reason = ourReason ?? info['error-desc'] ?? `migration ${info.status ?? 'ended'}`;
  stats.reason = reason;
  return {
    started_s: startedS, ended_s: clock.now(), downtime_ms: null, client_downtime_ms: stats.probe.maxGapMs,
    bytes: stats.transferred_bytes, passes: stats.passes, status: interrupted ? 'interrupted' : 'failed', reason, details: { qemu: stats },
  };
}

/** Appends a progress record when a new pass began (dirty-sync-count changed) or when `force`d. */
function recordPass(progress: PassProgress[], info: MigrateInfo, atS: number, force = false): void {
  const pass = info.ram?.['dirty-sync-count'] ?? 0;
  const status = info.status ?? '';
  const last = progress.at(-1);
  const isNew = !last || pass > last.pass || (TERMINAL.has(status) && last.status !== status);
  if (!force && !isNew) return;
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
    const status = await qmp.execute<{ status: string }>('query-status').catch(() => null);
    if (status?.status === 'running') return true;
    await sleep(20);
  }
  return false;
}
