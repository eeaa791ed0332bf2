import fs from 'node:fs';
import { BufferedWriter } from './buffered-writer.ts';

/** Creates a file of ours: never one that exists, never through a symbolic link. */
const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/**
 * Creates `path` (it must not exist) for text written through a `BufferedWriter`; `close()`
 * closes the file. A write that fails (a full disk) is cut back to the end of the last whole
 * chunk, so the file always ends on a whole row; nothing more is written, and `onError` hears
 * of it once. A write never throws: it may run from a timer, where a throw would end the process.
 */
export function createBufferedFile(path: string, onError: (error: Error) => void): BufferedWriter {
  const fd = fs.openSync(path, CREATE_NEW, 0o644);
  let whole = 0;
  let failed = false;
  return new BufferedWriter(
    (chunk) => {
      if (failed) return;
      const bytes = Buffer.from(chunk);
      try {
        writeAll(fd, bytes);
        whole += bytes.length;
      } catch (error) {
        failed = true;
        cutBack(fd, whole);
        onError(error as Error);
      }
    },
    () => fs.closeSync(fd),
  );
}

// fs.writeSync may write fewer bytes than asked for.
function writeAll(fd: number, bytes: Buffer): void {
  let written = 0;
  while (written < bytes.length) written += fs.writeSync(fd, bytes, written);
}

function cutBack(fd: number, length: number): void {
  try {
    fs.ftruncateSync(fd, length);
  } catch {
    // Shrinking a file needs no space; if even that fails, the reader's check for a whole last row remains.
  }
}
