import { BufferedWriter } from './buffered-writer.ts';
import { formatCsvLine, formatCsvRecordLine, type CsvCell } from './csv.ts';
import { writeStdoutSampleLine } from './record-lines.ts';
import type { ActionRecord, DecisionRecord, MigrationRecord, RecordSink, RequestRecord, SampleRecord } from './records.ts';

/** Columns of the stdout CSV: the union of what samples, actions and migrations need. */
export const STDOUT_COLUMNS = [
  'time_s',
  'record',
  'host',
  'vm',
  'target',
  'action',
  'args',
  'counter',
  'value',
  'unit',
  'duration_ms',
  'downtime_ms',
  'client_downtime_ms',
  'bytes',
  'passes',
  'status',
  'reason',
] as const;

export const STDOUT_HEADER = formatCsvLine(STDOUT_COLUMNS);

type StdoutRow = Partial<Record<(typeof STDOUT_COLUMNS)[number], CsvCell>>;

/**
 * The stdout stream: one header line, then a row per sample, action, migration and policy decision in the
 * order they arrive, which is time order. Requests are left out: there are far too many.
 * `write` is the transport (StdoutStream), which deals with a reader that goes away.
 */
export class StdoutCsv implements RecordSink {
  readonly #output: BufferedWriter;

  constructor(write: (chunk: Buffer) => void) {
    this.#output = new BufferedWriter(write);
    this.#output.write(STDOUT_HEADER);
    this.#output.flush();
  }

  sample(record: SampleRecord): void {
    this.#output.writeFormatted(record, writeStdoutSampleLine);
  }

  action(record: ActionRecord): void {
    this.#writeRow({
      time_s: record.fired_s,
      record: 'action',
      action: record.action,
      args: record.args,
      duration_ms: record.postponed_ms,
      status: record.status,
    });
  }

  migration(record: MigrationRecord): void {
    this.#writeRow({
      time_s: record.ended_s,
      record: 'migration',
      host: record.source,
      vm: record.vm,
      target: record.target,
      action: record.kind,
      duration_ms: record.duration_ms,
      downtime_ms: record.downtime_ms,
      client_downtime_ms: record.client_downtime_ms,
      bytes: record.bytes,
      passes: record.passes,
      status: record.status,
      reason: record.reason,
    });
  }

  request(_record: RequestRecord): void {
    // Left out of stdout: far too many rows for a terminal; requests.csv has them.
  }

  /** `action` is the policy, `args` its level, `value` the spread it saw, `status` its outcome. */
  decision(record: DecisionRecord): void {
    this.#writeRow({
      time_s: record.time_s,
      record: 'decision',
      host: record.source,
      vm: record.vm,
      target: record.target,
      action: record.policy,
      args: record.level ?? 'off',
      value: record.spread,
      status: record.outcome,
      reason: record.reason,
    });
  }

  flush(): void {
    this.#output.flush();
  }

  close(): void {
    this.#output.close();
  }

  #writeRow(row: StdoutRow): void {
    this.#output.write(formatCsvRecordLine(row, STDOUT_COLUMNS));
  }
}
