import { TextBytes } from './text-bytes.ts';

/** Past this many buffered bytes, a write goes out at once. */
const FLUSH_THRESHOLD_BYTES = 64 * 1024;
/** Bounds what a crash can lose to about the last second of text. */
const FLUSH_INTERVAL_MS = 1000;

/**
 * Buffers text in memory, as UTF-8, and hands it to `output` when the buffer is large, every
 * second, on `flush()` and on `close()`.
 */
export class BufferedWriter {
  readonly #output: (chunk: Buffer) => void;
  readonly #release: () => void;
  readonly #timer: NodeJS.Timeout;
  /** Past the threshold by at most one write, then flushed. */
  readonly #pending = new TextBytes(2 * FLUSH_THRESHOLD_BYTES);
  #closed = false;

  /** `release` runs once, after the last output, on `close()`. */
  constructor(output: (chunk: Buffer) => void, release: () => void = () => {}) {
    this.#output = output;
    this.#release = release;
    this.#timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS).unref();
  }

  write(text: string): void {
    this.#checkOpen();
    this.#pending.text(text);
    this.#wrote();
  }

  /** Writes what `format` makes of `value`, which it puts into the buffer piece by piece rather than as one string. */
  writeFormatted<T>(value: T, format: (value: T, out: TextBytes) => void): void {
    this.#checkOpen();
    format(value, this.#pending);
    this.#wrote();
  }

  flush(): void {
    if (this.#pending.length === 0) return;
    this.#output(this.#pending.take());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.flush();
    this.#release();
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('write after close');
  }

  #wrote(): void {
    if (this.#pending.length >= FLUSH_THRESHOLD_BYTES) this.flush();
  }
}
