import fs from 'node:fs';
import { CREATE_NEW, writeAll } from '../own-files.ts';
import { BufferedWriter } from './buffered-writer.ts';


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
      try {
        writeAll(fd, chunk);
        whole += chunk.length;
      } catch (error) {
        failed = true;
        cutBack(fd, whole);
        onError(error as Error);
      }
    },
    () => fs.closeSync(fd),
  );
}

function cutBack(fd: number, length: number): void {
  try {
    fs.ftruncateSync(fd, length);
  } catch {
    // Shrinking a file needs no space; if even that fails, the reader's check for a whole last row remains.
  }
}
