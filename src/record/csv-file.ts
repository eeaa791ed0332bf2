import { createBufferedFile } from './buffered-file.ts';
import type { BufferedWriter } from './buffered-writer.ts';
import { formatCsvLine, formatCsvRecordLine, type CsvCell } from './csv.ts';
import type { TextBytes } from './text-bytes.ts';

/** A CSV file of records of one type; its header line is on disk as soon as it is created. */
export class CsvFile<R extends Record<keyof R, CsvCell>> {
  readonly #writeLine: (record: R, out: TextBytes) => void;
  readonly #file: BufferedWriter;

  /**
   * `onError`: as for `createBufferedFile`. `writeLine`, for records written by the million,
   * must write what `formatCsvRecordLine` gives.
   */
  constructor(
    path: string,
    columns: readonly (keyof R & string)[],
    onError: (error: Error) => void,
    writeLine: (record: R, out: TextBytes) => void = (record, out) => out.text(formatCsvRecordLine(record, columns)),
  ) {
    this.#writeLine = writeLine;
    this.#file = createBufferedFile(path, onError);
    this.#file.write(formatCsvLine(columns));
    this.#file.flush();
  }

  append(record: R): void {
    this.#file.writeFormatted(record, this.#writeLine);
  }

  flush(): void {
    this.#file.flush();
  }

  close(): void {
    this.#file.close();
  }
}
