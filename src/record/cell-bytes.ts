import { formatCsvCell } from './csv.ts';
import type { TextBytes } from './text-bytes.ts';

/** Names longer than this are written afresh each time: the recurring ones are short. */
const LONGEST_KEPT = 64;
/** Bounds what the kept cells hold, about 10 MB at most. */
const MOST_KEPT = 1 << 16;

/**
 * The CSV cells of the names that recur on every row of a large run (hosts, counters, units,
 * clients, servers) and of the sampling instant's time, kept as their UTF-8 bytes once made:
 * a million rows copy them rather than check each for quotes and encode it again.
 */
export class CellBytes {
  readonly #texts = new Map<string, Uint8Array>();
  #lastNumber: { value: number; bytes: Uint8Array } | undefined;

  /** A text cell, quoted as `formatCsvCell` quotes it. */
  text(text: string, out: TextBytes): void {
    const kept = this.#texts.get(text);
    if (kept !== undefined) return out.bytes(kept);
    const cell = formatCsvCell(text);
    if (text.length > LONGEST_KEPT || this.#texts.size >= MOST_KEPT) return out.text(cell);
    const bytes = Buffer.from(cell, 'utf8');
    this.#texts.set(text, bytes);
    out.bytes(bytes);
  }

  /** A number cell that is often the one before, as each sample of an instant has its time. */
  repeatedNumber(value: number, out: TextBytes): void {
    if (this.#lastNumber === undefined || !Object.is(value, this.#lastNumber.value)) {
      this.#lastNumber = { value, bytes: Buffer.from(formatCsvCell(value), 'utf8') };
    }
    out.bytes(this.#lastNumber.bytes);
  }
}
