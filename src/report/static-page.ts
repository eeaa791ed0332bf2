import { escapeXml } from './charts/xml.ts';
import type { Figure } from './figure.ts';
import { footer, pageDocument, tableSection, type MadeBy } from './page/page-shell.ts';
import type { Table } from './table.ts';

export interface StaticPage {
  title: string;
  /** What the page is of (the calibration's parameters), shown first. */
  about: Table;
  tables: Table[];
  figures: Figure[];
  madeBy: MadeBy;
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

function figureSection(figure: Figure): string {
  const inline = figure.svg.replace(/^<\?xml[^>]*>\s*/, '');
  const files = ` <a href="${figure.id}.svg">SVG</a> <a href="${figure.id}.png">PNG</a>`;
  return `<section id="${figure.id}"><h2>${escapeXml(figure.title)}</h2>\n<figure>${inline}<figcaption>${escapeXml(figure.caption)}${files}</figcaption></figure></section>`;
}

/** A page of tables and inline SVG charts (the calibration's), styles inline, no script, nothing fetched. */
export function renderStaticPageHtml(page: StaticPage): string {
  const nav = [...page.tables, ...page.figures].map((item) => `<a href="#${item.id}">${escapeXml(item.title)}</a>`).join(' ');
  const body = [`<nav>${nav}</nav>`, tableSection(page.about, false), ...page.tables.map((table) => tableSection(table, true)), ...page.figures.map(figureSection), footer(page.madeBy)];
  return pageDocument(page.title, STYLE, body.join('\n'));
}
