import fs from 'node:fs';
import { errorCode } from './error-code.ts';

const STDOUT_FD = 1;

/** Codes of a write to a reader that has gone away, e.g. `vm-monitoring run … | head`. */
const READER_GONE_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

/**
 * fd 1 as a stream that never loses or splits a chunk. Writes go through `process.stdout`,
 * which finishes partial writes itself: tsx leaves fd 1 non-blocking, so a plain
 * `writeSync(1, …)` to a slow pipe writes part of a chunk or throws EAGAIN. A reader that
 * goes away (EPIPE) ends the stream quietly; any other error (a full disk under `> file`)
 * goes to `onError`, once, and when stdout is a file it is cut back to its last whole chunk.
 */
export class StdoutStream {
  readonly #stream: NodeJS.WriteStream;
  readonly #fileStartBytes: number | null;
  #wholeBytes = 0;
  #ended = false;

  constructor(onError: (reason: string) => void) {
    const stream = process.stdout;
    this.#stream = stream;
    this.#fileStartBytes = regularFileSize();
    stream.on('error', (error) => {
      if (this.#ended) return;
      this.#ended = true;
      if (READER_GONE_CODES.has(errorCode(error) ?? '')) return;
      this.#cutBackToWholeChunks();
      onError(`cannot write stdout: ${error.message}`);
    });
  }

  write(chunk: Uint8Array): void {
    if (this.#ended) return;
    this.#stream.write(chunk, (error) => {
      if (!error) this.#wholeBytes += chunk.length;
    });
  }

  /**
   * Undefined while the stream keeps up; otherwise a promise that resolves once the reader has
   * taken what is buffered (or gone away), so that a fast producer waits for a slow reader
   * instead of filling memory. Waiting also ends when `signal` aborts: a reader that stops
   * reading must not keep Ctrl-C from stopping the run.
   */
  whenDrained(signal: AbortSignal): Promise<void> | undefined {
    if (this.#ended || signal.aborted || !this.#stream.writableNeedDrain) return undefined;
    return this.#drained(signal);
  }

  /** Resolves when everything written has reached the reader, the reader has gone, or `signal` aborts. */
  flushed(signal: AbortSignal): Promise<void> {
    if (this.#ended || signal.aborted) return Promise.resolve();
    // A write's callback runs once everything written before it is out.
    return this.#settled((done) => this.#stream.write('', done), signal);
  }

  #drained(signal: AbortSignal): Promise<void> {
    return this.#settled((done) => this.#stream.once('drain', done), signal);
  }

  /** Resolves on `until`'s callback, an error or close of the stream, or `signal`. */
  #settled(until: (done: () => void) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#stream.off('drain', done);
        this.#stream.off('error', done);
        this.#stream.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      until(done);
      this.#stream.on('error', done);
      this.#stream.on('close', done);
      signal.addEventListener('abort', done);
    });
  }

  #cutBackToWholeChunks(): void {
    if (this.#fileStartBytes === null) return;
    try {
      fs.ftruncateSync(STDOUT_FD, this.#fileStartBytes + this.#wholeBytes);
    } catch {
      // Shrinking needs no space; a file that cannot be shrunk keeps what it has.
    }
  }
}

/** The size of the file behind stdout when it is a regular file (`> file`), else null. */
function regularFileSize(): number | null {
  try {
    const stats = fs.fstatSync(STDOUT_FD);
    return stats.isFile() ? stats.size : null;
  } catch {
    return null;
  }
}
