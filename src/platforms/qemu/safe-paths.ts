import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.ts';
import { CREATE_NEW } from '../../own-files.ts';

/**
 * Paths nobody else controls. The lab runs as root: a directory another user made, or can
 * change, could hold links to any file (which the lab would then write) and a state file
 * naming any process (which `lab down` would then signal). So its directories must be the
 * user's own, on a path only root or the user can change, and its files are created afresh,
 * never through a link.
 */

const OTHERS_WRITE = 0o022;
const STICKY = 0o1000;

function me(): number {
  return process.geteuid?.() ?? 0;
}

function unsafe(what: string, file: string, why: string): InputError {
  return new InputError(`refusing ${what} ${file}: it ${why}`);
}

function lstatOrNull(file: string): fs.Stats | null {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * `file` made absolute with the links of its existing ancestors resolved (the file itself,
 * and what does not exist yet, kept as written): the one name under which it is checked and used.
 */
export function canonicalPath(file: string): string {
  const absolute = path.resolve(file);
  const missing = [path.basename(absolute)];
  let existing = path.dirname(absolute);
  while (lstatOrNull(existing) === null) {
    missing.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  return path.join(fs.realpathSync(existing), ...missing);
}

/**
 * Throws unless every directory from `dir` up to `/` belongs to root or the user and is
 * writable by nobody else (or is sticky, like /tmp, so that nobody else can rename what is in it).
 */
function checkAncestors(what: string, dir: string): void {
  for (let current = dir; ; current = path.dirname(current)) {
    const stat = fs.lstatSync(current);
    if (stat.isSymbolicLink()) throw unsafe(what, current, 'is a symbolic link on the way (it changed while being checked)');
    if (stat.uid !== 0 && stat.uid !== me()) throw unsafe(what, current, `is on the way and belongs to uid ${stat.uid}, not to root or you (uid ${me()})`);
    if ((stat.mode & OTHERS_WRITE) !== 0 && (stat.mode & STICKY) === 0) {
      throw unsafe(what, current, `is on the way and others may write to it (mode ${(stat.mode & 0o7777).toString(8)})`);
    }
    if (current === path.dirname(current)) return;
  }
}

/**
 * Throws unless `dir` (canonical, see canonicalPath) is a directory of the user's own that no
 * one else may write to, on a safe path; false when it does not exist.
 */
export function checkPrivateDir(what: string, dir: string): boolean {
  const stat = lstatOrNull(dir);
  if (stat === null) return false;
  if (stat.isSymbolicLink()) throw unsafe(what, dir, 'is a symbolic link');
  if (!stat.isDirectory()) throw unsafe(what, dir, 'is not a directory');
  if (stat.uid !== me()) throw unsafe(what, dir, `belongs to uid ${stat.uid}, not to you (uid ${me()})`);
  if ((stat.mode & OTHERS_WRITE) !== 0) throw unsafe(what, dir, `is open to others (mode ${(stat.mode & 0o7777).toString(8)})`);
  checkAncestors(what, path.dirname(dir));
  return true;
}

/** Creates `dir` (canonical) and its missing ancestors, each 0700, or checks the one that is there. */
export function makePrivateDir(what: string, dir: string): void {
  const missing: string[] = [];
  let existing = dir;
  while (lstatOrNull(existing) === null) {
    missing.unshift(existing);
    existing = path.dirname(existing);
  }
  if (missing.length === 0) {
    checkPrivateDir(what, dir);
    return;
  }
  checkAncestors(what, existing);
  for (const created of missing) {
    try {
      fs.mkdirSync(created, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    checkPrivateDir(what, created);
  }
}

/** Throws unless `file` is a regular file that only root or the user can change, on a safe path. */
export function checkTrustedFile(what: string, file: string): void {
  if (!path.isAbsolute(file)) throw unsafe(what, file, 'is not an absolute path');
  const stat = lstatOrNull(file);
  if (stat === null) throw unsafe(what, file, 'does not exist');
  if (!stat.isFile()) throw unsafe(what, file, 'is not a regular file');
  if (stat.uid !== 0 && stat.uid !== me()) throw unsafe(what, file, `belongs to uid ${stat.uid}, not to root or you`);
  if ((stat.mode & OTHERS_WRITE) !== 0) throw unsafe(what, file, `is writable by others (mode ${(stat.mode & 0o7777).toString(8)})`);
  checkAncestors(what, path.dirname(file));
}

/** Creates `file` for writing (mode 0600) and returns its descriptor; fails when anything, a link included, is already there. */
export function openExclusive(file: string): number {
  return fs.openSync(file, CREATE_NEW, 0o600);
}

/** Creates `file` with `data`, as openExclusive. */
export function writeExclusive(file: string, data: string | Uint8Array): void {
  const fd = openExclusive(file);
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads `file`, refusing to follow a link there. */
export function readNoFollow(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
