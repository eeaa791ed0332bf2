import fs from 'node:fs';
import path from 'node:path';
import { InputError } from './errors.ts';

/**
 * The flags for a file this tool makes: created anew (an existing one, a planted link
 * included, fails the open) and never through a symbolic link.
 */
export const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** Writes all of `bytes` (fs.writeSync may write fewer than asked), at `position` when given. */
export function writeAll(fd: number, bytes: Buffer, position?: number): void {
  let written = 0;
  while (written < bytes.length) {
    written += fs.writeSync(fd, bytes, written, bytes.length - written, position === undefined ? null : position + written);
  }
}

/**
 * Creates the missing levels of `dir` one at a time and returns its absolute path: a
 * recursive mkdir of a path Node cannot create (under /proc, a file as a parent) retries
 * forever rather than failing. `what` names the directory in errors ("output directory").
 */
export function createMissingLevels(dir: string, what: string): string {
  if (dir === '') throw new InputError(`${what}: the path is empty`);
  const absolute = path.resolve(dir);
  const missing: string[] = [];
  for (let level = absolute; lstatOrUndefined(level) === undefined && path.dirname(level) !== level; level = path.dirname(level)) missing.unshift(level);
  try {
    for (const level of missing) fs.mkdirSync(level);
  } catch (error) {
    throw new InputError(`cannot create ${what} ${dir}: ${(error as Error).message}`);
  }
  return absolute;
}

/** The file's own status (a link's, not its target's), or undefined when nothing is there. */
export function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}
