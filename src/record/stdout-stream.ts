/**
 * fd 1 as a stream that never loses or splits a chunk. Writes go through `process.stdout`,
 * which finishes partial writes itself: tsx leaves fd 1 non-blocking, so a plain
 * `writeSync(1, …)` to a slow pipe writes part of a chunk or throws EAGAIN. A reader that
 * goes away (EPIPE) ends the stream quietly.
 */
export class StdoutStream {
  readonly #stream: NodeJS.WriteStream;
  #readerGone = false;

  constructor(stream: NodeJS.WriteStream = process.stdout) {
    this.#stream = stream;
    stream.on('error', () => (this.#readerGone = true));
  }

  get readerGone(): boolean {
    return this.#readerGone;
  }

  write(chunk: string): void {
    if (!this.#readerGone) this.#stream.write(chunk);
  }

  /**
   * Undefined while the stream keeps up; otherwise a promise that resolves once the reader has
   * taken what is buffered (or gone away), so that a fast producer waits for a slow reader
   * instead of filling memory. Waiting also ends when `signal` aborts: a reader that stops
   * reading must not keep Ctrl-C from stopping the run.
   */
  whenDrained(signal: AbortSignal): Promise<void> | undefined {
    if (this.#readerGone || signal.aborted || !this.#stream.writableNeedDrain) return undefined;
    return this.#drained(signal);
  }

  /** Resolves when everything written has reached the reader, or the reader has gone. */
  flushed(): Promise<void> {
    if (this.#readerGone) return Promise.resolve();
    return new Promise((resolve) => {
      const onError = (): void => resolve();
      this.#stream.once('error', onError);
      this.#stream.write('', () => {
        this.#stream.off('error', onError);
        resolve();
      });
    });
  }

  #drained(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#stream.off('drain', done);
        this.#stream.off('error', done);
        this.#stream.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#stream.on('drain', done);
      this.#stream.on('error', done);
      this.#stream.on('close', done);
      signal.addEventListener('abort', done);
    });
  }
}
