import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { LAB_TCG_RAM_PADDING_KIB, ramKiBOf, type CaseResult, type CaseRunner, type CaseSettings, type CaseWorkload, type MigrationCase } from '../../calibrate/migration-case.ts';
import { caseProgressOf } from '../../calibrate/pass-comparison.ts';
import { RealClock } from '../../run/real-clock.ts';
import type { MigrationConfig, ProbeConfig } from './config.ts';
import { defaultCacheDir } from './guest-image.ts';
import { haproxyCommand } from './haproxy.ts';
import { Lab } from './lab.ts';
import type { Accelerator } from './lab-state.ts';
import { lbGet, waitForVmThroughLb, type LbAnswer } from './lb-request.ts';
import { migrateVm, type QemuMigrationStats } from './migration.ts';
import { isRunning } from './processes.ts';
import type { QmpEvent } from './qmp.ts';

export interface QemuCaseRunnerOptions {
  /** The runner's own lab directory (must hold no lab); default a fresh temporary directory, removed on close. */
  labDir?: string;
  /** Where guest images are cached; default ~/.cache/vm-monitoring, as the lab command's. */
  cacheDir?: string;
  /** As the qemu config's `accelerator`; default `auto` (KVM only if a guest really boots on it). */
  accelerator?: 'auto' | Accelerator;
  settings: CaseSettings;
  log: (line: string) => void;
}

/** The runner of the qemu lab, with QEMU's own account of the last case it migrated. */
export interface QemuCaseRunner extends CaseRunner {
  /** QEMU's statistics of the last case's migration (per-pass progress included), or null before the first. */
  readonly lastStats: QemuMigrationStats | null;
  /**
   * The lab the cases run on now, for the calibration's records: accelerator, QEMU and kernel
   * versions, the VM's RAM and where it is, the load balancer's socket (`/vm/vm1/...`).
   */
  describe(): Record<string, unknown>;
}

const VM = 'vm1';
const HOSTS = ['h1', 'h2'] as const;
/** The probe migrateVm always runs: one ping every 200 ms is no load, unlike the platform's 1 ms. */
const PROBE: ProbeConfig = { intervalMs: 200, settleSeconds: 15 };
/** query-migrate every 50 ms, as QEMU's guestperf. */
const POLL_MS = 50;
/** Workload requests outlive warmup + convergence timeout by this much before they end by themselves. */
const WORKLOAD_MARGIN_SECONDS = 60;
/** After the workload stopped and the VM answers again: time for the guest to finish freeing (and zeroing) its buffer. */
const SETTLE_MS = 1000;
const MAX_MEMORY_REQUESTS = 100_000;
/** The guest server's longest job (its MAX_MS). */
const MAX_LIFETIME_SECONDS = 3600;

interface MigrationEvent {
  status: string;
  /** QEMU's timestamp of the event, in milliseconds. */
  atMs: number;
}

