/** Past this many buffered characters, a write goes out at once. */
const FLUSH_THRESHOLD_CHARS = 64 * 1024;
/** Bounds what a crash can lose to about the last second of text. */
const FLUSH_INTERVAL_MS = 1000;

/**
 * Buffers text in memory and hands it to `output` when the buffer is large, every second,
 * on `flush()` and on `close()`.
 */
export class BufferedWriter {
  readonly #output: (chunk: string) => void;
  readonly #release: () => void;
  readonly #timer: NodeJS.Timeout;
  /** Joined at a flush: one copy into a flat string, where appending builds a tree of pieces that must be walked then. */
  #pending: string[] = [];
  #pendingChars = 0;
  #closed = false;

  /** `release` runs once, after the last output, on `close()`. */
  constructor(output: (chunk: string) => void, release: () => void = () => {}) {
    this.#output = output;
    this.#release = release;
    this.#timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS).unref();
  }

  write(text: string): void {
    if (this.#closed) throw new Error('write after close');
    if (text === '') return;
    this.#pending.push(text);
    this.#pendingChars += text.length;
    if (this.#pendingChars >= FLUSH_THRESHOLD_CHARS) this.flush();
  }

  flush(): void {
    if (this.#pendingChars === 0) return;
    const chunk = this.#pending.join('');
    this.#pending = [];
    this.#pendingChars = 0;
    this.#output(chunk);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.flush();
    this.#release();
  }
}
