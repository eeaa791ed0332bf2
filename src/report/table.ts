import { formatCsvLine } from '../record/csv.ts';
import type { ColumnKind, TableColumn } from './table-columns.ts';

export type TableCell = string | number | null;

/** A table of the report, written as Markdown, CSV and HTML. */
export interface Table {
  /** File name stem, e.g. `migration-time`. */
  id: string;
  title: string;
  caption: string;
  columns: readonly TableColumn[];
  rows: TableCell[][];
}

const DECIMALS: Record<ColumnKind, number> = {
  text: 0,
  count: 0,
  milliseconds: 0,
  bytes: 0,
  number: 1,
  'three-decimals': 3,
  'per-second': 2,
  'percent-change': 0,
};

/** A cell as a person reads it: grouped thousands, decimals by kind, changes as `+30 %`. */
export function formatCell(cell: TableCell, kind: ColumnKind): string {
  if (cell === null) return '';
  if (typeof cell === 'string') return cell;
  if (!Number.isFinite(cell)) return '';
  // Rounded first, so that a tiny negative value reads 0, not -0.
  const rounded = Number(cell.toFixed(DECIMALS[kind])) || 0;
  const text = rounded.toLocaleString('en-US', { maximumFractionDigits: DECIMALS[kind], minimumFractionDigits: DECIMALS[kind] });
  return kind === 'percent-change' ? `${rounded > 0 ? '+' : ''}${text} %` : text;
}

export function tableToMarkdown(table: Table): string {
  const escape = (text: string): string => text.replace(/[|<>]/g, '\\$&');
  const lines = [
    `| ${table.columns.map((column) => escape(column.header)).join(' | ')} |`,
    `| ${table.columns.map((column) => (column.kind === 'text' ? '---' : '---:')).join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map((cell, i) => escape(formatCell(cell, table.columns[i]?.kind ?? 'text'))).join(' | ')} |`),
  ];
  return `## ${table.title}\n\n${lines.join('\n')}\n\n${table.caption}\n`;
}

/** CSV keeps numbers unformatted (no grouping, up to 3 decimals): it is for further processing. */
export function tableToCsv(table: Table): string {
  return [formatCsvLine(table.columns.map((column) => column.header)), ...table.rows.map((row) => formatCsvLine(row))].join('');
}
