import fs from 'node:fs';
import { InputError } from '../errors.ts';
import { errorCode } from '../record/error-code.ts';

/** A data row of a CSV file: its cells keyed by the header's column names. */
export type CsvRow = Record<string, string>;

/** Thrown by a row handler for a cell it cannot use; `readCsvRows` reports it at that cell. */
export class BadCellError extends Error {
  constructor(
    readonly column: string,
    message: string,
  ) {
    super(message);
    this.name = 'BadCellError';
  }
}

/**
 * Streams the data rows of a CSV file (RFC 4180) to `onRow` with the line each starts on,
 * after checking that the header has `expectedColumns`. Blank lines are skipped.
 */
export async function readCsvRows(
  file: string,
  expectedColumns: readonly string[],
  onRow: (row: CsvRow, line: number) => void,
): Promise<void> {
  let header: string[] | undefined;
  await splitFile(file, (cells, line, text) => {
    if (header === undefined) {
      checkHeader(file, cells, line, expectedColumns);
      header = cells;
      return;
    }
    if (cells.length !== header.length) {
      throw new InputError(`expected ${header.length} cells, got ${cells.length}`, { file, line, column: 1 });
    }
    const row: CsvRow = {};
    for (let i = 0; i < cells.length; i++) row[header[i] as string] = cells[i] as string;
    try {
      onRow(row, line);
    } catch (error) {
      if (error instanceof BadCellError) {
        throw new InputError(error.message, { file, ...cellPosition(text, line, header.indexOf(error.column)) });
      }
      throw error;
    }
  });
  if (header === undefined) throw new InputError('empty file: expected a header line', { file, line: 1, column: 1 });
}

/** Whether the file has a row after its header; reads only as far as that row. */
export async function hasDataRow(file: string): Promise<boolean> {
  let records = 0;
  await splitFile(
    file,
    () => records++,
    () => records >= 2,
  );
  return records >= 2;
}

type RecordHandler = (cells: string[], line: number, text: string) => void;

async function splitFile(file: string, onRecord: RecordHandler, isDone: () => boolean = () => false): Promise<void> {
  const splitter = new CsvSplitter(file);
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      splitter.push(chunk as string, onRecord);
      if (isDone()) return;
    }
  } catch (error) {
    // Only the stream's own errors carry a system error code; the handler's errors pass through.
    if (errorCode(error) !== undefined) throw new InputError(`cannot read ${file}: ${describeReadError(error)}`);
    throw error;
  }
  splitter.end(onRecord);
}

function describeReadError(error: unknown): string {
  switch (errorCode(error)) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
      return 'permission denied';
    default:
      return (error as Error).message;
  }
}

