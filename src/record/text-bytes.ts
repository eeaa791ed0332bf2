/**
 * UTF-8 text gathered straight into bytes, piece by piece: a run's millions of CSV rows go out
 * without a string made for each line and a copy of them all into bytes at each flush.
 */
export class TextBytes {
  #bytes: Buffer;
  #length = 0;

  constructor(capacity: number) {
    this.#bytes = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.#length;
  }

  text(text: string): void {
    const count = text.length;
    // A UTF-16 unit takes at most 3 bytes (a surrogate pair 4 for 2 units).
    if (this.#length + 3 * count > this.#bytes.length) this.#grow(3 * count);
    const bytes = this.#bytes;
    const start = this.#length;
    let end = start;
    for (let i = 0; i < count; i++) {
      const unit = text.charCodeAt(i);
      if (unit >= 0x80) {
        this.#length = start + bytes.write(text, start, 'utf8');
        return;
      }
      bytes[end++] = unit;
    }
    this.#length = end;
  }

  /**
   * Text that is a plain CSV cell, ASCII with no quote, comma or line break, written as it is in
   * one pass; for any other text nothing is written and false returned (it needs quoting or
   * encoding).
   */
  plainCell(text: string): boolean {
    const count = text.length;
    if (this.#length + count > this.#bytes.length) this.#grow(count);
    const bytes = this.#bytes;
    let end = this.#length;
    for (let i = 0; i < count; i++) {
      const unit = text.charCodeAt(i);
      if (unit >= 0x80 || unit === 0x22 || unit === 0x2c || unit === 0x0a || unit === 0x0d) return false;
      bytes[end++] = unit;
    }
    this.#length = end;
    return true;
  }

  /** The decimal digits of a safe whole number (0 to 2^53 - 1), as String() writes them, without making that string. */
  digits(whole: number): void {
    let count = 1;
    for (let rest = whole; rest >= 10; rest = Math.floor(rest / 10)) count++;
    if (this.#length + count > this.#bytes.length) this.#grow(count);
    const bytes = this.#bytes;
    let at = this.#length + count;
    this.#length = at;
    let rest = whole;
    do {
      const digit = rest % 10;
      bytes[--at] = 0x30 + digit;
      rest = (rest - digit) / 10;
    } while (rest > 0);
  }

  /** Bytes already encoded, as they are. */
  bytes(chunk: Uint8Array): void {
    const count = chunk.length;
    if (this.#length + count > this.#bytes.length) this.#grow(count);
    const bytes = this.#bytes;
    let end = this.#length;
    // A loop rather than set(): the chunks are a few bytes, shorter than set()'s own cost.
    for (let i = 0; i < count; i++) bytes[end++] = chunk[i] as number;
    this.#length = end;
  }

  /** The bytes gathered; the text starts afresh, in new memory, so they stay as they are. */
  take(): Buffer {
    const taken = this.#bytes.subarray(0, this.#length);
    this.#bytes = Buffer.allocUnsafe(this.#bytes.length);
    this.#length = 0;
    return taken;
  }

  #grow(atLeast: number): void {
    const grown = Buffer.allocUnsafe(Math.max(2 * this.#bytes.length, this.#length + atLeast));
    this.#bytes.copy(grown, 0, 0, this.#length);
    this.#bytes = grown;
  }
}
