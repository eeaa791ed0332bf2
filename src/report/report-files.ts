import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { svgToPng } from './charts/png.ts';
import type { Figure } from './html-page.ts';
import { tableToCsv, tableToMarkdown, type Table } from './table.ts';

/*
 * A report directory may sit in a run directory others can write to. Nothing here writes
 * through a link: a symbolic link where the directory or a file goes is refused (the report
 * makes none), and each file is created anew, never opened as it stands.
 */

/** A table as `ID.md` and `ID.csv`. */
export function writeTable(outDir: string, table: Table): void {
  writeReportFile(outDir, `${table.id}.md`, tableToMarkdown(table));
  writeReportFile(outDir, `${table.id}.csv`, tableToCsv(table));
}

/** A figure as `ID.svg` and `ID.png`. */
export function writeFigure(outDir: string, figure: Figure): void {
  writeReportFile(outDir, `${figure.id}.svg`, figure.svg);
  writeReportFile(outDir, `${figure.id}.png`, svgToPng(figure.svg));
}

const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/**
 * Writes `outDir/name` as a new file: a regular file there (an earlier report's) is replaced,
 * anything else (a symbolic link, a directory) is refused. Returns the file's path.
 */
export function writeReportFile(outDir: string, name: string, content: string | Uint8Array): string {
  const file = path.join(outDir, name);
  const existing = lstatOrUndefined(file);
  if (existing?.isSymbolicLink()) throw refusedLink(file);
  if (existing && !existing.isFile()) throw new InputError(`cannot write ${file}: something other than a file is in its place`);
  let fd: number;
  try {
    if (existing) fs.unlinkSync(file);
    // O_EXCL: whatever was put there since the check above fails the open instead of being followed.
    fd = fs.openSync(file, CREATE_NEW, 0o666);
  } catch (error) {
    if (lstatOrUndefined(file)?.isSymbolicLink()) throw refusedLink(file);
    if (isCode(error, 'EEXIST')) throw new InputError(`cannot write ${file}: another file took its place while the report was written`);
    throw new InputError(`cannot write ${file}: ${(error as Error).message}`);
  }
  try {
    fs.writeFileSync(fd, content);
  } catch (error) {
    throw new Error(`cannot write ${file}: ${(error as Error).message}`, { cause: error });
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/**
 * Creates the report directory (each missing level on its own: a recursive mkdir of a path
 * Node cannot create, such as under /proc, retries forever), or takes the one there.
 */
export function createOutputDirectory(dir: string): void {
  if (dir === '') throw new InputError('report directory: the path is empty');
  const absolute = path.resolve(dir);
  const missing: string[] = [];
  for (let level = absolute; lstatOrUndefined(level) === undefined && path.dirname(level) !== level; level = path.dirname(level)) missing.unshift(level);
  try {
    for (const level of missing) fs.mkdirSync(level);
  } catch (error) {
    throw new InputError(`cannot create report directory ${dir}: ${(error as Error).message}`);
  }
  const stats = lstatOrUndefined(absolute);
  if (stats?.isSymbolicLink()) {
    throw new InputError(`refusing to write into ${dir}: it is a symbolic link, which the report never makes; remove it, or choose another directory with --out`);
  }
  if (!stats?.isDirectory()) throw new InputError(`cannot create report directory ${dir}: something other than a directory is in its place`);
}

function refusedLink(file: string): InputError {
  return new InputError(`refusing to write ${file}: it is a symbolic link, which the report never makes; remove it, or choose another directory with --out`);
}

function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}
