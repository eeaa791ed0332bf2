import type { Timer } from '../../run/timer-queue.ts';
import type { VirtualClock } from '../../run/virtual-clock.ts';
import type { MigrationOutcome } from '../platform.ts';
import type { SimHost } from './host.ts';
import type { MigrationProfile } from './profiles.ts';
import type { SimVm } from './vm.ts';

const BYTES_PER_MB = 1024 * 1024;
const PAGE_BYTES = 4096;

/** What a migration needs from the datacenter around it. */
export interface MigrationEnvironment {
  readonly clock: VirtualClock;
  transferStarted(migration: PreCopyMigration): void;
  transferEnded(migration: PreCopyMigration): void;
  vmChanged(vm: SimVm): void;
  moveVm(vm: SimVm, target: SimHost): void;
  /** When a client polling the VM over one connection hears from it again after it resumes. */
  nextAnswerAfterStop(stoppedS: number, resumedS: number): number;
}

type Stage = 'setup' | 'precopy' | 'stop-and-copy' | 'switchover' | 'ended';

/**
 * Pre-copy live migration: setup, a first pass of all memory (zero pages nearly free),
 * passes resending what was dirtied during the previous one until the rest fits in the
 * downtime limit (or the profile's pass cap), then the VM stops, the rest is sent, the
 * switchover costs its fixed time, and the VM resumes on the target.
 */
export class PreCopyMigration {
  /** Bytes per second currently given to the stream (set by the datacenter). */
  rateBps = 0;
  private stage: Stage = 'setup';
  private passes = 0;
  private passBytes = 0;
  private passLeft = 0;
  private passStartS = 0;
  private bytesSent = 0;
  private lastAdvanceS: number;
  private pausedAtS = 0;
  private readonly startedS: number;
  private timer: Timer | null = null;
  private deadline: Timer | null = null;
  private readonly outcome: Promise<MigrationOutcome>;
  private settle!: (outcome: MigrationOutcome) => void;

  constructor(
    readonly vm: SimVm,
    readonly source: SimHost,
    readonly target: SimHost,
    private readonly profile: MigrationProfile,
    setupSeconds: number,
    private readonly env: MigrationEnvironment,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    const now = env.clock.now();
    this.startedS = now;
    this.lastAdvanceS = now;
    this.timer = env.clock.at(now + setupSeconds, () => this.beginPrecopy());
    this.deadline = env.clock.at(now + profile.convergenceTimeoutSeconds, () => this.giveUp());
  }

  get result(): Promise<MigrationOutcome> {
    return this.outcome;
  }

  /** Ends the migration where it is, the VM staying on its source (a no-op once ended). */
  interrupt(): void {
    this.end('interrupted', 'the run was interrupted');
  }

  /** Sending the last dirty pages with the VM stopped. */
  get stopped(): boolean {
    return this.stage === 'stop-and-copy';
  }

  get transferring(): boolean {
    return this.stage === 'precopy' || this.stage === 'stop-and-copy';
  }

  /** Counts the bytes sent at the current rate up to `now`. */
  advance(now: number): void {
    const dt = now - this.lastAdvanceS;
    this.lastAdvanceS = now;
    if (dt <= 0 || !this.transferring) return;
    const sent = Math.min(this.passLeft, this.rateBps * dt);
    this.passLeft -= sent;
    this.bytesSent += sent;
    this.source.addTrafficKB(sent / 1024);
    this.target.addTrafficKB(sent / 1024);
  }

  /** Sets the stream's rate (after `advance(now)`) and reschedules the end of the pass. */
  setRate(now: number, rateBps: number): void {
    if (rateBps === this.rateBps) return;
    this.rateBps = rateBps;
    this.scheduleEndOfPass(now);
  }

  private beginPrecopy(): void {
    const vm = this.vm;
    vm.startDirtyLog();
    vm.tracing = true;
    this.stage = 'precopy';
    const zeroPages = (vm.memoryMB - vm.touchedMB) * (BYTES_PER_MB / PAGE_BYTES);
    this.beginPass(vm.touchedMB * BYTES_PER_MB + zeroPages * this.profile.zeroPageBytes);
    this.env.transferStarted(this);
    this.env.vmChanged(vm);
  }

  private beginPass(bytes: number): void {
    const now = this.env.clock.now();
    this.passes++;
    this.passBytes = bytes;
    this.passLeft = bytes;
    this.passStartS = now;
    this.lastAdvanceS = now;
    this.scheduleEndOfPass(now);
  }

  private scheduleEndOfPass(now: number): void {
    if (this.timer) this.timer.cancelled = true;
    this.timer = null;
    if (!this.transferring || this.rateBps <= 0) return;
    this.timer = this.env.clock.at(now + this.passLeft / this.rateBps, () => this.endOfPass());
  }

  private endOfPass(): void {
    const now = this.env.clock.now();
    this.advance(now);
    this.timer = null;
    this.passLeft = 0;
    if (this.stage === 'stop-and-copy') {
      this.stage = 'switchover';
      this.env.transferEnded(this);
      this.timer = this.env.clock.at(now + this.profile.switchoverSeconds, () => this.land());
      return;
    }
    const passSeconds = Math.max(now - this.passStartS, 1e-9);
    const bandwidth = this.passBytes / passSeconds;
    const dirtyBytes = this.vm.collectDirty() * BYTES_PER_MB;
    const converged = dirtyBytes <= bandwidth * this.profile.downtimeLimitSeconds;
    const capped = this.profile.maxPasses !== null && this.passes >= this.profile.maxPasses;
    if (converged || capped) {
      this.stage = 'stop-and-copy';
      this.pausedAtS = now;
      this.vm.pause();
    }
    this.beginPass(dirtyBytes);
  }

  private land(): void {
    this.timer = null;
    this.env.moveVm(this.vm, this.target);
    this.end('succeeded', '');
  }

  private giveUp(): void {
    if (this.stage === 'setup' || this.stage === 'precopy') {
      this.end('failed', `did not converge within ${this.profile.convergenceTimeoutSeconds} s (${this.passes} passes)`);
    }
  }

  private end(status: MigrationOutcome['status'], reason: string): void {
    if (this.stage === 'ended') return;
    const now = this.env.clock.now();
    this.advance(now);
    const wasTransferring = this.transferring;
    const paused = this.vm.paused;
    this.stage = 'ended';
    if (this.timer) this.timer.cancelled = true;
    if (this.deadline) this.deadline.cancelled = true;
    if (wasTransferring) this.env.transferEnded(this);
    this.vm.tracing = false;
    if (paused) this.vm.resume();
    else this.env.vmChanged(this.vm);
    this.env.clock.requestYield();
    this.settle({
      started_s: this.startedS,
      ended_s: now,
      downtime_ms: paused ? (now - this.pausedAtS) * 1000 : status === 'succeeded' ? 0 : null,
      client_downtime_ms: paused ? (this.env.nextAnswerAfterStop(this.pausedAtS, now) - this.pausedAtS) * 1000 : null,
      bytes: Math.round(this.bytesSent),
      passes: this.passes,
      status,
      reason,
    });
  }
}
