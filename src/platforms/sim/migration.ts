import type { Timer } from '../../run/timer-queue.ts';
import type { VirtualClock } from '../../run/virtual-clock.ts';
import type { MigrationOutcome } from '../platform.ts';
import type { SimHost } from './host.ts';
import type { MigrationProfile } from './profiles.ts';
import type { SimVm } from './vm.ts';

const BYTES_PER_MB = 1024 * 1024;
const PAGE_BYTES = 4096;
const PAGES_PER_MB = BYTES_PER_MB / PAGE_BYTES;
/** QEMU 7.2's rate window (BUFFER_DELAY, migration.c:69): max-bandwidth/10 may leave per window, whose rate sets the next threshold. */
const RATE_WINDOW_SECONDS = 0.1;
/** ram_save_iterate returns to the migration loop after this long at most (MAX_WAIT, ram.c:2711), so a long burst is checked again. */
const MAX_ITERATE_SECONDS = 0.05;
/** Less than a page left of a pass or of a window's budget is nothing: QEMU sends whole pages, overshooting a budget by one at most. */
const SLACK_BYTES = PAGE_BYTES;

/** QEMU 7.2 syncs a RAM block's dirty bitmap by whole 64-bit words when its size is a multiple of 64 pages (cpu_physical_memory_sync_dirty_bitmap). */
const WORD_BYTES_OF_RAM = 64 * PAGE_BYTES;

function scaled(pages: Pages, share: number): Pages {
  return { dataMB: pages.dataMB * share, zeroMB: pages.zeroMB * share, newMB: pages.newMB * share };
}

export function isWordAligned(memoryMB: number): boolean {
  const bytes = Math.round(memoryMB * BYTES_PER_MB);
  return bytes % WORD_BYTES_OF_RAM === 0;
}

/** What the platform drew for one migration: its setup, the factor on its CPU-bound work, and the stopped VM's wait. */
export interface DrawnCosts {
  setupSeconds: number;
  costFactor: number;
  switchoverStallSeconds: number;
}

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
 * Where a migration stood as each pass began (and at its end), as QEMU's query-migrate tells
 * it: seconds since the migration started, the pass (dirty-sync-count), bytes sent so far,
 * and the bytes still to send, every pending page at 4 KiB.
 */
export interface PassProgress {
  at_s: number;
  status: 'setup' | 'active' | MigrationOutcome['status'];
  pass: number;
  transferred: number;
  remaining: number;
}

/**
 * The pages a pass has to send, in MB: those holding data, and zero pages (a tiny record each);
 * `newMB` of the data pages are ones the target does not hold yet (their first copy as data).
 */
interface Pages {
  dataMB: number;
  zeroMB: number;
  newMB: number;
}

/**
 * Pre-copy live migration: setup (ending with a dirty-bitmap sync over all memory), a first
 * pass of all memory (zero pages nearly free), passes resending what was dirtied until the
 * rest fits in the downtime limit (or the profile's pass cap), then the VM stops, the rest is
 * sent, the switchover costs its fixed time, and the VM resumes on the target.
 *
 * When a pass ends is the profile's `resync` rule. `end-of-pass`: once all of it is sent,
 * converging if what was dirtied meanwhile fits the limit at the pass's average rate.
 * `below-threshold` is QEMU 7.2's migration loop (docs/qemu-7.2-precopy-rules.md): the cap is
 * a budget per 100 ms window, spent at the sender's speed; at each check (a window's start,
 * or 50 ms into a burst) pages still pending under the last window's rate x the limit mean a
 * sync, whose new pending set (leftover and newly dirtied pages, each once) is sent with the
 * VM stopped if it is still under that threshold.
 */
