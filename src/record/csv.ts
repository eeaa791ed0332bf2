/** CSV formatting: RFC 4180 quoting, lines end with `\n`. */
import type { TextBytes } from './text-bytes.ts';

export type CsvCell = string | number | null | undefined;

export function formatCsvCell(cell: CsvCell): string {
  if (typeof cell === 'number') return formatNumber(cell);
  if (cell === null || cell === undefined) return '';
  return quoteIfNeeded(cell);
}

export function formatCsvLine(cells: readonly CsvCell[]): string {
  return cells.map(formatCsvCell).join(',') + '\n';
}

/** The line of `record`'s values in `columns` order, built without an intermediate array of cells. */
export function formatCsvRecordLine<R extends Partial<Record<keyof R, CsvCell>>>(
  record: R,
  columns: readonly (keyof R)[],
): string {
  let line = '';
  let separator = '';
  for (const column of columns) {
    line += separator + formatCsvCell(record[column]);
    separator = ',';
  }
  return line + '\n';
}

/** Integers as-is, others rounded to at most 3 decimals; never exponent notation. */
function formatNumber(value: number): string {
  if (Number.isInteger(value)) {
    // String() switches to exponent notation from 1e21 on.
    return Math.abs(value) < 1e21 ? String(value) : BigInt(value).toString();
  }
  if (!Number.isFinite(value)) return '';
  const millis = Math.round(value * 1000);
  // The rounded value is 0 or at least 0.001 in magnitude, which String() never writes as an exponent.
  if (!(Math.abs(value) < EXACT_MILLIS_BELOW)) return String(millis / 1000);
  if (millis < 0) return `-${thousandths(-millis)}`;
  return thousandths(millis);
}

/** `formatCsvCell(text)` written into `out`: most cells are plain and go in one pass. */
export function writeTextCell(text: string, out: TextBytes): void {
  if (!out.plainCell(text)) out.text(quoteIfNeeded(text));
}

/**
 * `formatCsvCell(value)` written straight into `out`: its digits without a string made for them,
 * where they can be had exactly from whole numbers (the number cells of the rows that come by
 * the million).
 */
export function writeNumberCell(value: number, out: TextBytes): void {
  const whole = Number.isInteger(value);
  const millis = whole ? value : Math.round(value * 1000);
  if (!(Math.abs(millis) <= Number.MAX_SAFE_INTEGER) || (!whole && !(Math.abs(value) < EXACT_MILLIS_BELOW))) {
    out.text(formatNumber(value));
    return;
  }
  if (millis < 0) out.text('-');
  const magnitude = Math.abs(millis);
  if (whole) return out.digits(magnitude);
  const rest = magnitude % 1000;
  out.digits((magnitude - rest) / 1000);
  out.text(DECIMALS[rest] as string);
}

/**
 * Below this, doubles lie closer together than 0.001, so the shortest text that reads back as
 * millis / 1000, which is what String() writes, is its integer part and its decimals, written
 * from the integer millis without converting a fraction (the costly part of String()).
 */
const EXACT_MILLIS_BELOW = 2 ** 42;

/** `.5`, `.05`, `.123`: the decimals of each count of thousandths, without trailing zeros. */
const DECIMALS = Array.from({ length: 1000 }, (_, n) => (n === 0 ? '' : `.${String(n).padStart(3, '0').replace(/0+$/, '')}`));

/** The text of `millis` / 1000, for a whole, non-negative `millis`. */
function thousandths(millis: number): string {
  const rest = millis % 1000;
  return String((millis - rest) / 1000) + (DECIMALS[rest] as string);
}

// includes() rather than a regex: this runs for every cell of millions of rows.
function quoteIfNeeded(text: string): string {
  if (text.includes('"')) return `"${text.replaceAll('"', '""')}"`;
  if (text.includes(',') || text.includes('\n') || text.includes('\r')) return `"${text}"`;
  return text;
}
