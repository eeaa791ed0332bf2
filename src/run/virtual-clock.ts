import type { Clock } from './clock.ts';
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

  async drive<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const done = work.then(
      () => (settled = true),
      () => (settled = true),
    );
    void done;
    for (;;) {
      await breathe();
      if (settled) return work;
      this.runUntilYield();
    }
  }

  private runUntilYield(): void {
    this.yieldRequested = false;
    for (let ran = 0; ran < CALLBACKS_PER_BREATH && !this.yieldRequested; ) {
      const timer = this.queue.pop();
      if (timer === undefined) {
        throw new Error(`virtual clock stalled at ${this.current} s: nothing scheduled but the run has not finished`);
      }
      if (timer.cancelled) continue;
      this.current = timer.time;
      timer.callback();
      ran++;
    }
  }
}