interface Measured {
  stats: QemuMigrationStats;
  interrupted: boolean;
  events: MigrationEvent[];
  /** The sum of the increments of ram.transferred seen by query-migrate: the bytes sent, even when the final answer has no RAM figures. */
  bytesSeen: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs single-VM migration cases on a lab of its own: 2 logical hosts, 1 VM (`vm1`) with the
 * case's RAM. The lab is brought up on the first case, kept while the RAM stays the same
 * (the VM migrates back and forth between the hosts) and brought up again when it changes.
 * Per case: start the workload through the load balancer, wait the warmup, migrate with the
 * case's bandwidth and downtime limit, stop the workload and let the guest free its memory
 * (the guest kernel runs with init_on_free=1, so freed pages are zero again and the next
 * case starts from a clean memory state).
 */
export async function openQemuCaseRunner(options: QemuCaseRunnerOptions): Promise<QemuCaseRunner> {
  const { settings } = options;
  const lifetimeSeconds = settings.warmupSeconds + settings.convergenceTimeoutSeconds + WORKLOAD_MARGIN_SECONDS;
  if (!(settings.warmupSeconds >= 0) || !(settings.convergenceTimeoutSeconds > 0) || !(lifetimeSeconds <= MAX_LIFETIME_SECONDS)) {
    throw new Error(
      `bad case settings: warmupSeconds ${settings.warmupSeconds} (at least 0) and convergenceTimeoutSeconds ${settings.convergenceTimeoutSeconds} ` +
        `(more than 0), together at most ${MAX_LIFETIME_SECONDS - WORKLOAD_MARGIN_SECONDS} s`,
    );
  }
  const ownDir = options.labDir === undefined;
  const dir = ownDir ? fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-calibration-')) : path.resolve(options.labDir as string);
  if (Lab.exists(dir)) throw new Error(`a lab is already in ${dir}: the calibration brings up its own; use another directory`);
  return new LabCaseRunner(dir, ownDir, options);
}

class LabCaseRunner implements QemuCaseRunner {
  lastStats: QemuMigrationStats | null = null;
  private lab: Lab | null = null;
  private labWholeMiB = false;
  private closed = false;
  /** Cases run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly clock = new RealClock();
  private readonly removeExitHook: () => void;

  constructor(
    private readonly dir: string,
    private readonly ownDir: boolean,
    private readonly options: QemuCaseRunnerOptions,
  ) {
    // The lab must not outlive a tool that exits without closing the runner.
    const onExit = (): void => {
      if (!this.closed) Lab.downSync(this.dir);
    };
    process.on('exit', onExit);
    this.removeExitHook = () => process.off('exit', onExit);
  }

  run(migrationCase: MigrationCase, signal: AbortSignal): Promise<CaseResult> {
    const result = this.queue.then(() => this.runCase(migrationCase, signal));
    this.queue = result.catch(() => undefined);
    return result;
  }

  describe(): Record<string, unknown> {
    const state = this.lab?.state;
    return {
      lab_dir: this.dir,
      lb_socket: state?.lb_socket ?? null,
      vm: VM,
      vm_host: this.lab?.vm(VM).host ?? null,
      accelerator: state?.accelerator ?? null,
      accelerator_note: state?.accelerator_note ?? null,
      qemu_version: state?.qemu_version ?? null,
      kernel_version: state?.image?.kernel_version ?? null,
      guest_image: state?.image?.key ?? null,
      memory_mb: state?.memory_mb ?? null,
      vcpus: state?.vcpus ?? null,
      nic: state?.nic ?? null,
      poll_ms: POLL_MS,
      probe_interval_ms: PROBE.intervalMs,
      settings: this.options.settings,
    };
  }

  /** Takes the lab down, after the case running now (abort its signal to end it sooner); idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.takeDown();
    this.removeExitHook();
    if (this.ownDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private log(line: string): void {
    this.options.log(line);
  }

  private async runCase(migrationCase: MigrationCase, signal: AbortSignal): Promise<CaseResult> {
    if (this.closed) throw new Error('the qemu case runner is closed');
    checkCase(migrationCase);
    signal.throwIfAborted();
    const lab = await this.labFor(migrationCase.ramMB, isWholeMiB(migrationCase));
    signal.throwIfAborted();
    const { settings } = this.options;
    const source = lab.vm(VM).host;
    const target = source === HOSTS[0] ? HOSTS[1] : HOSTS[0];
    const workload = startWorkload(lab.state.lb_socket, migrationCase.workload, settings);
    let measured: Measured;
    try {
      await sleepUnlessAborted(settings.warmupSeconds * 1000, signal);
      signal.throwIfAborted();
      workload.check();
      measured = await this.migrate(lab, migrationCase, source, target, signal);
    } finally {
      await workload.stop(lab.state.admin_socket);
    }
    const { stats, interrupted, events, bytesSeen } = measured;
    this.lastStats = stats;
    if (interrupted) {
      signal.throwIfAborted();
      throw new Error(`${migrationCase.id}: the migration was interrupted`);
    }
    // A whole-MiB guest may be broken by its migration; the next case boots a new one anyway.
    const brokenGuestTolerated = this.bootsEachCase(lab);
    if (!brokenGuestTolerated) await this.settle(lab);
    else if (stats.status === 'completed' && stats.reason !== '') {
      this.log(`${migrationCase.id}: the whole-MiB guest broke in its migration (${stats.reason}); QEMU's figures are kept`);
    }
    return caseResult(migrationCase.id, stats, events, bytesSeen, settings.convergenceTimeoutSeconds, brokenGuestTolerated);
  }

  /** One migration of `vm1` with the case's bandwidth and downtime limit, and QEMU's MIGRATION events. */
  private async migrate(lab: Lab, migrationCase: MigrationCase, source: string, target: string, signal: AbortSignal): Promise<Measured> {
    const events: MigrationEvent[] = [];
    let bytesSeen = 0;
    // QEMU's own timestamps of the migration's states: the time to a cancellation, which query-migrate does not give.
    const qmp = await lab.qmp(lab.processOf(VM).id);
    const stopListening = qmp.onEvent((event: QmpEvent) => {
      if (event.event !== 'MIGRATION' || typeof event.data.status !== 'string') return;
      events.push({ status: event.data.status, atMs: event.timestamp.seconds * 1000 + event.timestamp.microseconds / 1000 });
    });
    const migration: MigrationConfig = {
      maxBandwidthMbps: migrationCase.bandwidthMbps,
      downtimeLimitMs: migrationCase.downtimeLimitMs,
      convergenceTimeoutSeconds: this.options.settings.convergenceTimeoutSeconds,
      pollMs: POLL_MS,
    };
    try {
      const outcome = await migrateVm(
        { lab, clock: this.clock, migration, probe: PROBE, onBytes: (_source, _target, bytes) => (bytesSeen += bytes) },
        { vm: VM, source, target },
        signal,
      );
      return { stats: outcome.details.qemu, interrupted: outcome.status === 'interrupted', events, bytesSeen };
    } finally {
      stopListening();
    }
  }

