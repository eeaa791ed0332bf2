import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCsvCell, formatCsvLine, formatCsvRecordLine, writeNumberCell, writeTextCell } from '../../src/record/csv.ts';
import { TextBytes } from '../../src/record/text-bytes.ts';
import { SeededRandom } from '../../src/seeded-random.ts';

describe('formatCsvCell', () => {
  it('leaves plain text as it is', () => {
    assert.equal(formatCsvCell('migrate vm1 host2'), 'migrate vm1 host2');
    assert.equal(formatCsvCell(''), '');
  });

  it('quotes text with a comma, a quote or a line break, doubling quotes', () => {
    assert.equal(formatCsvCell('a,b'), '"a,b"');
    assert.equal(formatCsvCell('say "hi"'), '"say ""hi"""');
    assert.equal(formatCsvCell('two\nlines'), '"two\nlines"');
    assert.equal(formatCsvCell('cr\rlf'), '"cr\rlf"');
  });

  it('writes null and undefined as empty cells', () => {
    assert.equal(formatCsvCell(null), '');
    assert.equal(formatCsvCell(undefined), '');
  });

  it('writes integers as they are', () => {
    assert.equal(formatCsvCell(0), '0');
    assert.equal(formatCsvCell(-42), '-42');
    assert.equal(formatCsvCell(8_589_934_592), '8589934592');
    assert.equal(formatCsvCell(1e21), '1000000000000000000000');
  });

  it('rounds other numbers to at most 3 decimals without trailing zeros', () => {
    assert.equal(formatCsvCell(12.5), '12.5');
    assert.equal(formatCsvCell(3.14159), '3.142');
    assert.equal(formatCsvCell(2.0004), '2');
    assert.equal(formatCsvCell(-0.0004), '0');
    assert.equal(formatCsvCell(-1.2345678), '-1.235');
  });

  it('writes what String() writes of the number rounded to thousandths, at every magnitude', () => {
    const random = new SeededRandom(17);
    const values = [0.0005, -0.0005, 0.9995, 1.0005, 999.9995, 2 ** 42 - 0.5, 2 ** 42 + 0.5, -(2 ** 42) + 0.25, 2 ** 52 + 0.5, 1e15 + 0.125];
    for (let exponent = -4; exponent <= 16; exponent++) {
      for (let i = 0; i < 5000; i++) values.push((random.next() - 0.5) * 2 * 10 ** exponent, Math.round(random.next() * 10 ** (exponent + 3)) / 1000 + 0.0005);
    }
    for (const value of values) {
      if (!Number.isInteger(value)) assert.equal(formatCsvCell(value), String(Math.round(value * 1000) / 1000), `${value}`);
    }
  });

  it('never uses exponent notation', () => {
    assert.equal(formatCsvCell(1e-7), '0');
    assert.equal(formatCsvCell(0.0015), '0.002');
  });

  it('writes non-finite numbers as empty cells', () => {
    assert.equal(formatCsvCell(Number.NaN), '');
    assert.equal(formatCsvCell(Number.POSITIVE_INFINITY), '');
  });
});

describe('formatCsvLine', () => {
  it('joins cells with commas and ends with a newline', () => {
    assert.equal(formatCsvLine(['a', 1, null, 'b,c', 0.5]), 'a,1,,"b,c",0.5\n');
  });
});

describe('formatCsvRecordLine', () => {
  it('writes the values of the given columns in their order', () => {
    const record = { host: 'h1', value: 1.23456, unit: null };
    assert.equal(formatCsvRecordLine(record, ['value', 'host', 'unit']), '1.235,h1,\n');
  });
});

describe('writeNumberCell', () => {
  const written = (value: number): string => {
    const out = new TextBytes(4);
    writeNumberCell(value, out);
    return out.take().toString('utf8');
  };

  it('writes what formatCsvCell gives, at the edges of its exact digits and past them', () => {
    const edges = [0, -0, 1, -1, 9, 10, 99, 100, 0.0004, -0.0004, 0.0005, -0.0005, 0.9995, -0.9996, 1.5, -1.05, 0.001, 123.456, 2 ** 42 - 0.5, 2 ** 42 + 0.5, -(2 ** 42) + 0.25,
      Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 60, 1e21, -1e21, 1e300, Number.NaN, Infinity, -Infinity, Number.MIN_VALUE, 5e-324, 1e-7];
    for (const value of edges) assert.equal(written(value), formatCsvCell(value), `${value}`);
  });

  it('writes what formatCsvCell gives for numbers of every size', () => {
    const random = new SeededRandom(23);
    for (let i = 0; i < 20_000; i++) {
      const magnitude = 10 ** random.between(-4, 16);
      const value = (random.next() < 0.5 ? -1 : 1) * (random.next() < 0.2 ? Math.round(magnitude) : magnitude);
      assert.equal(written(value), formatCsvCell(value), `${value}`);
    }
  });
});

describe('writeTextCell', () => {
  it('writes what formatCsvCell gives: plain text as it is, text needing quotes or UTF-8 as formatCsvCell makes it', () => {
    const out = new TextBytes(4);
    const texts = ['host001', '', 'a,b', 'say "hi"', 'two\nlines', 'cr\rlf', 'hôte', 'end,', '"', 'x'.repeat(200)];
    for (const text of texts) writeTextCell(text, out);
    assert.equal(out.take().toString('utf8'), texts.map((text) => formatCsvCell(text)).join(''));
  });
});
