import { escapeXml } from './charts/xml.ts';
import type { Figure } from './figure.ts';
import { htmlTable } from './page/html-table.ts';
import type { Table } from './table.ts';

export interface StaticPage {
  title: string;
  /** What the page is of (the calibration's parameters), shown first. */
  about: Table;
  tables: Table[];
  figures: Figure[];
  madeBy: { version: string; command: string | undefined };
}

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f2f2f2; text-align: left; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
p.caption, figcaption { color: #555; font-size: 0.9em; max-width: 60em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
nav a { margin-right: 1em; }
footer { margin-top: 3em; border-top: 1px solid #ccc; padding-top: 0.5em; color: #555; font-size: 0.85em; }
`;

function tableSection(table: Table, withFiles: boolean): string {
  const files = withFiles ? ` <a href="${table.id}.md">Markdown</a> <a href="${table.id}.csv">CSV</a>` : '';
  return `<section id="${table.id}"><h2>${escapeXml(table.title)}</h2>\n${htmlTable(table)}\n<p class="caption">${escapeXml(table.caption)}${files}</p></section>`;
}

function figureSection(figure: Figure): string {
  const inline = figure.svg.replace(/^<\?xml[^>]*>\s*/, '');
  const files = ` <a href="${figure.id}.svg">SVG</a> <a href="${figure.id}.png">PNG</a>`;
  return `<section id="${figure.id}"><h2>${escapeXml(figure.title)}</h2>\n<figure>${inline}<figcaption>${escapeXml(figure.caption)}${files}</figcaption></figure></section>`;
}

/** A page of tables and inline SVG charts (the calibration's), styles inline, no script, nothing fetched. */
export function renderStaticPageHtml(page: StaticPage): string {
  const nav = [...page.tables, ...page.figures].map((item) => `<a href="#${item.id}">${escapeXml(item.title)}</a>`).join(' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeXml(page.title)}</h1>
<nav>${nav}</nav>
${tableSection(page.about, false)}
${page.tables.map((table) => tableSection(table, true)).join('\n')}
${page.figures.map(figureSection).join('\n')}
<footer>Made by vm-monitoring ${escapeXml(page.madeBy.version)}${page.madeBy.command === undefined ? '' : `: <code>${escapeXml(page.madeBy.command)}</code>`}</footer>
</body>
</html>
`;
}
