import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TextBytes } from '../../src/record/text-bytes.ts';

describe('TextBytes', () => {
  it('gathers text as UTF-8, ASCII or not', () => {
    const bytes = new TextBytes(4);
    for (const piece of ['host1,', 'café,', '日本,', '😀', '\n']) bytes.text(piece);
    const taken = bytes.take();
    assert.equal(taken.toString('utf8'), 'host1,café,日本,😀\n');
    assert.equal(taken.length, Buffer.byteLength('host1,café,日本,😀\n'));
  });

  it('takes bytes already encoded between its text, growing for them', () => {
    const bytes = new TextBytes(2);
    bytes.text('a,');
    bytes.bytes(Buffer.from('hôte,', 'utf8'));
    bytes.text('b');
    assert.equal(bytes.take().toString('utf8'), 'a,hôte,b');
  });

  it('grows past its first capacity', () => {
    const bytes = new TextBytes(2);
    const text = 'x'.repeat(1000);
    bytes.text(text);
    bytes.text(text);
    assert.equal(bytes.length, 2000);
    assert.equal(bytes.take().toString(), text + text);
  });

  it('starts afresh after take, leaving the bytes taken as they were', () => {
    const bytes = new TextBytes(16);
    bytes.text('first\n');
    const first = bytes.take();
    assert.equal(bytes.length, 0);
    bytes.text('second\n');
    assert.equal(first.toString(), 'first\n');
    assert.equal(bytes.take().toString(), 'second\n');
  });
});
