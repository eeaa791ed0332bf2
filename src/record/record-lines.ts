/**
 * The CSV lines of the records that come by the million, samples (to samples.csv and stdout)
 * and requests, written cell by cell into the output's bytes rather than made into a string
 * by `formatCsvRecordLine`'s lookup of each column. They follow SAMPLE_COLUMNS, REQUEST_COLUMNS
 * and STDOUT_COLUMNS; the tests hold them to `formatCsvRecordLine`.
 */
import { writeNumberCell, writeTextCell } from './csv.ts';
import type { RequestRecord, SampleRecord } from './records.ts';
import { RepeatedNumberCell } from './repeated-number-cell.ts';
import type { TextBytes } from './text-bytes.ts';

/** One for all writers: a sample's time is written to samples.csv and to stdout in turn. */
const sampleTimes = new RepeatedNumberCell();

export function writeSampleLine(sample: SampleRecord, out: TextBytes): void {
  writeSampleCells(sample, out, ',', ',', '\n');
}

/** The stdout columns with a sample's fields in place: time_s, record, host, 4 empty (vm to args), counter, value, unit, 7 empty (duration_ms to reason). */
export function writeStdoutSampleLine(sample: SampleRecord, out: TextBytes): void {
  writeSampleCells(sample, out, ',sample,', ',,,,,', ',,,,,,,\n');
}

/** A sample's cells in their order, with what goes after its time, after its host and after its unit. */
function writeSampleCells(sample: SampleRecord, out: TextBytes, afterTime: string, afterHost: string, afterUnit: string): void {
  sampleTimes.write(sample.time_s, out);
  out.text(afterTime);
  writeTextCell(sample.host, out);
  out.text(afterHost);
  writeTextCell(sample.counter, out);
  out.text(',');
  writeNumberCell(sample.value, out);
  out.text(',');
  writeTextCell(sample.unit, out);
  out.text(afterUnit);
}

export function writeRequestLine(request: RequestRecord, out: TextBytes): void {
  writeTextCell(request.client_type, out);
  out.text(',');
  writeTextCell(request.client_id, out);
  out.text(',');
  writeNumberCell(request.sent_s, out);
  out.text(',');
  writeNumberCell(request.received_s, out);
  out.text(',');
  writeNumberCell(request.latency_ms, out);
  out.text(',');
  writeTextCell(request.server, out);
  out.text(',');
  if (request.processing_ms !== null) writeNumberCell(request.processing_ms, out);
  out.text(',');
  writeTextCell(request.status, out);
  out.text(',');
  if (request.corrupt_words !== null) writeNumberCell(request.corrupt_words, out);
  out.text('\n');
}
