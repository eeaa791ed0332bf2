import { formatCsvCell } from './csv.ts';
import type { TextBytes } from './text-bytes.ts';

/**
 * A number cell that is often the one before, kept as its bytes once made: each of a sampling
 * instant's hundreds of samples has its time, in samples.csv and on stdout in turn.
 */
export class RepeatedNumberCell {
  #last: { value: number; bytes: Uint8Array } | undefined;

  write(value: number, out: TextBytes): void {
    if (this.#last === undefined || !Object.is(value, this.#last.value)) {
      this.#last = { value, bytes: Buffer.from(formatCsvCell(value), 'utf8') };
    }
    out.bytes(this.#last.bytes);
  }
}
