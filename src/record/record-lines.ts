/**
 * The CSV lines of the records that come by the million, samples (to samples.csv and stdout)
 * and requests, written cell by cell into the output's bytes rather than made into a string
 * by `formatCsvRecordLine`'s lookup of each column. They follow SAMPLE_COLUMNS, REQUEST_COLUMNS
 * and STDOUT_COLUMNS; the tests hold them to `formatCsvRecordLine`.
 */
import { CellBytes } from './cell-bytes.ts';
import { writeNumberCell } from './csv.ts';
import type { RequestRecord, SampleRecord } from './records.ts';
import type { TextBytes } from './text-bytes.ts';

/** One for all writers: a sample's time is written to samples.csv and to stdout in turn. */
const cells = new CellBytes();

export function writeSampleLine(sample: SampleRecord, out: TextBytes): void {
  writeSampleCells(sample, out, ',', ',', '\n');
}

/** The stdout columns with a sample's fields in place: time_s, record, host, 4 empty (vm to args), counter, value, unit, 7 empty (duration_ms to reason). */
export function writeStdoutSampleLine(sample: SampleRecord, out: TextBytes): void {
  writeSampleCells(sample, out, ',sample,', ',,,,,', ',,,,,,,\n');
}

/** A sample's cells in their order, with what goes after its time, after its host and after its unit. */
function writeSampleCells(sample: SampleRecord, out: TextBytes, afterTime: string, afterHost: string, afterUnit: string): void {
  cells.repeatedNumber(sample.time_s, out);
  out.text(afterTime);
  cells.text(sample.host, out);
  out.text(afterHost);
  cells.text(sample.counter, out);
  out.text(',');
  writeNumberCell(sample.value, out);
  out.text(',');
  cells.text(sample.unit, out);
  out.text(afterUnit);
}

export function writeRequestLine(request: RequestRecord, out: TextBytes): void {
  cells.text(request.client_type, out);
  out.text(',');
  cells.text(request.client_id, out);
  out.text(',');
  writeNumberCell(request.sent_s, out);
  out.text(',');
  writeNumberCell(request.received_s, out);
  out.text(',');
  writeNumberCell(request.latency_ms, out);
  out.text(',');
  cells.text(request.server, out);
  out.text(',');
  if (request.processing_ms !== null) writeNumberCell(request.processing_ms, out);
  out.text(',');
  cells.text(request.status, out);
  out.text(',');
  if (request.corrupt_words !== null) writeNumberCell(request.corrupt_words, out);
  out.text('\n');
}
