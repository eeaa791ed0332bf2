import type { z } from 'zod';
import { quoted } from '../errors.ts';
import { BadCellError, type CsvRow } from '../report/csv-reader.ts';

/** The number in a cell; BadCellError (reported at the cell) if it is empty or not a number. */
export function numberCell(row: CsvRow, column: string): number {
  const cell = row[column];
  if (cell === undefined) throw new BadCellError(column, `${column}: the file has no such column, and this row needs it`);
  const value = Number(cell);
  if (cell.trim() === '' || !Number.isFinite(value)) throw new BadCellError(column, `${column}: expected a number, got ${quoted(cell)}`);
  return value;
}

/** The number in a cell, within the bounds `schema` sets. */
export function boundedCell(row: CsvRow, column: string, schema: z.ZodType<number>): number {
  const checked = schema.safeParse(numberCell(row, column));
  if (!checked.success) throw new BadCellError(column, `${column}: ${checked.error.issues[0]?.message ?? 'out of bounds'}, got ${quoted(row[column] ?? '')}`);
  return checked.data;
}

/** Whether a cell is empty or absent (a column a row may leave out). */
export function isBlank(row: CsvRow, column: string): boolean {
  return (row[column] ?? '').trim() === '';
}
