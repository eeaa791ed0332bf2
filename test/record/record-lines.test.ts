import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REQUEST_COLUMNS, SAMPLE_COLUMNS } from '../../src/record/columns.ts';
import { formatCsvRecordLine, type CsvCell } from '../../src/record/csv.ts';
import { writeRequestLine, writeSampleLine, writeStdoutSampleLine } from '../../src/record/record-lines.ts';
import type { RequestRecord, SampleRecord } from '../../src/record/records.ts';
import { STDOUT_COLUMNS } from '../../src/record/stdout-csv.ts';
import { TextBytes } from '../../src/record/text-bytes.ts';
import { request, sample } from './fixtures.ts';

const samples: SampleRecord[] = [
  sample,
  { time_s: 3600, host: 'host001', counter: 'mem.consumed.average', value: 31_457_280.123456, unit: 'KB' },
  // The value of the sample before, then one a hair from it: each is written as itself.
  { time_s: 3600, host: 'host002', counter: 'mem.consumed.average', value: 31_457_280.123456, unit: 'KB' },
  { time_s: 3600, host: 'host002', counter: 'mem.active.average', value: 31_457_280.1236, unit: 'KB' },
  { time_s: 3600, host: 'host002', counter: 'cpu.usagemhz.average', value: -0, unit: 'MHz' },
  { time_s: 0.25, host: 'rack "a", hôte 1', counter: 'cpu\nusage', value: -0.0004, unit: 'MHz' },
  { time_s: 7, host: 'h', counter: 'c', value: Number.NaN, unit: '' },
  { time_s: 7, host: `rack-${'x'.repeat(100)}, "long"`, counter: 'c', value: 1.5, unit: 'KB' },
];

const requests: RequestRecord[] = [
  request,
  { client_type: 'memory2', client_id: 'memory2-4000', sent_s: 3599.9, received_s: 3610.123456, latency_ms: 10223.456, server: 'vm2000', processing_ms: 10210.5, status: 'ok', corrupt_words: 0 },
  { client_type: 'a,b', client_id: 'say "hi"', sent_s: 1, received_s: 2, latency_ms: 1000, server: 'vm1', processing_ms: null, status: 'aborted', corrupt_words: null },
];

function written<R>(record: R, writeLine: (record: R, out: TextBytes) => void): string {
  const out = new TextBytes(8);
  writeLine(record, out);
  return out.take().toString('utf8');
}

type StdoutRow = Partial<Record<(typeof STDOUT_COLUMNS)[number], CsvCell>>;

describe('the lines of samples and requests', () => {
  it('stay the same when the same names and times recur, in turns between samples.csv and stdout', () => {
    for (let round = 0; round < 3; round++) {
      for (const record of [...samples, ...samples.map((s) => ({ ...s, time_s: s.time_s + round }))]) {
        assert.equal(written(record, writeSampleLine), formatCsvRecordLine(record, SAMPLE_COLUMNS));
        assert.equal(written(record, writeStdoutSampleLine), formatCsvRecordLine<StdoutRow>({ ...record, record: 'sample' }, STDOUT_COLUMNS));
      }
      for (const record of requests) assert.equal(written(record, writeRequestLine), formatCsvRecordLine(record, REQUEST_COLUMNS));
    }
  });

  it('are what formatCsvRecordLine gives in the files\' column order', () => {
    for (const record of samples) assert.equal(written(record, writeSampleLine), formatCsvRecordLine(record, SAMPLE_COLUMNS));
    for (const record of requests) assert.equal(written(record, writeRequestLine), formatCsvRecordLine(record, REQUEST_COLUMNS));
  });

  it('on stdout, are the stdout columns with the sample\'s fields in place', () => {
    for (const record of samples) {
      assert.equal(written(record, writeStdoutSampleLine), formatCsvRecordLine<StdoutRow>({ ...record, record: 'sample' }, STDOUT_COLUMNS));
    }
  });
});
