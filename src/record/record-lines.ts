/**
 * The CSV lines of the records that come by the million, samples (to samples.csv and stdout)
 * and requests, written cell by cell into the output's bytes rather than made into a string
 * by `formatCsvRecordLine`'s lookup of each column. They follow SAMPLE_COLUMNS, REQUEST_COLUMNS
 * and STDOUT_COLUMNS; the tests hold them to `formatCsvRecordLine`.
 */
import { formatCsvCell } from './csv.ts';
import type { RequestRecord, SampleRecord } from './records.ts';
import type { TextBytes } from './text-bytes.ts';

export function writeSampleLine(sample: SampleRecord, out: TextBytes): void {
  writeSampleCells(sample, out, ',', ',', '\n');
}

/** The stdout columns with a sample's fields in place: time_s, record, host, 4 empty (vm to args), counter, value, unit, 7 empty (duration_ms to reason). */
export function writeStdoutSampleLine(sample: SampleRecord, out: TextBytes): void {
  writeSampleCells(sample, out, ',sample,', ',,,,,', ',,,,,,,\n');
}

/** A sample's cells in their order, with what goes after its time, after its host and after its unit. */
function writeSampleCells(sample: SampleRecord, out: TextBytes, afterTime: string, afterHost: string, afterUnit: string): void {
  out.text(formatCsvCell(sample.time_s));
  out.text(afterTime);
  out.text(formatCsvCell(sample.host));
  out.text(afterHost);
  out.text(formatCsvCell(sample.counter));
  out.text(',');
  out.text(formatCsvCell(sample.value));
  out.text(',');
  out.text(formatCsvCell(sample.unit));
  out.text(afterUnit);
}

export function writeRequestLine(request: RequestRecord, out: TextBytes): void {
  out.text(formatCsvCell(request.client_type));
  out.text(',');
  out.text(formatCsvCell(request.client_id));
  out.text(',');
  out.text(formatCsvCell(request.sent_s));
  out.text(',');
  out.text(formatCsvCell(request.received_s));
  out.text(',');
  out.text(formatCsvCell(request.latency_ms));
  out.text(',');
  out.text(formatCsvCell(request.server));
  out.text(',');
  out.text(formatCsvCell(request.processing_ms));
  out.text(',');
  out.text(formatCsvCell(request.status));
  out.text(',');
  out.text(formatCsvCell(request.corrupt_words));
  out.text('\n');
}
