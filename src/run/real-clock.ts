import type { Clock } from './clock.ts';

/** Wall-clock time, for platforms where things really happen. */
export class RealClock implements Clock {
  private readonly originMs = performance.now();

  now(): number {
    return (performance.now() - this.originMs) / 1000;
  }

  sleepUntil(t: number, signal?: AbortSignal): Promise<void> {
    const waitMs = (t - this.now()) * 1000;
    if (waitMs <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  drive<T>(work: Promise<T>): Promise<T> {
    return work;
  }
}
