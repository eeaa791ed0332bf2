import fs from 'node:fs';
import { InputError } from '../errors.ts';
import { errorCode } from '../record/error-code.ts';

/**
 * Reads a file of one JSON value per line, in bounded chunks, handing each value and its line
 * number to `take` (which may throw an InputError of its own). A line that is not JSON is an
 * error at that line, except a last line without its newline: a writer cut short left it
 * unfinished, and it is skipped. Returns false when there is no such file.
 */
export async function readJsonLines(file: string, take: (value: unknown, line: number) => void): Promise<boolean> {
  const parse = (text: string, line: number): void => {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InputError(`bad JSON: ${(error as Error).message}`, { file, line, column: 1 });
    }
    take(value, line);
  };
  let pending = '';
  let line = 1;
  try {
    for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const lines = (pending + (chunk as string)).split('\n');
      pending = lines.pop() as string;
      for (const text of lines) parse(text, line++);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    if (errorCode(error) === 'ENOENT') return false;
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    parse(pending, line);
  } catch {
    // the unfinished last line of a writer cut short
  }
  return true;
}
