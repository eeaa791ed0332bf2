/** Small run directories written by hand, for the report's tests. */
import fs from 'node:fs';
import path from 'node:path';
import { ACTION_COLUMNS, DECISION_COLUMNS, MIGRATION_COLUMNS, REQUEST_COLUMNS, SAMPLE_COLUMNS } from '../../src/record/columns.ts';
import { formatCsvLine, formatCsvRecordLine, type CsvCell } from '../../src/record/csv.ts';
import type { ActionRecord, DecisionRecord, MigrationRow, RequestRecord, SampleRecord } from '../../src/record/records.ts';

export interface RunContents {
  info?: Record<string, unknown>;
  samples?: SampleRecord[];
  actions?: ActionRecord[];
  migrations?: MigrationRow[];
  requests?: RequestRecord[];
  /** decisions.csv is written only when given, as a run writes it only with a placement policy. */
  decisions?: DecisionRecord[];
}

/** Writes run.json and the four CSV files (header only where `contents` has no records), and decisions.csv if given. */
export function writeRun(dir: string, contents: RunContents): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(contents.info ?? { tool: 'vm-monitoring' }));
  writeCsv(path.join(dir, 'samples.csv'), SAMPLE_COLUMNS, contents.samples ?? []);
  writeCsv(path.join(dir, 'actions.csv'), ACTION_COLUMNS, contents.actions ?? []);
  writeCsv(path.join(dir, 'migrations.csv'), MIGRATION_COLUMNS, contents.migrations ?? []);
  writeCsv(path.join(dir, 'requests.csv'), REQUEST_COLUMNS, contents.requests ?? []);
  if (contents.decisions) writeCsv(path.join(dir, 'decisions.csv'), DECISION_COLUMNS, contents.decisions);
}

function writeCsv<R extends Record<keyof R, CsvCell>>(file: string, columns: readonly (keyof R & string)[], records: R[]): void {
  fs.writeFileSync(file, formatCsvLine(columns) + records.map((record) => formatCsvRecordLine(record, columns)).join(''));
}

/** A succeeded script migration of vm1 from host1 to host2 over [started_s, ended_s], with `fields` changed. */
export function migration(fields: Partial<MigrationRow>): MigrationRow {
  const started = fields.started_s ?? 10;
  const ended = fields.ended_s ?? 20;
  return {
    vm: 'vm1',
    source: 'host1',
    target: 'host2',
    requested_s: started,
    started_s: started,
    ended_s: ended,
    duration_ms: (ended - started) * 1000,
    downtime_ms: null,
    client_downtime_ms: null,
    bytes: null,
    passes: null,
    status: 'succeeded',
    reason: '',
    kind: 'script',
    ...fields,
  };
}

/** An `ok` request served by vm1 over [sent_s, received_s], with `fields` changed. */
export function request(fields: Partial<RequestRecord>): RequestRecord {
  return {
    client_type: 'cpu',
    client_id: 'cpu-1',
    sent_s: 0,
    received_s: 1,
    latency_ms: 100,
    server: 'vm1',
    processing_ms: null,
    status: 'ok',
    corrupt_words: 0,
    ...fields,
  };
}

/** A DRS move of vm1 from host1 to host2 at `time_s`, with `fields` changed. */
export function decision(fields: Partial<DecisionRecord>): DecisionRecord {
  return {
    time_s: 0,
    policy: 'drs',
    level: 3,
    loads: 'host1=1.000 host2=0.000',
    spread: 0.5,
    outcome: 'move',
    vm: 'vm1',
    source: 'host1',
    target: 'host2',
    reason: 'priority 2 at level 3',
    ...fields,
  };
}
