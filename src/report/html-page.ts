import { readFileSync } from 'node:fs';
import { escapeXml } from './charts/xml.ts';
import { slug } from './names.ts';
import type { Figure } from './figure.ts';
import { htmlTable } from './page/html-table.ts';
import { footer, pageDocument, tableSection, type MadeBy } from './page/page-shell.ts';
import { migrationsSection } from './page/migrations-section.ts';
import type { PageData, PageRun } from './page/page-data.ts';
import { inlineScript, jsonIsland, uplotScript, uplotStyle } from './page/vendored-uplot.ts';
import type { Table } from './table.ts';

export interface ReportPage {
  title: string;
  /** One row per run: its parameters from run.json. */
  runs: Table;
  tables: Table[];
  /** The distributions' percentiles, shown with their charts. */
  percentiles: Table;
  /** The static charts, written as SVG and PNG files beside the page. */
  figures: Figure[];
  /** Of them, those the script has no interactive twin of (a placement policy's spread): shown inline. */
  inlineFigures: Figure[];
  /** What the page's script draws. */
  data: PageData;
  /** What made the page: the tool's version and, when known, the command line. */
  madeBy: MadeBy;
}

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; } h3 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
.table-wrap { max-width: 100%; overflow-x: auto; }
.table-wrap.tall { max-height: 36em; overflow-y: auto; } .table-wrap.tall thead th { position: sticky; top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; white-space: nowrap; }
th { background: #f2f2f2; text-align: left; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
th[data-sort] { cursor: pointer; } th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
tr[data-migration] { cursor: pointer; } tr[data-migration]:hover, tr[data-migration]:focus { background: #eef4fb; }
p.caption { color: #555; font-size: 0.9em; max-width: 60em; }
nav a { margin-right: 1em; display: inline-block; }
details.run { margin: 0.5em 0; border: 1px solid #ddd; padding: 0.3em 0.8em; } details.run > summary { cursor: pointer; font-weight: bold; }
[data-chart] { width: 100%; margin: 0.5em 0; }
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 0.5em; }
dialog#migration-view { width: min(1100px, 94vw); max-height: 90vh; overflow: auto; }
dialog#migration-view button.close { float: right; }
ul.files { font-size: 0.9em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; } figcaption { color: #555; font-size: 0.9em; max-width: 60em; }
footer { margin-top: 3em; border-top: 1px solid #ccc; padding-top: 0.5em; color: #555; font-size: 0.85em; }
`;

const PAGE_SCRIPT = readFileSync(new URL('./page/report-page.js', import.meta.url), 'utf8');

/** A run's charts over time, one below the other on one time axis: latency, then the charted host's counters. */
function overTimeSection(run: PageRun, host: string | null): string {
  const charts = [
    run.latency.t.length > 0 ? `<div data-chart="latency-${run.id}"></div>` : '',
    ...run.counters.filter((series) => series.t.length > 0).map((series) => `<div data-chart="counter-${slug(series.counter)}-${run.id}"></div>`),
    run.vmCount.t.length > 0 ? `<div data-chart="vms-${run.id}"></div>` : '',
  ].join('\n');
  return `<details class="run" id="over-time-${run.id}"><summary>${escapeXml(run.label)}</summary>
<p class="caption">Client latency (mean and maximum per time bucket) and the counters of ${escapeXml(host ?? 'the charted host')}, on one time axis: drag across a chart to zoom all of them, double-click to zoom out, click a legend entry to hide its line. Grey: the run's migrations; orange: their downtime.</p>
${charts}
</details>`;
}

/** When several runs are compared: per counter one small chart per run, on one value scale. */
function smallMultiplesSection(data: PageData): string {
  if (data.runs.length < 2) return '';
  const counters = data.runs[0]?.counters.filter((series) => data.runs.some((run) => (run.counters.find((s) => s.counter === series.counter)?.t.length ?? 0) > 0)) ?? [];
  const blocks = counters.map((series) => {
    const charts = data.runs.map((_run, i) => `<div data-chart="multiple-${slug(series.counter)}-${i}" data-counter="${escapeXml(series.counter)}" data-run="${i}"></div>`);
    return `<h3>${escapeXml(series.counter.replace(/\.average$/, ''))} on ${escapeXml(data.host ?? '')}</h3>\n<div class="multiples">${charts.join('')}</div>`;
  });
  return `<section id="side-by-side"><h2>The runs side by side</h2>
<p class="caption">Each counter of ${escapeXml(data.host ?? 'the charted host')}, one small chart per run on one value scale (the cursor moves on all of them).</p>
${blocks.join('\n')}</section>`;
}

const CDF_MEASURES = [
  { measure: 'durationMs', id: 'cdf-duration', title: 'migration time' },
  { measure: 'downtimeMs', id: 'cdf-downtime', title: 'downtime' },
  { measure: 'clientDowntimeMs', id: 'cdf-felt-downtime', title: 'felt downtime' },
] as const;

function distributionsSection(data: PageData, percentiles: Table): string {
  const measured = CDF_MEASURES.filter(({ measure }) => data.runs.some((run) => run.migrations.some((m) => m.status === 'succeeded' && m.kind !== 'setup' && m[measure] !== null)));
  const charts = measured.map(({ measure, id, title }) => `<div data-chart="${id}" data-measure="${measure}" data-title="${title}"></div>`).join('\n');
  return `<section id="distributions"><h2>Distributions</h2>
<p class="caption">The share of the succeeded migrations (setup migrations left out) at or under each value, one step line per run.</p>
${charts}
<h3>${escapeXml(percentiles.title)}</h3>
${htmlTable(percentiles, { id: 'percentiles' })}
<p class="caption">${escapeXml(percentiles.caption)} <a href="${percentiles.id}.md">Markdown</a> <a href="${percentiles.id}.csv">CSV</a></p></section>`;
}

function figureSection(figure: Figure): string {
  const inline = figure.svg.replace(/^<\?xml[^>]*>\s*/, '');
  return `<section id="${figure.id}"><h2>${escapeXml(figure.title)}</h2>\n<figure>${inline}<figcaption>${escapeXml(figure.caption)} <a href="${figure.id}.svg">SVG</a> <a href="${figure.id}.png">PNG</a></figcaption></figure></section>`;
}

function figureFiles(figures: readonly Figure[]): string {
  if (figures.length === 0) return '';
  const items = figures.map((figure) => `<li>${escapeXml(figure.title)}: <a href="${figure.id}.svg">SVG</a> <a href="${figure.id}.png">PNG</a>. ${escapeXml(figure.caption)}</li>`);
  return `<section id="figure-files"><h2>The charts as files</h2>\n<p class="caption">The same charts, drawn for print and slides.</p>\n<ul class="files">${items.join('\n')}</ul></section>`;
}

/**
 * One self-contained page: styles, data and scripts inline (uPlot and the page's own), nothing
 * fetched. Tables are HTML; the charts are drawn by the script from the data island.
 */
export function renderReportHtml(page: ReportPage): string {
  const sections = [
    ...page.tables.map((table) => ({ id: table.id, title: table.title })),
    { id: 'over-time', title: 'Over time' },
    ...(page.data.runs.length > 1 ? [{ id: 'side-by-side', title: 'The runs side by side' }] : []),
    { id: 'migrations-section', title: 'Every migration' },
    { id: 'distributions', title: 'Distributions' },
    ...page.inlineFigures.map((figure) => ({ id: figure.id, title: figure.title })),
  ];
  const nav = sections.map((item) => `<a href="#${item.id}">${escapeXml(item.title)}</a>`).join(' ');
  const body = [
    `<nav>${nav}</nav>`,
    tableSection(page.runs, false),
    ...page.tables.map((table) => tableSection(table, true)),
    `<section id="over-time"><h2>Over time</h2>\n${page.data.runs.map((run) => overTimeSection(run, page.data.host)).join('\n')}\n</section>`,
    smallMultiplesSection(page.data),
    migrationsSection(page.data.runs),
    distributionsSection(page.data, page.percentiles),
    ...page.inlineFigures.map(figureSection),
    figureFiles(page.figures),
    '<dialog id="migration-view"><button class="close" type="button">Close</button><div class="body"></div></dialog>',
    footer(page.madeBy),
    jsonIsland('report-data', page.data),
    inlineScript(uplotScript()),
    inlineScript(PAGE_SCRIPT),
  ];
  return pageDocument(page.title, uplotStyle() + STYLE, body.filter((part) => part !== '').join('\n'));
}
