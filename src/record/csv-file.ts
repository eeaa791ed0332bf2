import { createBufferedFile } from './buffered-file.ts';
import type { BufferedWriter } from './buffered-writer.ts';
import { formatCsvLine, formatCsvRecordLine, type CsvCell } from './csv.ts';

/** A CSV file of records of one type; its header line is on disk as soon as it is created. */
export class CsvFile<R extends Record<keyof R, CsvCell>> {
  readonly #formatLine: (record: R) => string;
  readonly #file: BufferedWriter;

  /**
   * `onError`: as for `createBufferedFile`. `formatLine`, for records written by the million,
   * must give what `formatCsvRecordLine` gives.
   */
  constructor(
    path: string,
    columns: readonly (keyof R & string)[],
    onError: (error: Error) => void,
    formatLine: (record: R) => string = (record) => formatCsvRecordLine(record, columns),
  ) {
    this.#formatLine = formatLine;
    this.#file = createBufferedFile(path, onError);
    this.#file.write(formatCsvLine(columns));
    this.#file.flush();
  }

  append(record: R): void {
    this.#file.write(this.#formatLine(record));
  }

  flush(): void {
    this.#file.flush();
  }

  close(): void {
    this.#file.close();
  }
}
