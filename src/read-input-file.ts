import { closeSync, openSync, readSync } from 'node:fs';
import { InputError, type SourcePosition } from './errors.ts';
import { formatBytes } from './input-limits.ts';

const CHUNK_BYTES = 64 * 1024;

/**
 * Reads a user's input file (script, config) as UTF-8, reading at most `maxBytes + 1` bytes
 * whatever it is: a regular file, a pipe (`<(generate-script)`), `/dev/zero`. A larger one
 * throws an InputError at the first character past the limit.
 */
export function readInputFile(file: string, what: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new InputError(`cannot read ${what}: ${(error as Error).message}`);
  }
  try {
    const bytes = readAtMost(fd, maxBytes + 1, what);
    if (bytes.length > maxBytes) {
      throw new InputError(`${what} larger than ${formatBytes(maxBytes)} (the most a ${what} may be)`, positionOfByte(bytes, maxBytes, file));
    }
    return bytes.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function readAtMost(fd: number, limit: number, what: string): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, limit - total));
    let read: number;
    try {
      read = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      throw new InputError(`cannot read ${what}: ${(error as Error).message}`);
    }
    if (read === 0) break;
    chunks.push(chunk.subarray(0, read));
    total += read;
  }
  return Buffer.concat(chunks, total);
}

/** Line and column (in UTF-16 units, as the parsers count) of the character at byte `offset`. */
function positionOfByte(bytes: Buffer, offset: number, file: string): SourcePosition {
  const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
  let line = 1;
  for (let at = bytes.indexOf(0x0a); at >= 0 && at < lineStart; at = bytes.indexOf(0x0a, at + 1)) line++;
  return { file, line, column: bytes.subarray(lineStart, offset).toString('utf8').length + 1 };
}