  /** After a case: the VM answers again, then a moment for the guest to free its buffers. */
  private async settle(lab: Lab): Promise<void> {
    await waitForVmThroughLb(lab.state.lb_socket, VM, 60_000);
    await sleep(SETTLE_MS);
  }

  /**
   * The lab for a VM of `ramMB`: the one up if it has that RAM and its VM answers, else a new
   * one. A whole-MiB guest under TCG is booted anew for every case: QEMU 7.2's fast bitmap sync
   * loses its dirty pages, so a guest that went through a migration may be broken.
   */
  private async labFor(ramMB: number, wholeMiB: boolean): Promise<Lab> {
    if (this.lab && !this.bootsEachCase(this.lab) && this.lab.state.memory_mb === ramMB && this.labWholeMiB === wholeMiB) {
      const healthy = isRunning(this.lab.processOf(VM)) && (await waitForVmThroughLb(this.lab.state.lb_socket, VM, 30_000).then(() => true, () => false));
      if (healthy) return this.lab;
      this.log(`the lab's ${VM} does not answer any more: bringing the lab up again`);
    }
    await this.takeDown();
    const { settings } = this.options;
    this.log(`bringing up a lab in ${this.dir}: 2 hosts, ${VM} with ${ramMB} MB${wholeMiB ? ' (whole MiB)' : ''}`);
    this.labWholeMiB = wholeMiB;
    this.lab = await Lab.up(
      {
        dir: this.dir,
        cacheDir: this.options.cacheDir ?? defaultCacheDir(),
        hosts: HOSTS.map((name) => ({ name, cpus: null })),
        vms: [{ name: VM, host: HOSTS[0] }],
        memoryMB: ramMB,
        vcpus: 1,
        nic: 'virtio-net-pci',
        accelerator: this.options.accelerator ?? 'auto',
        kvmProbeSeconds: 8,
        bootTimeoutSeconds: 180,
        // The longest request is a dirtier covering the warmup, the whole migration and the margin.
        serverTimeoutSeconds: Math.ceil(settings.warmupSeconds + settings.convergenceTimeoutSeconds + WORKLOAD_MARGIN_SECONDS * 2),
        wholeMiBMemory: wholeMiB,
      },
      (line) => this.log(`lab: ${line}`),
    );
    // A first moment of rest after the boot, as between cases.
    await sleep(SETTLE_MS);
    return this.lab;
  }

  private bootsEachCase(lab: Lab): boolean {
    return this.labWholeMiB && lab.state.accelerator === 'tcg';
  }

