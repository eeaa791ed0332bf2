import fs from 'node:fs';
import { BufferedWriter } from './buffered-writer.ts';

/** Opens `path` for appending text through a `BufferedWriter`; `close()` closes the file. */
export function openBufferedFile(path: string): BufferedWriter {
  const fd = fs.openSync(path, 'a');
  return new BufferedWriter(
    (chunk) => writeAll(fd, chunk),
    () => fs.closeSync(fd),
  );
}

// fs.writeSync may write fewer bytes than asked for.
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  while (written < bytes.length) written += fs.writeSync(fd, bytes, written);
}
