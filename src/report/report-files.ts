import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { svgToPng } from './charts/png.ts';
import type { Figure } from './html-page.ts';
import { tableToCsv, tableToMarkdown, type Table } from './table.ts';

/** A table as `ID.md` and `ID.csv`. */
export function writeTable(outDir: string, table: Table): void {
  writeFileSync(path.join(outDir, `${table.id}.md`), tableToMarkdown(table));
  writeFileSync(path.join(outDir, `${table.id}.csv`), tableToCsv(table));
}

/** A figure as `ID.svg` and `ID.png`. */
export function writeFigure(outDir: string, figure: Figure): void {
  writeFileSync(path.join(outDir, `${figure.id}.svg`), figure.svg);
  writeFileSync(path.join(outDir, `${figure.id}.png`), svgToPng(figure.svg));
}

export function createOutputDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new InputError(`cannot create report directory ${dir}: ${(error as Error).message}`);
  }
}