  private async takeDown(): Promise<void> {
    if (!this.lab) return;
    this.lab.detach();
    this.lab = null;
    await Lab.down(this.dir, (line) => this.log(`lab: ${line}`));
  }
}

/** The case's values as the guest server and QEMU take them: whole numbers where they must be. */
function checkCase(migrationCase: MigrationCase): void {
  const problems: string[] = [];
  const whole = (name: string, value: number, min: number, max: number): void => {
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  };
  whole('ramMB', migrationCase.ramMB, 64, 16384);
  const ramKiB = ramKiBOf(migrationCase);
  if (!isWholeMiB(migrationCase) && ramKiB !== migrationCase.ramMB * 1024 + LAB_TCG_RAM_PADDING_KIB) {
    problems.push(`the lab's guest RAM is whole MiB or ${LAB_TCG_RAM_PADDING_KIB} KiB more (under TCG), not ${ramKiB} KiB`);
  }
  whole('downtimeLimitMs', migrationCase.downtimeLimitMs, 1, 2000);
  if (!(migrationCase.bandwidthMbps > 0)) problems.push(`bandwidthMbps must be positive, not ${migrationCase.bandwidthMbps}`);
  const workload = migrationCase.workload;
  if (workload.kind !== 'idle') whole('bufferMB', workload.bufferMB, 1, migrationCase.ramMB);
  if (workload.kind === 'memory') whole('sleepMs', workload.sleepMs, 0, 3_600_000);
  if (workload.kind === 'dirty' || workload.kind === 'rewrite' || workload.kind === 'sweep') whole('rateMBps', workload.rateMBps, 1, 100_000);
  if (problems.length > 0) throw new Error(`case ${migrationCase.id}: ${problems.join('; ')}`);
}

function isWholeMiB(migrationCase: MigrationCase): boolean {
  return ramKiBOf(migrationCase) === migrationCase.ramMB * 1024;
}

/** The case's result from QEMU's statistics, the bytes seen while it ran and its MIGRATION events. */
function caseResult(
  id: string,
  stats: QemuMigrationStats,
  events: readonly MigrationEvent[],
  bytesSeen: number,
  timeoutSeconds: number,
  brokenGuestTolerated: boolean,
): CaseResult {
  const converged = stats.status === 'completed';
  const at = (status: string): number | null => events.find((event) => event.status === status)?.atMs ?? null;
  const startMs = at('setup');
  if (converged) {
    if (stats.reason !== '' && !brokenGuestTolerated) throw new Error(`${id}: QEMU completed the migration but the VM did not take over on the target: ${stats.reason}`);
    const completedMs = at('completed');
    const total = stats.total_time_ms || (startMs !== null && completedMs !== null ? Math.round(completedMs - startMs) : null);
    if (!total) throw new Error(`${id}: QEMU gave no total time for a completed migration`);
    return {
      id, converged, total_ms: total, downtime_ms: stats.downtime_ms, setup_ms: stats.setup_time_ms,
      bytes: stats.transferred_bytes ?? bytesSeen, passes: stats.passes ?? maxPass(stats), reason: '', progress: caseProgressOf(stats.progress),
    };
  }
  if (!/^did not converge/.test(stats.reason)) {
    // Not a case that failed to converge but a lab that failed: no measurement.
    throw new Error(`${id}: the migration ${stats.status}: ${stats.reason}`);
  }
  // A cancelled migration's query-migrate has no times nor RAM figures: its events and the last poll tell them.
  const cancellingMs = at('cancelling') ?? at('cancelled');
  const total = startMs !== null && cancellingMs !== null ? Math.round(cancellingMs - startMs) : timeoutSeconds * 1000;
  return {
    id, converged, total_ms: total, downtime_ms: null, setup_ms: stats.setup_time_ms,
    bytes: stats.transferred_bytes ?? bytesSeen, passes: stats.passes ?? maxPass(stats), reason: stats.reason, progress: caseProgressOf(stats.progress),
  };
}

function maxPass(stats: QemuMigrationStats): number {
  return stats.progress.reduce((max, record) => Math.max(max, record.pass), 0);
}

async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

interface RunningWorkload {
  /** Throws when the workload already failed (a 503 for a buffer the guest cannot spare, a 400, no answer). */
  check(): void;
  /** Stops it and waits until the guest no longer runs it. */
  stop(adminSocket: string): Promise<void>;
}

/** Starts the case's workload on the VM through the load balancer's /vm/vm1/ path. */
function startWorkload(socketPath: string, workload: CaseWorkload, settings: CaseSettings): RunningWorkload {
  const lifetimeMs = (settings.warmupSeconds + settings.convergenceTimeoutSeconds + WORKLOAD_MARGIN_SECONDS) * 1000;
  switch (workload.kind) {
    case 'idle':
      return { check: () => undefined, stop: async () => undefined };
    case 'memory':
      return memoryLoop(socketPath, `/vm/${VM}/memory?mb=${workload.bufferMB}&ms=${workload.sleepMs}`, lifetimeMs);
    case 'dirty':
    case 'rewrite':
      return dirtier(socketPath, `/vm/${VM}/${workload.kind}?mb=${workload.bufferMB}&rate=${workload.rateMBps}&ms=${Math.round(lifetimeMs)}`, lifetimeMs);
    case 'sweep':
      return dirtier(socketPath, `/vm/${VM}/rewrite?mb=${workload.bufferMB}&rate=${workload.rateMBps}&ms=${Math.round(lifetimeMs)}&order=1`, lifetimeMs);
  }
}

/**
 * The seed's memory app in a closed loop: one request at a time, the next as soon as the
 * previous answered; at most MAX_MEMORY_REQUESTS requests and `lifetimeMs`. Stopping gives up
 * the request in flight and has HAProxy close its connection to the VM: the guest's server
 * sees its client gone, ends the sleep and frees the buffer.
 */
function memoryLoop(socketPath: string, requestPath: string, lifetimeMs: number): RunningWorkload {
  const stopping = new AbortController();
  let failure: string | null = null;
  const deadline = performance.now() + lifetimeMs;
  const loop = (async () => {
    for (let sent = 0; !stopping.signal.aborted && sent < MAX_MEMORY_REQUESTS && performance.now() < deadline; sent++) {
      let answer: LbAnswer | null = null;
      try {
        answer = await lbGet(socketPath, requestPath, Math.max(1000, deadline - performance.now() + WORKLOAD_MARGIN_SECONDS * 1000), stopping.signal);
      } catch (error) {
        if (!stopping.signal.aborted) failure ??= (error as Error).message;
      }
      if (answer && (answer.status !== 200 || answer.server !== VM)) failure ??= `HTTP ${answer.status} from '${answer.server}': ${answer.body.trim()}`;
      if (!answer || answer.status !== 200) await sleep(200);
    }
  })();
  return {
    check: () => {
      if (failure !== null) throw new Error(`the memory workload ${requestPath} failed: ${failure}`);
    },
    stop: async (adminSocket) => {
      stopping.abort();
      await loop;
      await haproxyCommand(adminSocket, `shutdown sessions server vm_${VM}/${VM}`);
    },
  };
}

/**
 * One long /dirty request. Stopping aborts it and has HAProxy close its connection to the
 * VM (a client's close alone does not reach the server): the guest's dirtier sees its client
 * gone, stops and frees its buffer.
 */
function dirtier(socketPath: string, requestPath: string, lifetimeMs: number): RunningWorkload {
  let answer: LbAnswer | null = null;
  let failure: string | null = null;
  let aborting = false;
  const request = http.get({ socketPath, path: requestPath, host: 'lab', agent: false, timeout: lifetimeMs + WORKLOAD_MARGIN_SECONDS * 1000 });
  const done = new Promise<void>((resolve) => {
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        const server = response.headers['x-server'];
        answer = { status: response.statusCode ?? 0, server: typeof server === 'string' ? server : '', body };
        resolve();
      });
      response.on('error', () => resolve());
      response.on('close', () => resolve());
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${lifetimeMs / 1000 + WORKLOAD_MARGIN_SECONDS} s`)));
    request.on('error', (error) => {
      if (!aborting) failure ??= error.message;
      resolve();
    });
    request.on('close', () => resolve());
  });
  return {
    check: () => {
      if (failure !== null) throw new Error(`the dirty workload ${requestPath} failed: ${failure}`);
      const ended = answer as LbAnswer | null;
      if (ended !== null) throw new Error(`the dirty workload ${requestPath} ended early: HTTP ${ended.status} from '${ended.server}': ${ended.body.trim()}`);
    },
    stop: async (adminSocket) => {
      aborting = true;
      request.destroy();
      await done;
      await haproxyCommand(adminSocket, `shutdown sessions server vm_${VM}/${VM}`);
    },
  };
}