export class PreCopyMigration {
  /** Bytes per second the stream sends while sending (set by the datacenter). */
  rateBps = 0;
  private stage: Stage = 'setup';
  private passes = 0;
  private passPages: Pages = { dataMB: 0, zeroMB: 0, newMB: 0 };
  /**
   * The guest's memory the target holds as data: a data page once sent is held (a resend
   * writes into a page already there); a zero page sent to a page never written is not.
   */
  private heldMB = 0;
  private passBytes = 0;
  private passLeft = 0;
  /**
   * Pages of the pass the scan reaches only after `passPages`, sent as they are once those are
   * (the guest's data at the top of RAM, while the first pass has not reached it); null: none.
   */
  private passTail: Pages | null = null;
  private passStartS = 0;
  /** The memory the pending pages are spread over: all of it in the first pass, the dirtied part later. */
  private pendingSpreadMB = 0;
  /** The memory the pending data pages lie in: all the guest touched while the first pass lasts, then what was written since the syncs whose pages are still pending. */
  private pendingDataInMB = 0;
  /** Bytes are leaving (a pass under `end-of-pass`, a burst under `below-threshold`). */
  private sending = false;
  private bytesSent = 0;
  private lastAdvanceS: number;
  private pausedAtS = 0;
  private windowStartS = 0;
  private windowSentBytes = 0;
  private thresholdBytes = 0;
  private burstStartS = 0;
  private readonly startedS: number;
  /** This migration's draw of the profile's cost spread, on its syncs, zero-page checks and switchover. */
  private readonly costFactor: number;
  private readonly switchoverStallSeconds: number;
  private readonly progress: PassProgress[] = [];
  /** The VM's touched memory when the pass last looked (`findNewlyTouched`). */
  private touchedSeenMB = 0;
  /** Whether this migration's sync holds the guest's vCPU (`SimVm.stall`). */
  private holdsGuest = false;
  /** When the dirty log was last synced (or started). */
  private lastSyncS = 0;
  private timer: Timer | null = null;
  /** After the switchover, until the guest runs on the target (`targetStartSeconds`). */
  private targetStart: { timer: Timer; resume: () => void } | null = null;
  private deadline: Timer | null = null;
  private readonly outcome: Promise<MigrationOutcome>;
  private settle!: (outcome: MigrationOutcome) => void;

  constructor(
    readonly vm: SimVm,
    readonly source: SimHost,
    readonly target: SimHost,
    private readonly profile: MigrationProfile,
    drawn: DrawnCosts,
    private readonly env: MigrationEnvironment,
    /** Told of each progress record as it is made (`MigrationOrder.onProgress`). */
    private readonly onProgress?: (progress: PassProgress) => void,
  ) {
    this.costFactor = drawn.costFactor;
    this.switchoverStallSeconds = drawn.switchoverStallSeconds;
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    const now = env.clock.now();
    this.startedS = now;
    this.lastAdvanceS = now;
    this.timer = env.clock.at(now + drawn.setupSeconds, () => this.setupSync());
    this.deadline = env.clock.at(now + profile.convergenceTimeoutSeconds, () => this.giveUp());
  }

  get result(): Promise<MigrationOutcome> {
    return this.outcome;
  }

  /** Ends the migration where it is, the VM staying on its source (once ended, only the wait for the target to start is cut short). */
  interrupt(): void {
    if (this.targetStart) {
      const { timer, resume } = this.targetStart;
      timer.cancelled = true;
      resume();
    }
    this.end('interrupted', 'the run was interrupted');
  }

  /** Sending the last dirty pages with the VM stopped. */
  get stopped(): boolean {
    return this.stage === 'stop-and-copy';
  }

  get transferring(): boolean {
    return this.stage === 'precopy' || this.stage === 'stop-and-copy';
  }

  private get windowed(): boolean {
    return this.profile.resync === 'below-threshold';
  }

  /** Counts the bytes sent at the current rate up to `now`. */
  advance(now: number): void {
    const dt = now - this.lastAdvanceS;
    this.lastAdvanceS = now;
    if (this.transferring) this.findNewlyTouched();
    if (dt <= 0 || !this.transferring || !this.sending) return;
    const sent = Math.min(this.passLeft, this.sendingBps() * dt, this.budgetLeft());
    if (this.passBytes > 0) this.heldMB += this.passPages.newMB * (sent / this.passBytes);
    this.passLeft -= sent;
    this.windowSentBytes += sent;
    this.bytesSent += sent;
    this.source.addTrafficKB(sent / 1024);
    this.target.addTrafficKB(sent / 1024);
  }

  /** Sets the stream's rate (after `advance(now)`) and reschedules what ends its sending. */
  setRate(now: number, rateBps: number): void {
    if (rateBps === this.rateBps) return;
    this.rateBps = rateBps;
    if (!this.sending) return;
    if (this.windowed && this.stage === 'precopy') this.scheduleBurstEnd(now);
    else this.scheduleEndOfPass(now);
  }

