import type { Clock, Pace } from './clock.ts';
import { TimerQueue, type Timer } from './timer-queue.ts';

/** How many plain callbacks may run before the driver lets the event loop breathe (signals, I/O). */
const CALLBACKS_PER_BREATH = 2000;

const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Discrete-event time. Simulated components schedule callbacks with `at`; time jumps from
 * one callback to the next. Callbacks run synchronously; one that resumes async code (a
 * resolved promise) calls `requestYield`, so that code runs before time moves on.
 */
export class VirtualClock implements Clock {
  private current = 0;
  private seq = 0;
  private yieldRequested = false;
  private readonly queue = new TimerQueue();
  /** Run once before time moves on from the current instant (`beforeTimeMoves`). */
  private endOfInstant: (() => void)[] = [];
  /** The other of two lists that take turns, so that an instant's end allocates none (millions a large run). */
  private spareEndOfInstant: (() => void)[] = [];
  /** With `pace`: at most this many experiment seconds per wall second, counted from `startMs`. */
  private wallPace: { factor: number; startMs: number } | undefined;

  /** From now on, time runs at most `factor` times as fast as the wall clock (for watching a run live). */
  paceAt(factor: number): void {
    if (!(factor > 0) || !Number.isFinite(factor)) throw new RangeError(`pace ${factor}: a positive number of experiment seconds per wall second`);
    this.wallPace = { factor, startMs: performance.now() - (this.current / factor) * 1000 };
  }

  now(): number {
    return this.current;
  }

  at(time: number, callback: () => void): Timer {
    const timer: Timer = { time: Math.max(time, this.current), seq: this.seq++, callback, cancelled: false };
    this.queue.push(timer);
    return timer;
  }

  requestYield(): void {
    this.yieldRequested = true;
  }

  /**
   * Runs `callback` once, after every callback of the current instant and before time moves on:
   * what changed many times in one instant (a hundred streams starting at once) is worked out once.
   */
  beforeTimeMoves(callback: () => void): void {
    this.endOfInstant.push(callback);
  }

  sleepUntil(t: number, signal?: AbortSignal): Promise<void> {
    if (t <= this.current || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = (): void => {
        timer.cancelled = true;
        resolve();
      };
      const timer = this.at(t, () => {
        signal?.removeEventListener('abort', onAbort);
        this.requestYield();
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async drive<T>(work: Promise<T>, pace?: Pace): Promise<T> {
    let settled = false;
    const done = work.then(
      () => (settled = true),
      () => (settled = true),
    );
    void done;
    let idleBreaths = 0;
    for (;;) {
      await breathe();
      await pace?.();
      if (settled) return work;
      const waitMs = this.wallWaitMs();
      if (waitMs > 0) {
        // Short naps, so that signals and I/O (a live view's requests) are served meanwhile.
        await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 100)));
        continue;
      }
      // One more breath before calling it a stall: the last callback may have settled the work.
      // A paced burst that stopped at a callback not yet due is no stall either.
      idleBreaths = this.runUntilYield() || this.wallWaitMs() > 0 ? 0 : idleBreaths + 1;
      if (idleBreaths > 1) {
        throw new Error(`virtual clock stalled at ${this.current} s: nothing scheduled but the run has not finished`);
      }
    }
  }

  /** How long the wall clock must run on before the next callback is due, when paced. */
  private wallWaitMs(): number {
    if (this.wallPace === undefined) return 0;
    const next = this.queue.peek();
    if (next === undefined) return 0;
    return this.wallPace.startMs + (next.time / this.wallPace.factor) * 1000 - performance.now();
  }

  /** The instant's end: what was asked for it so far; what that asks for in turn waits for the next look. */
  private runEndOfInstant(): void {
    const callbacks = this.endOfInstant;
    this.endOfInstant = this.spareEndOfInstant;
    this.spareEndOfInstant = callbacks;
    for (const callback of callbacks) callback();
    callbacks.length = 0;
  }

  /** Runs callbacks until one asks to yield, the queue is empty or (paced) the next is not due yet; false when nothing ran. */
  private runUntilYield(): boolean {
    this.yieldRequested = false;
    let ran = 0;
    while (ran < CALLBACKS_PER_BREATH && !this.yieldRequested && this.wallWaitMs() <= 0) {
      const next = this.queue.peek();
      if (next === undefined) break;
      if (next.time > this.current && this.endOfInstant.length > 0) {
        // They may schedule more callbacks, even at this instant: look again.
        this.runEndOfInstant();
        continue;
      }
      const timer = this.queue.pop() as Timer;
      if (timer.cancelled) continue;
      this.current = timer.time;
      timer.callback();
      ran++;
    }
    return ran > 0;
  }
}
