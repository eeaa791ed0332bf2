import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { readInputFile } from '../../src/read-input-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'vm-monitoring-read-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The one-line form of the InputError that reading `path` with a limit of `maxBytes` throws. */
function errorOf(path: string, maxBytes: number): string {
  try {
    readInputFile(path, 'script', maxBytes);
  } catch (error) {
    if (error instanceof InputError) return error.toOneLine();
    throw error;
  }
  assert.fail('expected an InputError');
}

describe('readInputFile', () => {
  it('reads a file of exactly the limit as UTF-8', () => {
    const path = fileOf('exact.txt', 'é\nab');
    assert.equal(readInputFile(path, 'script', 5), 'é\nab');
  });

  it('refuses one byte more, at the line and column of the first character past the limit', () => {
    const path = fileOf('over.txt', 'line one\né€x tail');
    // 'line one\n' is 9 bytes, 'é€' 5 more: byte 14 is the 'x', the 3rd character of line 2.
    assert.equal(errorOf(path, 14), `${path}:2:3: script larger than 14 bytes (the most a script may be)`);
  });

  it('reads a device that never ends only up to the limit', () => {
    assert.equal(errorOf('/dev/zero', 1024 * 1024), '/dev/zero:1:1048577: script larger than 1 MiB (the most a script may be)');
  });

  it('reads a pipe that is never closed only up to the limit', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Held open for writing (O_RDWR does not wait for a reader), so that the pipe never ends.
    const writer = openSync(fifo, 'r+');
    try {
      writeSync(writer, 'y\n'.repeat(2048));
      assert.equal(errorOf(fifo, 1000), `${fifo}:501:1: script larger than 1000 bytes (the most a script may be)`);
    } finally {
      closeSync(writer);
    }
  });

  it('reports a missing file or a directory without a position', () => {
    assert.match(errorOf(join(dir, 'absent.txt'), 10), /^cannot read script: ENOENT/);
    assert.match(errorOf(dir, 10), /^cannot read script: EISDIR/);
  });
});
