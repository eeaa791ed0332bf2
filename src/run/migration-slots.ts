/**
 * The per-host limit of concurrent migrations: a migration occupies a slot on its source
 * and on its target host for as long as it runs.
 */
export class MigrationSlots {
  private readonly inUse = new Map<string, number>();
  private waiters: (() => void)[] = [];

  constructor(private readonly perHost: number) {}

  isFree(source: string, target: string): boolean {
    return this.count(source) < this.perHost && this.count(target) < this.perHost;
  }

  take(source: string, target: string): void {
    this.inUse.set(source, this.count(source) + 1);
    this.inUse.set(target, this.count(target) + 1);
  }

  give(source: string, target: string): void {
    this.inUse.set(source, this.count(source) - 1);
    this.inUse.set(target, this.count(target) - 1);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once some slot has been given back (or at once when `signal` is aborted). */
  nextRelease(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = (): void => resolve();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** How many migrations from or to `host` are running. */
  count(host: string): number {
    return this.inUse.get(host) ?? 0;
  }
}
