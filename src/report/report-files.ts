import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { CREATE_NEW, createMissingLevels, lstatOrUndefined } from '../own-files.ts';
import { svgToPng } from './charts/png.ts';
import type { Figure } from './figure.ts';
import { tableToCsv, tableToMarkdown, type Table } from './table.ts';

/*
 * A report directory may sit in a run directory others can write to. Nothing here writes
 * through a link: the directory is opened once, a symbolic link in its place refused, and
 * every file is made in the directory so opened, whatever is put at its path meanwhile (a
 * link to /etc swapped in while the charts render). Each file is created anew, never opened
 * as it stands, a symbolic link in its place refused; the report makes no links.
 */

/** What a report is made of on disk: each table and figure in files of its own, and the page showing them. */
export interface ReportContent {
  tables: readonly Table[];
  figures: readonly Figure[];
  html: string;
}

/** Writes `report` into `dir` (made if missing); returns the path of its report.html. */
export function writeReport(dir: string, report: ReportContent): string {
  return withReportDirectory(dir, (out) => {
    for (const table of report.tables) out.writeTable(table);
    for (const figure of report.figures) out.writeFigure(figure);
    return out.writeFile('report.html', report.html);
  });
}

/** Writes one file into `dir` (made if missing), as ReportDirectory.writeFile; returns its path. */
export function writeReportFile(dir: string, name: string, content: string | Uint8Array): string {
  return withReportDirectory(dir, (out) => out.writeFile(name, content));
}

function withReportDirectory<T>(dir: string, write: (out: ReportDirectory) => T): T {
  const out = ReportDirectory.open(dir);
  try {
    return write(out);
  } finally {
    out.close();
  }
}

const OPEN_DIRECTORY = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;

/**
 * A report directory, opened once: its files are made through /proc/self/fd/FD/NAME (Node has
 * no openat), so they land in the directory opened even when its path now leads elsewhere.
 */
export class ReportDirectory {
  readonly #fd: number;

  private constructor(
    /** The directory as given: files are named under it in what is returned and in messages. */
    readonly path: string,
    fd: number,
  ) {
    this.#fd = fd;
  }

  /**
   * Creates the directory (see createMissingLevels), or takes the one there, and opens it;
   * refuses a symbolic link in its place.
   */
  static open(dir: string): ReportDirectory {
    const absolute = createMissingLevels(dir, 'report directory');
    let fd: number;
    try {
      fd = fs.openSync(absolute, OPEN_DIRECTORY);
    } catch (error) {
      if (lstatOrUndefined(absolute)?.isSymbolicLink()) {
        throw new InputError(`refusing to write into ${dir}: it is a symbolic link, which the report never makes; remove it, or choose another directory with --out`);
      }
      if (isCode(error, 'ENOTDIR')) throw new InputError(`cannot create report directory ${dir}: something other than a directory is in its place`);
      throw new InputError(`cannot open report directory ${dir}: ${(error as Error).message}`);
    }
    const out = new ReportDirectory(dir, fd);
    if (!out.#reachesItself()) {
      out.close();
      throw new Error(`cannot write into report directory ${dir}: /proc/self/fd does not lead to it (is /proc mounted?)`);
    }
    return out;
  }

  /** A table as `ID.md` and `ID.csv`. */
  writeTable(table: Table): void {
    this.writeFile(`${table.id}.md`, tableToMarkdown(table));
    this.writeFile(`${table.id}.csv`, tableToCsv(table));
  }

  /** A figure as `ID.svg` and `ID.png`. */
  writeFigure(figure: Figure): void {
    this.writeFile(`${figure.id}.svg`, figure.svg);
    this.writeFile(`${figure.id}.png`, svgToPng(figure.svg));
  }

  /**
   * Writes `name` as a new file: a regular file there (an earlier report's) is replaced,
   * anything else (a symbolic link, a directory) is refused. Returns the file's path.
   */
  writeFile(name: string, content: string | Uint8Array): string {
    if (!/^[^/]+$/.test(name) || name === '.' || name === '..') throw new Error(`a report file's name must be a file name, not ${name}`);
    const shown = path.join(this.path, name);
    const file = this.#inside(name);
    const existing = lstatOrUndefined(file);
    if (existing?.isSymbolicLink()) throw refusedLink(shown);
    if (existing && !existing.isFile()) throw new InputError(`cannot write ${shown}: something other than a file is in its place`);
    let fd: number;
    try {
      if (existing) fs.unlinkSync(file);
      // O_EXCL: whatever was put there since the check above fails the open instead of being followed.
      fd = fs.openSync(file, CREATE_NEW, 0o666);
    } catch (error) {
      if (lstatOrUndefined(file)?.isSymbolicLink()) throw refusedLink(shown);
      if (isCode(error, 'EEXIST')) throw new InputError(`cannot write ${shown}: another file took its place while the report was written`);
      throw new InputError(`cannot write ${shown}: ${(error as Error).message}`);
    }
    try {
      fs.writeFileSync(fd, content);
    } catch (error) {
      throw new Error(`cannot write ${shown}: ${(error as Error).message}`, { cause: error });
    } finally {
      fs.closeSync(fd);
    }
    return shown;
  }

  close(): void {
    fs.closeSync(this.#fd);
  }

  #inside(name: string): string {
    return `/proc/self/fd/${this.#fd}/${name}`;
  }

  #reachesItself(): boolean {
    const opened = fs.fstatSync(this.#fd);
    const reached = lstatOrUndefined(this.#inside('.'));
    return reached !== undefined && reached.dev === opened.dev && reached.ino === opened.ino;
  }
}

function refusedLink(file: string): InputError {
  return new InputError(`refusing to write ${file}: it is a symbolic link, which the report never makes; remove it, or choose another directory with --out`);
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}
