/**
 * The CSV lines of the records that come by the million, samples and requests, written field
 * by field rather than by `formatCsvRecordLine`'s lookup of each column, in the order of
 * SAMPLE_COLUMNS and REQUEST_COLUMNS.
 */
import { formatCsvCell } from './csv.ts';
import type { RequestRecord, SampleRecord } from './records.ts';

/** A sample's fields as CSV cells. */
export interface SampleCells {
  time_s: string;
  host: string;
  counter: string;
  value: string;
  unit: string;
}

/** The fields of the sample whose cells `lastCells` are. */
let lastSample: SampleRecord = { time_s: NaN, host: '', counter: '', value: NaN, unit: '' };
let lastCells: SampleCells = { time_s: '', host: '', counter: '', value: '', unit: '' };

/**
 * The cells of `sample`, formatted once for every sink that writes it (samples.csv, stdout):
 * those of the last sample asked for are kept while the fields are the same.
 */
export function sampleCells(sample: SampleRecord): SampleCells {
  const last = lastSample;
  if (sample.time_s !== last.time_s || sample.value !== last.value || sample.host !== last.host || sample.counter !== last.counter || sample.unit !== last.unit) {
    lastSample = { time_s: sample.time_s, host: sample.host, counter: sample.counter, value: sample.value, unit: sample.unit };
    lastCells = {
      time_s: formatCsvCell(sample.time_s),
      host: formatCsvCell(sample.host),
      counter: formatCsvCell(sample.counter),
      value: formatCsvCell(sample.value),
      unit: formatCsvCell(sample.unit),
    };
  }
  return lastCells;
}

export function formatSampleLine(sample: SampleRecord): string {
  const cells = sampleCells(sample);
  return `${cells.time_s},${cells.host},${cells.counter},${cells.value},${cells.unit}\n`;
}

export function formatRequestLine(request: RequestRecord): string {
  return `${formatCsvCell(request.client_type)},${formatCsvCell(request.client_id)},${formatCsvCell(request.sent_s)},${formatCsvCell(request.received_s)},${formatCsvCell(request.latency_ms)},${formatCsvCell(request.server)},${formatCsvCell(request.processing_ms)},${formatCsvCell(request.status)},${formatCsvCell(request.corrupt_words)}\n`;
}
