import type { Clock } from './clock.ts';

/** Wall-clock time, for platforms where things really happen. */
export class RealClock implements Clock {
  private readonly originMs = performance.now();

  now(): number {
    return (performance.now() - this.originMs) / 1000;
  }

  sleepUntil(t: number, signal?: AbortSignal): Promise<void> {
    if (t <= this.now() || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      // Node's timers run on the event loop's cached millisecond time and may fire a little
      // early against performance.now(): wait again for whatever is left.
      const wait = (): void => {
        const leftMs = (t - this.now()) * 1000;
        if (leftMs > 0) {
          timer = setTimeout(wait, Math.ceil(leftMs));
          return;
        }
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      wait();
    });
  }

  drive<T>(work: Promise<T>): Promise<T> {
    return work;
  }
}
