import { escapeXml } from './charts/xml.ts';
import { formatCell, type Table, type TableCell } from './table.ts';

export interface Figure {
  /** File name stem of its SVG and PNG. */
  id: string;
  title: string;
  caption: string;
  svg: string;
}

export interface ReportPage {
  title: string;
  /** One row per run: its parameters from run.json. */
  runs: Table;
  tables: Table[];
  figures: Figure[];
  /** What made the page: the tool's version and, when known, the command line. */
  madeBy: { version: string; command: string | undefined };
}

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f2f2f2; text-align: left; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
p.caption, figcaption { color: #555; font-size: 0.9em; max-width: 60em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
nav a { margin-right: 1em; }
footer { margin-top: 3em; border-top: 1px solid #ccc; padding-top: 0.5em; color: #555; font-size: 0.85em; }
`;

function tableHtml(table: Table): string {
  const head = table.columns.map((column) => `<th>${escapeXml(column.header)}</th>`).join('');
  const cellHtml = (cell: TableCell, i: number): string => {
    const kind = table.columns[i]?.kind ?? 'text';
    return `<td${kind === 'text' ? '' : ' class="number"'}>${escapeXml(formatCell(cell, kind))}</td>`;
  };
  const body = table.rows.map((row) => `<tr>${row.map(cellHtml).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function tableSection(table: Table, withFiles: boolean): string {
  const files = withFiles ? ` <a href="${table.id}.md">Markdown</a> <a href="${table.id}.csv">CSV</a>` : '';
  return `<section id="${table.id}"><h2>${escapeXml(table.title)}</h2>\n${tableHtml(table)}\n<p class="caption">${escapeXml(table.caption)}${files}</p></section>`;
}

function figureSection(figure: Figure): string {
  const inline = figure.svg.replace(/^<\?xml[^>]*>\s*/, '');
  const files = ` <a href="${figure.id}.svg">SVG</a> <a href="${figure.id}.png">PNG</a>`;
  return `<section id="${figure.id}"><h2>${escapeXml(figure.title)}</h2>\n<figure>${inline}<figcaption>${escapeXml(figure.caption)}${files}</figcaption></figure></section>`;
}

/** One self-contained page: styles inline, charts as inline SVG, no script, nothing fetched. */
export function renderReportHtml(page: ReportPage): string {
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
${tableSection(page.runs, false)}
${page.tables.map((table) => tableSection(table, true)).join('\n')}
${page.figures.map(figureSection).join('\n')}
<footer>Made by vm-monitoring ${escapeXml(page.madeBy.version)}${page.madeBy.command === undefined ? '' : `: <code>${escapeXml(page.madeBy.command)}</code>`}</footer>
</body>
</html>
`;
}
