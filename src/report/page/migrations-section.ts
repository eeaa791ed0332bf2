import { escapeXml } from '../charts/xml.ts';
import type { PageRun } from './page-data.ts';

interface Column {
  header: string;
  sort: 'number' | 'text';
  /** The raw value sorted on, and the text shown. */
  cell: (m: PageRun['migrations'][number], run: PageRun) => { value: string | number | null; text: string };
}

const number = (value: number | null, digits: number, factor = 1): { value: number | null; text: string } => ({
  value,
  text: value === null ? '' : (value / factor).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }),
});
const text = (value: string): { value: string; text: string } => ({ value, text: value });

const COLUMNS: readonly Column[] = [
  { header: 'run', sort: 'text', cell: (_m, run) => text(run.label) },
  { header: 'VM', sort: 'text', cell: (m) => text(m.vm) },
  { header: 'from', sort: 'text', cell: (m) => text(m.source) },
  { header: 'to', sort: 'text', cell: (m) => text(m.target) },
  { header: 'kind', sort: 'text', cell: (m) => text(m.kind) },
  { header: 'requested [s]', sort: 'number', cell: (m) => number(m.requestedS, 1) },
  { header: 'migration time [s]', sort: 'number', cell: (m) => number(m.durationMs, 2, 1000) },
  { header: 'downtime [ms]', sort: 'number', cell: (m) => number(m.downtimeMs, 0) },
  { header: 'felt downtime [ms]', sort: 'number', cell: (m) => number(m.clientDowntimeMs, 0) },
  { header: 'sent [MB]', sort: 'number', cell: (m) => number(m.bytes, 1, 1e6) },
  { header: 'passes', sort: 'number', cell: (m) => number(m.passes, 0) },
  { header: 'requests touched', sort: 'number', cell: (m) => number(m.touched.requests, 0) },
  { header: 'status', sort: 'text', cell: (m) => text(m.status === 'succeeded' ? m.status : `${m.status}: ${m.reason}`) },
];

/** Every migration of every run, one row each, sortable by any column; a click on a row opens its view. */
export function migrationsSection(runs: readonly PageRun[]): string {
  const shown = COLUMNS.filter((column) => column.header !== 'run' || runs.length > 1);
  const head = shown.map((column) => `<th data-sort="${column.sort}" title="sort">${escapeXml(column.header)}</th>`).join('');
  const rows = runs.flatMap((run, r) =>
    run.migrations.map((migration, i) => {
      const cells = shown.map((column) => {
        const { value, text: shownText } = column.cell(migration, run);
        const numeric = column.sort === 'number';
        return `<td${numeric ? ' class="number"' : ''} data-value="${value === null ? '' : escapeXml(String(value))}">${escapeXml(shownText)}</td>`;
      });
      return `<tr data-migration="${r}:${i}" tabindex="0">${cells.join('')}</tr>`;
    }),
  );
  return `<section id="migrations-section"><h2>Every migration</h2>
<p class="caption">Every migration of ${runs.length > 1 ? 'the runs' : 'the run'}, setup migrations included; click a header to sort, a row to see the migration: its passes, what the platform reported, the probe and the requests it touched.</p>
<div class="table-wrap tall"><table id="migrations" data-sortable><thead><tr>${head}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div></section>`;
}
