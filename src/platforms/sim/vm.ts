import type { Timer } from '../../run/timer-queue.ts';
import type { VirtualClock } from '../../run/virtual-clock.ts';
import type { VmsConfig } from './config.ts';
import type { SimHost } from './host.ts';
import type { TcgTlb } from './tcg-tlb.ts';
import type { RequestWork } from './workloads.ts';

/** A request inside a VM's guest. */
export interface Job {
  readonly work: RequestWork;
  phaseIndex: number;
  /** For a compute phase: the VM's per-job service count at which the phase ends. */
  finishServed: number;
  /** For a timed phase (a sleep, a busy loop): the guest's time at which it ends (`SimVm.guestNow`). */
  dueGuestS: number;
  /** When the guest received the request. */
  arrivedS: number;
  /** MB of its buffer the job has not written yet: pages never written are zero pages to a migration. */
  untouchedMB: number;
  readonly onDone: (job: Job, doneS: number) => void;
}

const PAGES_PER_MB = 256;

/** Work left below this many megacycles counts as done (floating-point slack). */
const DONE_EPSILON = 1e-6;

/**
 * A simulated VM: one vCPU shared equally among the requests computing in it (processor
 * sharing), its memory as the hypervisor sees it, and the dirty-page log a migration reads.
 *
 * The log counts distinct pages. Sweeps (and the guest OS) write distinct pages until their
 * region is all written; random writers are kept apart, since W MB written at random pages of
 * B MB hit only B (1 - e^(-W/B)) MB of them.
 */
export class SimVm {
  paused = false;
  tracing = false;
  rateMHz = 0;
  /**
   * The vCPU runs none of the guest until `unstall`: it waits for a lock a migration holds
   * (QEMU's BQL, during the setup's dirty-bitmap sync). Timers and the NIC wait, but nothing is
   * lost, unlike a pause.
   */
  stalled = false;
  touchedMB: number;
  /** Cumulative MB written (not distinct pages). */
  dirtiedMB = 0;
  private served = 0;
  /** All the work the vCPU did for requests, in MHz·s: what its CPU counter averages. */
  private workMHzSeconds = 0;
  private lastAdvanceS = 0;
  private readonly computing: Job[] = [];
  /** Of `computing`, in its order, the jobs whose phase writes their buffer: the ones `writeBuffers` looks at. */
  private readonly writing: Job[] = [];
  private dirtyPerMegacycle = 0;
  /** Of `dirtyPerMegacycle`, what phases writing random pages write. */
  private randomDirtyPerMegacycle = 0;
  private buffersMB = 0;
  /** Of `buffersMB`, what jobs that write their buffer have not written yet. */
  private untouchedMB = 0;
  /** The buffers being swept, and those being written at random pages. */
  private writingMB = 0;
  private randomWritingMB = 0;
  private constantMB = 0;
  /** Of `dirtiedMB`, what random writers wrote. */
  private randomDirtiedMB = 0;
  private dirtyMark = 0;
  private randomDirtyMark = 0;
  /** Computing jobs in a phase that fills fresh pages. */
  private filling = 0;
  private writtenSinceMarkMB = 0;
  private peakBuffersSinceMarkMB = 0;
  private peakRandomWritingSinceMarkMB = 0;
  private completionTimer: Timer | null = null;
  private scheduleStale = false;
  private readonly parked: { job: Job; arrivedS: number }[] = [];
  private readonly wakeOnResume: Job[] = [];
  private pausedSinceS = 0;
  private pausedTotalS = 0;
  /** Requests that reached the host while the vCPU stalled: the guest takes them in once it runs again. */
  private readonly heldDuringStall: Job[] = [];

  constructor(
    readonly name: string,
    public host: SimHost,
    private readonly config: VmsConfig,
    private readonly mhzPerVcpu: number,
    private readonly clock: VirtualClock,
    private readonly minRtoS: number,
    /** The guest's clock stands still while the VM is paused (QEMU's does), so its sleeps last longer; else it keeps the host's time. */
    private readonly clockStopsWhilePaused: boolean,
    /** Its QEMU process's TLB under TCG, which a migration's per-page syncs walk; a new one on each host it lands on. */
    public tlb: TcgTlb,
    /** Called after every change of what the VM demands or holds. */
    private readonly changed: (vm: SimVm) => void,
  ) {
    this.touchedMB = Math.min(config.memoryMB, config.guestOsMB);
  }

  get memoryMB(): number {
    return this.config.memoryMB;
  }

