import { escapeXml } from '../charts/xml.ts';
import type { Table } from '../table.ts';
import { htmlTable } from './html-table.ts';

/** What made a page: the tool's version and, when known, the command line. */
export interface MadeBy {
  version: string;
  command: string | undefined;
}

/** A whole page: its title, its inline style and its body. */
export function pageDocument(title: string, style: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${style}</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
${body}
</body>
</html>
`;
}

/** A table with its title, its caption and, where it has them, links to its Markdown and CSV files. */
export function tableSection(table: Table, withFiles: boolean): string {
  const files = withFiles ? ` <a href="${table.id}.md">Markdown</a> <a href="${table.id}.csv">CSV</a>` : '';
  return `<section id="${table.id}"><h2>${escapeXml(table.title)}</h2>\n${htmlTable(table)}\n<p class="caption">${escapeXml(table.caption)}${files}</p></section>`;
}

export function footer(madeBy: MadeBy): string {
  return `<footer>Made by vm-monitoring ${escapeXml(madeBy.version)}${madeBy.command === undefined ? '' : `: <code>${escapeXml(madeBy.command)}</code>`}</footer>`;
}