  /** QEMU's setup: dirty logging starts, then sync #1 walks the log, where every page is dirty. */
  private setupSync(): void {
    this.timer = null;
    const vm = this.vm;
    vm.startDirtyLog();
    vm.tracing = true;
    this.windowStartS = this.env.clock.now();
    this.lastSyncS = this.windowStartS;
    this.recordProgress('setup', this.windowStartS);
    this.env.vmChanged(vm);
    this.afterSync(this.syncSeconds(vm.memoryMB, 0), () => this.beginPrecopy());
  }

  private beginPrecopy(): void {
    this.timer = null;
    const vm = this.vm;
    vm.tlb.flushAfterSetup(this.env.clock.now());
    this.stage = 'precopy';
    this.pendingSpreadMB = vm.memoryMB;
    this.pendingDataInMB = vm.memoryMB;
    this.touchedSeenMB = vm.touchedMB;
    const topMB = Math.min(vm.topOfRamMB, vm.touchedMB);
    this.passTail = topMB > 0 ? { dataMB: topMB, zeroMB: 0, newMB: topMB } : null;
    this.beginPass({ dataMB: vm.touchedMB - topMB, zeroMB: vm.memoryMB - vm.touchedMB, newMB: vm.touchedMB - topMB });
    this.env.transferStarted(this);
    this.env.vmChanged(vm);
    if (this.windowed) this.loop();
    else this.send();
  }

  private beginPass(pages: Pages): void {
    const now = this.env.clock.now();
    this.passes++;
    this.passPages = pages;
    this.passBytes = this.bytesOf(pages);
    this.passLeft = this.passBytes;
    this.passStartS = now;
    this.lastAdvanceS = now;
    this.recordProgress('active', now);
  }

  private bytesOf(pages: Pages): number {
    return pages.dataMB * BYTES_PER_MB + pages.zeroMB * PAGES_PER_MB * this.profile.zeroPageBytes;
  }

  /** The pass's pages after the segment being sent, in MB, a zero page at 4 KiB. */
  private tailPendingBytes(): number {
    return this.passTail ? (this.passTail.dataMB + this.passTail.zeroMB) * BYTES_PER_MB : 0;
  }

  /** The segment being sent is done: the pages the scan reaches next follow, in the same pass. */
  private nextSegment(): boolean {
    if (this.passLeft >= SLACK_BYTES || !this.passTail) return false;
    this.passPages = this.passTail;
    this.passTail = null;
    this.passBytes = this.bytesOf(this.passPages);
    this.passLeft = this.passBytes;
    return true;
  }

  private recordProgress(status: PassProgress['status'], now: number): void {
    const { dataMB, zeroMB } = this.passPages;
    const remaining = (this.passBytes > 0 ? (dataMB + zeroMB) * BYTES_PER_MB * (this.passLeft / this.passBytes) : 0) + this.tailPendingBytes();
    const progress: PassProgress = { at_s: now - this.startedS, status, pass: this.passes, transferred: Math.round(this.bytesSent), remaining: Math.round(remaining) };
    this.progress.push(progress);
    this.onProgress?.({ ...progress });
  }

  private send(): void {
    this.sending = true;
    this.scheduleEndOfPass(this.env.clock.now());
  }

  private scheduleEndOfPass(now: number): void {
    this.cancelTimer();
    if (!this.transferring || this.rateBps <= 0) return;
    this.timer = this.env.clock.at(now + this.passLeft / this.sendingBps(), () => this.endOfPass());
  }

  private endOfPass(): void {
    const now = this.env.clock.now();
    this.advance(now);
    this.timer = null;
    if (this.passLeft < SLACK_BYTES) this.passLeft = 0;
    if (this.nextSegment()) return this.scheduleEndOfPass(now);
    this.passLeft = 0;
    this.sending = false;
    if (this.stage === 'stop-and-copy') {
      this.stage = 'switchover';
      this.env.transferEnded(this);
      this.timer = this.env.clock.at(now + this.profile.switchoverSeconds * this.costFactor + this.switchoverStallSeconds, () => this.land());
      return;
    }
    const passSeconds = Math.max(now - this.passStartS, 1e-9);
    const bandwidth = this.passBytes / passSeconds;
    const dirtyMB = this.vm.collectDirty();
    const dirtyBytes = dirtyMB * BYTES_PER_MB;
    const converged = dirtyBytes <= bandwidth * this.profile.downtimeLimitSeconds;
    const capped = this.profile.maxPasses !== null && this.passes >= this.profile.maxPasses;
    if (converged || capped) {
      this.stage = 'stop-and-copy';
      this.pausedAtS = now;
      this.vm.pause();
    }
    this.beginPass({ dataMB: dirtyMB, zeroMB: 0, newMB: Math.min(dirtyMB, this.unheldOutsidePendingMB(0)) });
    this.afterSync(this.syncSeconds(dirtyMB, this.cleanPageWritesMBps(dirtyMB)), () => this.send());
  }

