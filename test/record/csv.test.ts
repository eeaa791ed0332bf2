import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCsvCell, formatCsvLine, formatCsvRecordLine } from '../../src/record/csv.ts';

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