  /** The guest's data at the top of RAM, which a migration's scan reaches last. */
  get topOfRamMB(): number {
    return Math.min(this.config.guestOsTopOfRamMB, this.config.guestOsMB, this.config.memoryMB);
  }

  get demandMHz(): number {
    return !this.paused && !this.stalled && this.computing.length > 0 ? this.mhzPerVcpu : 0;
  }

  /** Whether a request is filling fresh memory, which a migration's dirty tracking slows more than computing. */
  get fillsFreshMemory(): boolean {
    return this.filling > 0;
  }

  get dirtyMBps(): number {
    if (this.paused) return 0;
    return this.requestsDirtyMBps + this.config.guestOsDirtyMBps;
  }

  /** What the requests being computed write. */
  private get requestsDirtyMBps(): number {
    return this.paused ? 0 : this.perJobMHz * this.dirtyPerMegacycle;
  }

  private get perJobMHz(): number {
    return this.computing.length > 0 ? this.rateMHz / this.computing.length : 0;
  }

  get activeMB(): number {
    return this.paused ? 0 : Math.min(this.touchedMB, this.config.guestOsActiveMB + this.writingMB + this.randomWritingMB);
  }

  shareableMB(hasNeighbours: boolean): number {
    const os = hasNeighbours ? this.config.guestOsMB * this.config.guestOsShareableFraction : 0;
    return Math.min(this.touchedMB, os + this.constantMB);
  }

  /** A request reaches the guest; while the VM is stopped it is lost and TCP retries later. */
  deliver(job: Job): void {
    const now = this.clock.now();
    if (this.paused) {
      this.parked.push({ job, arrivedS: now });
      return;
    }
    if (this.stalled) {
      this.heldDuringStall.push(job);
      return;
    }
    this.advance(now);
    job.arrivedS = now;
    this.buffersMB += job.work.bufferMB;
    // A buffer the job writes is touched page by page as it writes; one it never writes (cpu's) at once.
    job.untouchedMB = job.work.phases.some((phase) => phase.kind !== 'sleep' && phase.bufferWrites !== 'none') ? job.work.bufferMB : 0;
    this.untouchedMB += job.untouchedMB;
    this.peakBuffersSinceMarkMB = Math.max(this.peakBuffersSinceMarkMB, this.buffersMB);
    this.touch();
    this.startPhase(job, 0, now);
    this.changed(this);
  }

  get cpuWorkMHzSeconds(): number {
    return this.workMHzSeconds;
  }

  /**
   * Brings the service and dirty counters up to `now` at the current rate. It runs for every VM
   * of a host at each event there, so the getters' sums are written out (in the same order).
   */
  advance(now: number): void {
    const dt = now - this.lastAdvanceS;
    if (dt <= 0) return;
    this.lastAdvanceS = now;
    const n = this.computing.length;
    const rateMHz = this.rateMHz;
    const perJobMHz = n > 0 ? rateMHz / n : 0;
    if (n > 0 && rateMHz > 0) {
      this.served += perJobMHz * dt;
      this.workMHzSeconds += rateMHz * dt;
    }
    // A paused guest writes nothing.
    if (this.paused) return;
    this.dirtiedMB += (perJobMHz * this.dirtyPerMegacycle + this.config.guestOsDirtyMBps) * dt;
    this.randomDirtiedMB += perJobMHz * this.randomDirtyPerMegacycle * dt;
    if (this.untouchedMB > 0 && n > 0) this.writeBuffers(perJobMHz * dt);
  }

  /**
   * Each computing job that writes its buffer touches what it writes in `megacycles` of its
   * own: a sweep new pages until none is left, a random writer untouched pages in proportion to
   * them.
   */
  private writeBuffers(megacycles: number): void {
    for (const job of this.writing) {
      // Before looking up the phase: most jobs have nothing left to touch.
      if (job.untouchedMB <= 0) continue;
      // A writing job's phase writes its buffer; the check is for the type of the phase.
      const phase = job.work.phases[job.phaseIndex];
      if (phase === undefined || phase.kind === 'sleep') continue;
      const writtenMB = megacycles * phase.dirtyMBPerMegacycle;
      const touched = phase.bufferWrites === 'random' ? -job.untouchedMB * Math.expm1(-writtenMB / job.work.bufferMB) : Math.min(job.untouchedMB, writtenMB);
      job.untouchedMB -= touched;
      this.untouchedMB -= touched;
    }
    this.touch();
  }

  /** What the guest's buffers have written grows its non-zero memory, once they have used up its freed, non-zero pages. */
  private touch(): void {
    const heldMB = this.buffersMB - this.untouchedMB;
    const reusedMB = Math.min(heldMB, this.config.guestOsReusableMB);
    this.touchedMB = Math.max(this.touchedMB, Math.min(this.config.memoryMB, this.config.guestOsMB + heldMB - reusedMB));
  }