  /** The top of QEMU's migration loop: while the window's budget lasts, the pending check, then a burst; else the rate limiter. */
  private loop(): void {
    if (this.budgetLeft() < SLACK_BYTES) return this.rateLimit();
    if (this.pendingBytes() < this.thresholdBytes) this.sync(() => this.decide());
    else this.decide();
  }

  /** migration_iteration_run: what is pending, after any sync, is sent live while it is at or over the threshold. */
  private decide(): void {
    const pending = this.pendingBytes();
    if (pending > 0 && pending >= this.thresholdBytes) this.burst();
    else this.stopAndCopy();
  }

  private burst(): void {
    const now = this.env.clock.now();
    this.burstStartS = now;
    this.lastAdvanceS = now;
    this.sending = true;
    this.scheduleBurstEnd(now);
  }

  /** A burst lasts until the budget or the pass is spent, or MAX_WAIT. */
  private scheduleBurstEnd(now: number): void {
    this.cancelTimer();
    const bytes = Math.min(this.passLeft, this.budgetLeft());
    const spentAt = this.rateBps > 0 ? now + bytes / this.sendingBps() : Infinity;
    this.timer = this.env.clock.at(Math.min(spentAt, this.burstStartS + MAX_ITERATE_SECONDS), () => this.burstEnd());
  }

  private burstEnd(): void {
    const now = this.env.clock.now();
    this.advance(now);
    this.timer = null;
    if (this.passLeft < SLACK_BYTES) this.passLeft = 0;
    // The scan goes on into the pages after those sent, within the burst (no check between).
    if (this.nextSegment() && now < this.burstStartS + MAX_ITERATE_SECONDS && this.budgetLeft() >= SLACK_BYTES) return this.scheduleBurstEnd(now);
    this.sending = false;
    this.rateLimit();
  }

  /** migration_rate_limit: a window 100 ms old closes (its rate x the limit is the new threshold); a spent budget waits for the window's end. */
  private rateLimit(): void {
    const now = this.env.clock.now();
    if (now >= this.windowStartS + RATE_WINDOW_SECONDS) {
      this.thresholdBytes = (this.windowSentBytes / (now - this.windowStartS)) * this.profile.downtimeLimitSeconds;
      this.windowStartS = now;
      this.windowSentBytes = 0;
    }
    if (this.budgetLeft() >= SLACK_BYTES) return this.loop();
    this.timer = this.env.clock.at(this.windowStartS + RATE_WINDOW_SECONDS, () => {
      this.timer = null;
      this.loop();
    });
  }

  /** migration_completion: the VM stops, the last sync adds what was written since the one before, and the rest goes unthrottled. */
  private stopAndCopy(): void {
    this.stage = 'stop-and-copy';
    this.pausedAtS = this.env.clock.now();
    this.vm.pause();
    this.sync(() => this.send());
  }

