import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REQUEST_COLUMNS, SAMPLE_COLUMNS } from '../../src/record/columns.ts';
import { formatCsvRecordLine, type CsvCell } from '../../src/record/csv.ts';
import { formatRequestLine, formatSampleLine, sampleCells } from '../../src/record/record-lines.ts';
import type { RequestRecord, SampleRecord } from '../../src/record/records.ts';
import { STDOUT_COLUMNS, STDOUT_HEADER, StdoutCsv } from '../../src/record/stdout-csv.ts';
import { request, sample } from './fixtures.ts';

const samples: SampleRecord[] = [
  sample,
  { time_s: 3600, host: 'host001', counter: 'mem.consumed.average', value: 31_457_280.123456, unit: 'KB' },
  { time_s: 0.25, host: 'rack "a", host 1', counter: 'cpu\nusage', value: -0.0004, unit: 'MHz' },
  { time_s: 7, host: 'h', counter: 'c', value: Number.NaN, unit: '' },
];

const requests: RequestRecord[] = [
  request,
  { client_type: 'memory2', client_id: 'memory2-4000', sent_s: 3599.9, received_s: 3610.123456, latency_ms: 10223.456, server: 'vm2000', processing_ms: 10210.5, status: 'ok', corrupt_words: 0 },
  { client_type: 'a,b', client_id: 'say "hi"', sent_s: 1, received_s: 2, latency_ms: 1000, server: 'vm1', processing_ms: null, status: 'aborted', corrupt_words: null },
];

describe('formatSampleLine and formatRequestLine', () => {
  it('give what formatCsvRecordLine gives in the files\' column order', () => {
    for (const record of samples) assert.equal(formatSampleLine(record), formatCsvRecordLine(record, SAMPLE_COLUMNS));
    for (const record of requests) assert.equal(formatRequestLine(record), formatCsvRecordLine(record, REQUEST_COLUMNS));
  });
});

describe('sampleCells', () => {
  it('keeps the cells of a sample asked for again, even as another object', () => {
    const cells = sampleCells(samples[1]!);
    assert.equal(sampleCells({ ...samples[1]! }), cells);
  });

  it('formats a sample afresh when any field differs from the last one', () => {
    const base = samples[1]!;
    for (const changed of [{ time_s: 3601 }, { host: 'host002' }, { counter: 'mem.active.average' }, { value: 31_457_280 }, { unit: 'MB' }]) {
      sampleCells(base);
      const record = { ...base, ...changed };
      assert.equal(formatSampleLine(record), formatCsvRecordLine(record, SAMPLE_COLUMNS), JSON.stringify(changed));
    }
  });

  it('is not fooled by a record changed after it was formatted', () => {
    const record = { ...samples[1]! };
    sampleCells(record);
    record.value = 2.5;
    assert.equal(sampleCells(record).value, '2.5');
  });
});

describe('StdoutCsv sample rows', () => {
  it('are the stdout columns with the sample\'s fields in place', () => {
    let output = '';
    const stdout = new StdoutCsv((chunk) => (output += chunk));
    for (const record of samples) stdout.sample(record);
    stdout.close();
    const rows = samples.map((record) => formatCsvRecordLine<Partial<Record<(typeof STDOUT_COLUMNS)[number], CsvCell>>>({ ...record, record: 'sample' }, STDOUT_COLUMNS));
    assert.equal(output, STDOUT_HEADER + rows.join(''));
  });
});
