import { openBufferedFile } from './buffered-file.ts';
import type { BufferedWriter } from './buffered-writer.ts';
import { formatCsvLine, formatCsvRecordLine, type CsvCell } from './csv.ts';

/** A CSV file of records of one type; its header line is on disk as soon as it is created. */
export class CsvFile<R extends Record<keyof R, CsvCell>> {
  readonly #columns: readonly (keyof R & string)[];
  readonly #file: BufferedWriter;

  constructor(path: string, columns: readonly (keyof R & string)[]) {
    this.#columns = columns;
    this.#file = openBufferedFile(path);
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