function checkHeader(file: string, header: string[], line: number, expectedColumns: readonly string[]): void {
  const missing = expectedColumns.filter((column) => !header.includes(column));
  if (missing.length === 0) return;
  const names = missing.map((column) => `'${column}'`).join(', ');
  throw new InputError(`missing column${missing.length > 1 ? 's' : ''} ${names}`, { file, line, column: 1 });
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = 0xfeff;

type ParsedRecord = { complete: true; cells: string[]; next: number } | { complete: false; openQuote: number };

/** Splits CSV text, fed in chunks, into records; a record's line is the one it starts on. */
class CsvSplitter {
  readonly #file: string;
  #pending = '';
  #line = 1;
  #atStart = true;
  /** Where in the pending text the quoted cell that made the last record incomplete opens. */
  #openQuote = 0;

  constructor(file: string) {
    this.#file = file;
  }

  push(chunk: string, onRecord: RecordHandler): void {
    let text = this.#pending + chunk;
    if (this.#atStart) {
      // Spreadsheets save CSV with a byte order mark, which would become part of the first column name.
      if (text.charCodeAt(0) === BYTE_ORDER_MARK) text = text.slice(1);
      this.#atStart = false;
    }
    let start = 0;
    // The next quote at or after `start`, searched again only once passed: lines without quotes stay cheap.
    let quote = text.indexOf('"');
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) break;
      if (quote !== -1 && quote < start) quote = text.indexOf('"', start);
      if (quote === -1 || quote > newline) {
        const end = newline > start && text.charCodeAt(newline - 1) === CARRIAGE_RETURN ? newline - 1 : newline;
        const line = text.slice(start, end);
        if (line !== '') onRecord(line.split(','), this.#line, line);
        this.#line++;
        start = newline + 1;
        continue;
      }
      const parsed = parseRecord(text, start, this.#file, this.#line);
      if (!parsed.complete) {
        this.#openQuote = parsed.openQuote;
        break;
      }
      const recordText = text.slice(start, parsed.next).replace(/\r?\n$/, '');
      onRecord(parsed.cells, this.#line, recordText);
      this.#line += countNewlines(recordText) + 1;
      start = parsed.next;
    }
    this.#pending = text.slice(start);
  }

  /** Hands over a last line without a newline; throws if a quoted cell was never closed. */
  end(onRecord: RecordHandler): void {
    if (this.#pending === '') return;
    this.push('\n', onRecord);
    if (this.#pending === '') return;
    throw new InputError('unterminated quoted cell', { file: this.#file, ...positionIn(this.#pending, this.#openQuote, this.#line) });
  }
}

/**
 * Parses the record starting at `start`, quoted cells and all. Incomplete when the text ends
 * before the record does. `cellStarts`, when given, receives the offset of each cell.
 */
function parseRecord(text: string, start: number, file: string, line: number, cellStarts?: number[]): ParsedRecord {
  const cells: string[] = [];
  const fail = (message: string, at: number): never => {
    throw new InputError(message, { file, ...positionIn(text.slice(start), at - start, line) });
  };
  let i = start;
  for (;;) {
    cellStarts?.push(i - start);
    if (text.charCodeAt(i) === QUOTE) {
      const openQuote = i;
      let cell = '';
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        // A quote as the last character may be the first half of an escaped `""`.
        if (close < 0 || close + 1 >= text.length) return { complete: false, openQuote: openQuote - start };
        cell += text.slice(i, close);
        i = close + 1;
        if (text.charCodeAt(i) !== QUOTE) break;
        cell += '"';
        i++;
      }
      cells.push(cell);
    } else {
      const cellStart = i;
      while (i < text.length && !endsUnquotedCell(text, i)) i++;
      if (text.charCodeAt(i) === QUOTE) fail('quote inside an unquoted cell', i);
      cells.push(text.slice(cellStart, i));
    }
    if (i >= text.length) return { complete: false, openQuote: 0 };
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      i++;
      continue;
    }
    if (c === NEWLINE) return { complete: true, cells, next: i + 1 };
    if (c === CARRIAGE_RETURN) {
      if (i + 1 >= text.length) return { complete: false, openQuote: 0 };
      if (text.charCodeAt(i + 1) === NEWLINE) return { complete: true, cells, next: i + 2 };
    }
    fail('text after the closing quote of a cell', i);
  }
}

/** A lone carriage return is text, as on the lines without quotes; one before a newline ends the record. */
function endsUnquotedCell(text: string, at: number): boolean {
  const c = text.charCodeAt(at);
  if (c === CARRIAGE_RETURN) return at + 1 >= text.length || text.charCodeAt(at + 1) === NEWLINE;
  return c === COMMA || c === NEWLINE || c === QUOTE;
}

/** The line and column of the cell `cellIndex` of a record (`text`, without its newline) starting on `line`. */
function cellPosition(text: string, line: number, cellIndex: number): { line: number; column: number } {
  const cellStarts: number[] = [];
  parseRecord(text + '\n', 0, '', line, cellStarts);
  return positionIn(text, cellStarts[cellIndex] ?? 0, line);
}

function positionIn(text: string, offset: number, firstLine: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: firstLine + countNewlines(before), column: offset - lineStart + 1 };
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}