  /**
   * A bitmap sync: the pages written since the last one join those still pending, a page
   * rewritten while pending still counted once. Which pending pages were rewritten is not
   * tracked: a random writer's pages are taken as hitting each pending page with the chance
   * dirtied / what they spread over; a sweep's lie in the band after those of the sync
   * before, apart from what is still pending, until the pending set fills the memory written:
   * the memory the pending pages were dirtied in and the memory written since (for a guest
   * that keeps rewriting the same buffers, the same memory). Its cost depends on how fast the
   * guest was dirtying clean pages (`cleanPageWritesMBps`).
   */
  private sync(next: () => void): void {
    const { dirtiedMB, regionMB, randomShare } = this.vm.syncDirtyLog();
    const leftover = this.passBytes > 0 ? this.passLeft / this.passBytes : 0;
    const rewritten = randomShare * Math.min(1, dirtiedMB / Math.max(this.pendingSpreadMB, dirtiedMB, 1e-9));
    const kept = leftover * (1 - rewritten);
    // The pages the scan has not reached stay after the rest (the cursor stays where it is), less those rewritten.
    const tail = this.passTail ? scaled(this.passTail, 1 - rewritten) : null;
    const tailMB = tail ? tail.dataMB : 0;
    this.pendingDataInMB = Math.min(this.vm.touchedMB, Math.max(kept > 0 || tail ? this.pendingDataInMB : 0, regionMB, dirtiedMB));
    const dataMB = Math.max(0, Math.min(this.passPages.dataMB * kept + dirtiedMB, this.pendingDataInMB - tailMB));
    const keptNewMB = this.passPages.newMB * kept;
    const newMB = Math.min(dataMB, keptNewMB + Math.min(dirtiedMB, this.unheldOutsidePendingMB(keptNewMB + (tail ? tail.newMB : 0))));
    this.passTail = tail;
    this.beginPass({ dataMB, zeroMB: this.passPages.zeroMB * kept, newMB });
    this.pendingSpreadMB = Math.max(regionMB, dirtiedMB);
    this.afterSync(this.syncSeconds(dirtiedMB, this.cleanPageWritesMBps(dirtiedMB)), next);
  }

  /**
   * The guest's written memory the target does not hold and that is not among the `pendingNewMB`
   * still to go: what the guest wrote where the scan found a zero page (or had not written yet).
   * Pages a sync adds are taken from it first: the rest of what the guest rewrote the target holds.
   */
  private unheldOutsidePendingMB(pendingNewMB: number): number {
    return Math.max(0, this.vm.touchedMB - this.heldMB - pendingNewMB);
  }

  /**
   * How fast the guest dirtied clean pages since the last sync (the `dirtiedMB` it logged), for
   * the sync now starting, which becomes the last: each such write takes TCG's slow path, whose
   * bookkeeping the sync then contends with; a guest rewriting pages already dirty writes none
   * of them, and a stopped one none at all.
   */
  private cleanPageWritesMBps(dirtiedMB: number): number {
    const now = this.env.clock.now();
    const since = now - this.lastSyncS;
    this.lastSyncS = now;
    return this.vm.paused || since <= 0 ? 0 : dirtiedMB / since;
  }

  /** A sync lasts `seconds`, sending nothing meanwhile, the guest stalled where the profile says so; then `next`. */
  private afterSync(seconds: number, next: () => void): void {
    if (seconds <= 0) return next();
    const stalls = this.profile.setupStallsGuest && this.stage === 'setup';
    if (stalls) this.stallGuest();
    this.timer = this.env.clock.at(this.env.clock.now() + seconds, () => {
      this.timer = null;
      this.releaseGuest();
      next();
    });
  }

  private stallGuest(): void {
    this.vm.stall();
    this.holdsGuest = true;
  }

  private releaseGuest(): void {
    if (!this.holdsGuest) return;
    this.holdsGuest = false;
    this.vm.unstall();
  }

  /**
   * What a sync costs. RAM a multiple of 256 KiB takes QEMU 7.2's fast path: the bitmap a
   * 64-page word at a time over all of RAM, whatever is dirty. Other RAM takes the slow path:
   * every page of RAM tested, and each of the `loggedMB` of dirty pages in the log cleared one
   * by one, with a walk of the vCPU's TLB per page under TCG (longer the larger it has grown),
   * costing more the faster the guest dirtied clean pages.
   */
  private syncSeconds(loggedMB: number, dirtyMBps: number): number {
    const { syncSecondsPerPage, syncSecondsPerPagePerDirtyMBps, syncScanSecondsPerPage, wordSyncSecondsPerPage, tlbEntrySyncSeconds } = this.profile;
    const ramPages = this.vm.memoryMB * PAGES_PER_MB;
    if (isWordAligned(this.vm.memoryMB)) return ramPages * wordSyncSecondsPerPage * this.costFactor;
    const perDirtyPage = syncSecondsPerPage + syncSecondsPerPagePerDirtyMBps * dirtyMBps + tlbEntrySyncSeconds * this.vm.tlb.extraEntries;
    return (ramPages * syncScanSecondsPerPage + loggedMB * PAGES_PER_MB * perDirtyPage) * this.costFactor;
  }

