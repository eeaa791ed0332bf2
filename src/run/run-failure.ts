/**
 * The first error of a run's background work (a record file that cannot be written, a
 * platform that cannot be sampled). It stops the run as Ctrl-C does, but the run ends as
 * failed, with that error as its reason.
 */
export class RunFailure {
  readonly #stop = new AbortController();
  #reason: string | undefined;

  /** Aborted once the run has failed. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Why the run failed; undefined while it has not. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Records the failure; later ones are consequences of the first and are dropped. */
  fail(reason: string): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#stop.abort();
  }
}

