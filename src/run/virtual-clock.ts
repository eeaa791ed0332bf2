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
      // One more breath before calling it a stall: the last callback may have settled the work.
      idleBreaths = this.runUntilYield() ? 0 : idleBreaths + 1;
      if (idleBreaths > 1) {
        throw new Error(`virtual clock stalled at ${this.current} s: nothing scheduled but the run has not finished`);
      }
    }
  }

  /** Runs callbacks until one asks to yield or the queue is empty; false when nothing ran. */
  private runUntilYield(): boolean {
    this.yieldRequested = false;
    let ran = 0;
    while (ran < CALLBACKS_PER_BREATH && !this.yieldRequested) {
      const timer = this.queue.pop();
      if (timer === undefined) break;
      if (timer.cancelled) continue;
      this.current = timer.time;
      timer.callback();
      ran++;
    }
    return ran > 0;
  }
}
