import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferedWriter } from '../../src/record/buffered-writer.ts';

function recordingWriter(): { writer: BufferedWriter; chunks: string[]; releases: () => number } {
  const chunks: string[] = [];
  let released = 0;
  const writer = new BufferedWriter(
    (chunk) => chunks.push(chunk.toString()),
    () => released++,
  );
  return { writer, chunks, releases: () => released };
}

describe('BufferedWriter', () => {
  it('holds small writes until flushed, then outputs them as one chunk', () => {
    const { writer, chunks } = recordingWriter();
    writer.write('a\n');
    writer.write('b\n');
    assert.deepEqual(chunks, []);
    writer.flush();
    assert.deepEqual(chunks, ['a\nb\n']);
    writer.close();
  });

  it('outputs at once when the buffer passes 64 KiB', () => {
    const { writer, chunks } = recordingWriter();
    writer.write('x'.repeat(64 * 1024));
    assert.equal(chunks.length, 1);
    writer.close();
  });

  it('does not output empty chunks', () => {
    const { writer, chunks } = recordingWriter();
    writer.flush();
    writer.close();
    assert.deepEqual(chunks, []);
  });

  it('flushes and releases once on close, however often it is closed', () => {
    const { writer, chunks, releases } = recordingWriter();
    writer.write('last\n');
    writer.close();
    writer.close();
    assert.deepEqual(chunks, ['last\n']);
    assert.equal(releases(), 1);
  });

  it('refuses writes after close', () => {
    const { writer } = recordingWriter();
    writer.close();
    assert.throws(() => writer.write('late\n'), /write after close/);
    assert.throws(() => writer.writeFormatted('late', (text, out) => out.text(text)), /write after close/);
  });

  it('writes what a format puts in piece by piece, in order with plain writes', () => {
    const { writer, chunks } = recordingWriter();
    writer.write('a,');
    writer.writeFormatted([1, 2], (cells, out) => {
      out.text(String(cells[0]));
      out.text(',');
      out.text(`${cells[1]}\n`);
    });
    writer.close();
    assert.deepEqual(chunks, ['a,1,2\n']);
  });

  it('outputs at once when formatted pieces pass 64 KiB', () => {
    const { writer, chunks } = recordingWriter();
    for (let i = 0; i < 1024; i++) writer.writeFormatted(i, (_, out) => out.text('y'.repeat(64)));
    assert.equal(chunks.length, 1);
    writer.close();
  });
});
