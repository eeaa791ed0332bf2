import { escapeXml } from '../charts/xml.ts';
import type { ColumnKind } from '../table-columns.ts';
import { formatCell, type Table, type TableCell } from '../table.ts';

/** How a column reads on the page: its header with the unit chosen, and its cells. */
interface ShownColumn {
  header: string;
  kind: ColumnKind;
  format: (cell: TableCell) => string;
}

const MS_PER_S = 1000;

/**
 * A column in units a person reads: milliseconds as seconds once they reach 10 s, bytes as MB
 * or GB, whatever the column's largest value is; others as the Markdown has them.
 */
function shownColumn(header: string, kind: ColumnKind, cells: readonly TableCell[]): ShownColumn {
  const largest = Math.max(0, ...cells.map((cell) => (typeof cell === 'number' && Number.isFinite(cell) ? Math.abs(cell) : 0)));
  if (kind === 'milliseconds' && largest >= 10 * MS_PER_S) {
    return { header: header.replace('[ms]', '[s]'), kind, format: (cell) => scaled(cell, MS_PER_S, 1) };
  }
  if (kind === 'bytes') {
    const [unit, factor] = largest >= 1e10 ? ['GB', 1e9] : ['MB', 1e6];
    return { header: `${header} [${unit}]`, kind, format: (cell) => scaled(cell, factor, 1) };
  }
  return { header, kind, format: (cell) => formatCell(cell, kind) };
}

function scaled(cell: TableCell, factor: number, decimals: number): string {
  if (typeof cell !== 'number' || !Number.isFinite(cell)) return formatCell(cell, 'text');
  return (cell / factor).toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: decimals });
}

const isEmpty = (cell: TableCell): boolean => cell === null || cell === '' || (typeof cell === 'number' && !Number.isFinite(cell));

/**
 * A table for the page: columns empty in every row left out (the change columns of a single
 * run), units chosen per column, numbers right-aligned, inside a box that scrolls sideways
 * rather than pushing the page wider.
 */
export function htmlTable(table: Table, options: { id?: string } = {}): string {
  const kept = table.columns.map((column, i) => ({ column, i })).filter(({ i }) => table.rows.some((row) => !isEmpty(row[i] ?? null)));
  const shown = kept.map(({ column, i }) => ({ i, ...shownColumn(column.header, column.kind, table.rows.map((row) => row[i] ?? null)) }));
  const head = shown.map((column) => `<th>${escapeXml(column.header)}</th>`).join('');
  const body = table.rows
    .map((row) => `<tr>${shown.map((column) => `<td${column.kind === 'text' ? '' : ' class="number"'}>${escapeXml(column.format(row[column.i] ?? null))}</td>`).join('')}</tr>`)
    .join('\n');
  const id = options.id === undefined ? '' : ` id="${escapeXml(options.id)}"`;
  return `<div class="table-wrap"><table${id}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}