  /** Sets the vCPU's effective rate (after `advance(now)`) and reschedules the next phase end. */
  setRate(now: number, rateMHz: number): void {
    if (rateMHz === this.rateMHz && !this.scheduleStale) return;
    this.rateMHz = rateMHz;
    this.scheduleStale = false;
    if (this.completionTimer) this.completionTimer.cancelled = true;
    this.completionTimer = null;
    const n = this.computing.length;
    if (n === 0 || rateMHz <= 0) return;
    let least = Infinity;
    for (const job of this.computing) least = Math.min(least, job.finishServed);
    if (least === Infinity) return;
    const at = now + (Math.max(0, least - this.served) * n) / rateMHz;
    this.completionTimer = this.clock.at(at, this.computeEnds);
  }

  /** The guest's clock: the host's, less the time the VM stood paused where its clock stops then. */
  private guestNow(now: number): number {
    if (!this.clockStopsWhilePaused) return now;
    return now - this.pausedTotalS - (this.paused ? now - this.pausedSinceS : 0);
  }

  pause(): void {
    this.advance(this.clock.now());
    this.pausedSinceS = this.clock.now();
    this.paused = true;
    this.scheduleStale = true;
    this.changed(this);
  }

  resume(): void {
    const now = this.clock.now();
    this.advance(now);
    this.paused = false;
    this.pausedTotalS += now - this.pausedSinceS;
    this.scheduleStale = true;
    for (const job of this.wakeOnResume.splice(0)) this.onTimeUp(job);
    for (const { job, arrivedS } of this.parked.splice(0)) {
      this.clock.at(retransmissionAfter(arrivedS, now, this.minRtoS), () => this.deliver(job));
    }
    this.changed(this);
  }

  stall(): void {
    this.advance(this.clock.now());
    this.stalled = true;
    this.scheduleStale = true;
    this.changed(this);
  }

  unstall(): void {
    const now = this.clock.now();
    this.advance(now);
    this.stalled = false;
    this.scheduleStale = true;
    if (!this.paused) for (const job of this.wakeOnResume.splice(0)) this.onTimeUp(job);
    for (const job of this.heldDuringStall.splice(0)) this.deliver(job);
    this.changed(this);
  }

  /** Starts a dirty log: what is written from now on is what the next pass must resend. */
  startDirtyLog(): void {
    this.advance(this.clock.now());
    this.dirtyMark = this.dirtiedMB;
    this.randomDirtyMark = this.randomDirtiedMB;
    this.writtenSinceMarkMB = this.config.guestOsActiveMB + this.writingMB;
    this.peakBuffersSinceMarkMB = this.buffersMB;
    this.peakRandomWritingSinceMarkMB = this.randomWritingMB;
  }

  /**
   * MB of distinct pages written since the last mark, and a new mark. A buffer freed and
   * allocated again reuses the guest's pages, so at most the hot OS pages plus the most
   * buffer memory held at once can be dirty. Sweeps and the guest OS write distinct pages
   * until the region they write is all dirty; random writers' pages repeat, so of W MB
   * written into the most random-written buffers held at once, R, only R (1 - e^(-W/R)) are distinct.
   */
  collectDirty(): number {
    return this.collectDistinct().dirtiedMB;
  }

  /**
   * QEMU's bitmap sync: `collectDirty`, with the memory those pages were written in and the
   * share of them random writers wrote (a sweep's pages lie in one band after the last sync's,
   * a random writer's anywhere in its buffer).
   */
  syncDirtyLog(): { dirtiedMB: number; regionMB: number; randomShare: number } {
    return this.collectDistinct();
  }

  private collectDistinct(): { dirtiedMB: number; regionMB: number; randomShare: number } {
    this.advance(this.clock.now());
    const regionMB = this.dirtyRegionMB();
    const randomMB = this.randomDirtiedMB - this.randomDirtyMark;
    const sweptMB = Math.min(this.dirtiedMB - this.dirtyMark - randomMB, this.writtenSinceMarkMB, regionMB);
    const randomRegionMB = this.peakRandomWritingSinceMarkMB;
    const distinctRandomMB = randomRegionMB > 0 ? -randomRegionMB * Math.expm1(-randomMB / randomRegionMB) : 0;
    this.startDirtyLog();
    const distinctMB = sweptMB + distinctRandomMB;
    return { dirtiedMB: Math.min(distinctMB, regionMB), regionMB, randomShare: distinctMB > 0 ? distinctRandomMB / distinctMB : 0 };
  }

