import { formatCsvLine } from '../record/csv.ts';

export type TableCell = string | number | null;

/** A table of the report, written as Markdown, CSV and HTML. */
export interface Table {
  /** File name stem, e.g. `migration-time`. */
  id: string;
  title: string;
  caption: string;
  columns: string[];
  rows: TableCell[][];
}

/** A number as a person reads it in a table: grouped thousands, at most `decimals` decimals. */
export function formatCell(cell: TableCell, decimals = 1): string {
  if (cell === null) return '–';
  if (typeof cell === 'string') return cell;
  if (!Number.isFinite(cell)) return '–';
  return cell.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: 0 });
}

export function tableToMarkdown(table: Table): string {
  const escape = (text: string): string => text.replaceAll('|', '\\|');
  const numeric = table.columns.map((_, i) => table.rows.some((row) => typeof row[i] === 'number'));
  const lines = [
    `| ${table.columns.map(escape).join(' | ')} |`,
    `| ${numeric.map((isNumber) => (isNumber ? '---:' : '---')).join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map((cell) => escape(formatCell(cell))).join(' | ')} |`),
  ];
  return `## ${table.title}\n\n${lines.join('\n')}\n\n${table.caption}\n`;
}

/** CSV keeps numbers unformatted (no grouping, up to 3 decimals): it is for further processing. */
export function tableToCsv(table: Table): string {
  return [formatCsvLine(table.columns), ...table.rows.map((row) => formatCsvLine(row))].join('');
}
