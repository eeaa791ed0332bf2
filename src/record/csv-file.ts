import { createBufferedFile } from './buffered-file.ts';
import type { BufferedWriter } from './buffered-writer.ts';
import { formatCsvLine, formatCsvRecordLine, type CsvCell } from './csv.ts';

/** A CSV file of records of one type; its header line is on disk as soon as it is created. */
export class CsvFile<R extends Record<keyof R, CsvCell>> {
  readonly #columns: readonly (keyof R & string)[];
  readonly #file: BufferedWriter;

  /** `onError`: as for `createBufferedFile`. */
  constructor(path: string, columns: readonly (keyof R & string)[], onError: (error: Error) => void) {
    this.#columns = columns;
    this.#file = createBufferedFile(path, onError);
    this.#file.write(formatCsvLine(columns));
    this.#file.flush();
  }

  append(record: R): void {
    this.#file.write(formatCsvRecordLine(record, this.#columns));
  }

  flush(): void {
    this.#file.flush();
  }

  close(): void {
    this.#file.close();
  }
}