  /** The most memory written since the mark: the hot OS pages and the most buffer memory held at once. */
  private dirtyRegionMB(): number {
    return Math.min(this.touchedMB, this.config.guestOsActiveMB + this.peakBuffersSinceMarkMB);
  }

  private startPhase(job: Job, index: number, now: number): void {
    job.phaseIndex = index;
    const phase = job.work.phases[index];
    if (phase === undefined) {
      this.buffersMB -= job.work.bufferMB;
      this.untouchedMB -= job.untouchedMB;
      job.untouchedMB = 0;
      if (!this.tracing) this.tlb.free(job.work.bufferMB * PAGES_PER_MB, now);
      job.onDone(job, now);
      return;
    }
    if (phase.kind !== 'sleep') {
      job.finishServed = phase.kind === 'compute' ? this.served + phase.megacycles : Infinity;
      if (phase.kind === 'busy') this.endAfter(job, phase.wallSeconds, now);
      this.computing.push(job);
      if (phase.bufferWrites !== 'none') this.writing.push(job);
      this.dirtyPerMegacycle += phase.dirtyMBPerMegacycle;
      if (phase.fills) this.filling++;
      if (phase.bufferWrites === 'sweep') {
        this.writingMB += job.work.bufferMB;
        this.writtenSinceMarkMB += job.work.bufferMB;
      } else if (phase.bufferWrites === 'random') {
        this.randomDirtyPerMegacycle += phase.dirtyMBPerMegacycle;
        this.randomWritingMB += job.work.bufferMB;
        this.peakRandomWritingSinceMarkMB = Math.max(this.peakRandomWritingSinceMarkMB, this.randomWritingMB);
      }
      this.scheduleStale = true;
    } else {
      if (job.work.constantBuffer) this.constantMB += job.work.bufferMB;
      this.endAfter(job, phase.seconds, now);
    }
  }

  private nextPhase(job: Job, now: number): void {
    const phase = job.work.phases[job.phaseIndex];
    if (phase !== undefined && phase.kind !== 'sleep') {
      this.computing.splice(this.computing.indexOf(job), 1);
      if (phase.bufferWrites !== 'none') this.writing.splice(this.writing.indexOf(job), 1);
      this.dirtyPerMegacycle -= phase.dirtyMBPerMegacycle;
      if (phase.fills) this.filling--;
      if (phase.bufferWrites === 'sweep') {
        this.writingMB -= job.work.bufferMB;
      } else if (phase.bufferWrites === 'random') {
        this.randomDirtyPerMegacycle -= phase.dirtyMBPerMegacycle;
        this.randomWritingMB -= job.work.bufferMB;
      }
      this.scheduleStale = true;
    } else if (phase?.kind === 'sleep' && job.work.constantBuffer) {
      this.constantMB -= job.work.bufferMB;
    }
    this.startPhase(job, job.phaseIndex + 1, now);
  }

  /** `onComputeEnd` as the clock calls it: one function a VM rather than one at each rate change. */
  private readonly computeEnds = (): void => this.onComputeEnd();

  private onComputeEnd(): void {
    const now = this.clock.now();
    this.advance(now);
    this.completionTimer = null;
    const done = this.computing.filter((job) => Number.isFinite(job.finishServed) && job.finishServed - this.served <= DONE_EPSILON * Math.max(1, job.finishServed));
    for (const job of done) this.nextPhase(job, now);
    this.scheduleStale = true;
    this.changed(this);
  }

  private endAfter(job: Job, seconds: number, now: number): void {
    job.dueGuestS = this.guestNow(now) + seconds;
    this.clock.at(now + seconds, () => this.onTimeUp(job));
  }

  /** A sleep, or a loop that watches the guest's clock, ends when the guest's time is up, or once the vCPU runs again after. */
  private onTimeUp(job: Job): void {
    if (this.paused || this.stalled) {
      this.wakeOnResume.push(job);
      return;
    }
    const now = this.clock.now();
    const left = job.dueGuestS - this.guestNow(now);
    if (left > DONE_EPSILON) {
      this.clock.at(now + left, () => this.onTimeUp(job));
      return;
    }
    this.advance(now);
    this.nextPhase(job, now);
    this.changed(this);
  }
}

/** When TCP's retries (after rto, then doubling) first find the VM running again. */
export function retransmissionAfter(sentS: number, resumedS: number, rtoS: number): number {
  let at = sentS + rtoS;
  let wait = rtoS;
  while (at < resumedS) {
    wait *= 2;
    at += wait;
  }
  return at;
}
