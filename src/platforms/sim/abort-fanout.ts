/**
 * One abort listener per signal, however many callbacks wait on it. A run hands the same
 * signal to every migration, and Node warns (MaxListenersExceededWarning) past ten listeners
 * on one signal: more than ten migrations at once are normal on the sim.
 */
export class AbortFanout {
  private readonly watched = new Map<AbortSignal, { callbacks: Set<() => void>; listener: () => void }>();

  /**
   * Calls `onAbort` once when `signal` aborts (not if it has already: like addEventListener),
   * unless the returned function has been called first.
   */
  subscribe(signal: AbortSignal, onAbort: () => void): () => void {
    let entry = this.watched.get(signal);
    if (!entry) {
      const callbacks = new Set<() => void>();
      const listener = (): void => {
        this.watched.delete(signal);
        for (const callback of callbacks) callback();
      };
      entry = { callbacks, listener };
      this.watched.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    const { callbacks, listener } = entry;
    // Each subscription is its own function, so that subscribing one callback twice works too.
    const callback = (): void => onAbort();
    callbacks.add(callback);
    return () => {
      callbacks.delete(callback);
      if (callbacks.size === 0 && this.watched.get(signal)?.listener === listener) {
        this.watched.delete(signal);
        signal.removeEventListener('abort', listener);
      }
    };
  }
}