  /**
   * QEMU reads a page when it sends it: a zero page the guest writes before the scan reaches
   * it goes as data. Pages the guest touched since the last look are spread over the zero
   * pages: they move from the pass's zero pages to its data, the share of the pass left
   * unchanged, so that the share of them still pending goes as data.
   */
  private findNewlyTouched(): void {
    this.vm.advance(this.env.clock.now());
    const touched = this.vm.touchedMB;
    const grownMB = touched - this.touchedSeenMB;
    this.touchedSeenMB = touched;
    const { dataMB, zeroMB, newMB } = this.passPages;
    if (grownMB <= 0 || zeroMB <= 0 || this.passBytes <= 0 || this.passLeft <= 0) return;
    const left = this.passLeft / this.passBytes;
    const writtenMB = Math.min(grownMB, zeroMB);
    this.passPages = { dataMB: dataMB + writtenMB, zeroMB: zeroMB - writtenMB, newMB: newMB + writtenMB };
    this.passBytes = this.bytesOf(this.passPages);
    this.passLeft = this.passBytes * left;
  }

  /**
   * The pass's bytes per second at the stream's rate: each zero page also holds the sender
   * for `zeroPageSeconds` (checking it is zero and writing its record), and each data page the
   * target does not hold yet for `firstCopySecondsPerPage` (the target faulting its page in),
   * spread evenly over the pass.
   */
  private sendingBps(): number {
    const { zeroMB, newMB } = this.passPages;
    const pageSeconds = (zeroMB * this.profile.zeroPageSeconds + newMB * this.profile.firstCopySecondsPerPage) * PAGES_PER_MB * this.costFactor;
    if (pageSeconds <= 0 || this.passBytes <= 0) return this.rateBps;
    return this.passBytes / (this.passBytes / this.rateBps + pageSeconds);
  }

  /** QEMU's `remaining`: every pending page at 4 KiB, a zero page too. */
  private pendingBytes(): number {
    const tail = this.tailPendingBytes();
    if (this.passLeft < SLACK_BYTES || this.passBytes <= 0) return tail;
    const { dataMB, zeroMB } = this.passPages;
    return (dataMB + zeroMB) * BYTES_PER_MB * (this.passLeft / this.passBytes) + tail;
  }

  /** What the current rate window still lets out: everything outside live bursts under a cap. */
  private budgetLeft(): number {
    const cap = this.profile.maxBandwidthMBps;
    if (!this.windowed || this.stage !== 'precopy' || cap === null) return Infinity;
    return Math.max(0, cap * BYTES_PER_MB * RATE_WINDOW_SECONDS - this.windowSentBytes);
  }

  private cancelTimer(): void {
    if (this.timer) this.timer.cancelled = true;
    this.timer = null;
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
    this.cancelTimer();
    if (this.deadline) this.deadline.cancelled = true;
    if (wasTransferring) this.env.transferEnded(this);
    this.vm.tracing = false;
    this.releaseGuest();
    this.recordProgress(status, now);
    const record: Omit<MigrationOutcome, 'client_downtime_ms'> = {
      started_s: this.startedS,
      ended_s: now,
      downtime_ms: paused ? (now - this.pausedAtS) * 1000 : status === 'succeeded' ? 0 : null,
      bytes: Math.round(this.bytesSent),
      passes: this.passes,
      status,
      reason,
      details: { sim: { progress: this.progress } },
    };
    const resume = (): void => {
      this.targetStart = null;
      const resumedS = this.env.clock.now();
      if (paused) this.vm.resume();
      else this.env.vmChanged(this.vm);
      this.env.clock.requestYield();
      this.settle({ ...record, client_downtime_ms: paused ? (this.env.nextAnswerAfterStop(this.pausedAtS, resumedS) - this.pausedAtS) * 1000 : null });
    };
    // The source's end is QEMU's (its downtime ends there); the guest runs once the target has started.
    if (paused && status === 'succeeded' && this.profile.targetStartSeconds > 0) this.targetStart = { timer: this.env.clock.at(now + this.profile.targetStartSeconds, resume), resume };
    else resume();
  }
}
