/** CSV rows back into the records of records.ts; a bad cell throws BadCellError. */
import type {
  ActionRecord,
  ActionStatus,
  DecisionOutcome,
  DecisionPolicy,
  DecisionRecord,
  MigrationRecord,
  MigrationStatus,
  RequestRecord,
  RequestStatus,
  SampleRecord,
} from '../record/records.ts';
import { BadCellError, type CsvRow } from './csv-reader.ts';
import { MIGRATION_KINDS } from './migration-kinds.ts';

export function parseSample(row: CsvRow): SampleRecord {
  return {
    time_s: numberCell(row, 'time_s'),
    host: row.host as string,
    counter: row.counter as string,
    value: numberCell(row, 'value'),
    unit: row.unit as string,
  };
}

const ACTION_STATUSES: readonly ActionStatus[] = ['fired', 'interrupted'];

export function parseAction(row: CsvRow): ActionRecord {
  return {
    scheduled_s: numberCell(row, 'scheduled_s'),
    fired_s: numberCell(row, 'fired_s'),
    action: row.action as string,
    args: row.args as string,
    postponed_ms: numberCell(row, 'postponed_ms'),
    status: choiceCell(row, 'status', ACTION_STATUSES),
    line: numberCell(row, 'line'),
  };
}

const MIGRATION_STATUSES: readonly MigrationStatus[] = ['succeeded', 'failed', 'interrupted'];

export function parseMigration(row: CsvRow): MigrationRecord {
  return {
    vm: row.vm as string,
    source: row.source as string,
    target: row.target as string,
    requested_s: numberCell(row, 'requested_s'),
    started_s: numberCell(row, 'started_s'),
    ended_s: numberCell(row, 'ended_s'),
    duration_ms: numberCell(row, 'duration_ms'),
    downtime_ms: nullableNumberCell(row, 'downtime_ms'),
    client_downtime_ms: nullableNumberCell(row, 'client_downtime_ms'),
    bytes: nullableNumberCell(row, 'bytes'),
    passes: nullableNumberCell(row, 'passes'),
    status: choiceCell(row, 'status', MIGRATION_STATUSES),
    reason: row.reason as string,
    kind: choiceCell(row, 'kind', MIGRATION_KINDS),
  };
}

const REQUEST_STATUSES: readonly RequestStatus[] = ['ok', 'error', 'aborted', 'corrupt'];

export function parseRequest(row: CsvRow): RequestRecord {
  return {
    client_type: row.client_type as string,
    client_id: row.client_id as string,
    sent_s: numberCell(row, 'sent_s'),
    received_s: numberCell(row, 'received_s'),
    latency_ms: numberCell(row, 'latency_ms'),
    server: row.server as string,
    processing_ms: nullableNumberCell(row, 'processing_ms'),
    status: choiceCell(row, 'status', REQUEST_STATUSES),
    corrupt_words: nullableNumberCell(row, 'corrupt_words'),
  };
}

/** Keyed by every value of the type, so that a value added to it must be added here. */
const DECISION_POLICIES = Object.keys({ drs: true, maintenance: true, dpm: true } satisfies Record<DecisionPolicy, true>) as DecisionPolicy[];
const DECISION_OUTCOMES = Object.keys({
  move: true,
  none: true,
  done: true,
  failed: true,
  'power-off': true,
  standby: true,
  'power-on': true,
} satisfies Record<DecisionOutcome, true>) as DecisionOutcome[];

export function parseDecision(row: CsvRow): DecisionRecord {
  return {
    time_s: numberCell(row, 'time_s'),
    policy: choiceCell(row, 'policy', DECISION_POLICIES),
    level: nullableNumberCell(row, 'level'),
    loads: row.loads as string,
    spread: nullableNumberCell(row, 'spread'),
    outcome: choiceCell(row, 'outcome', DECISION_OUTCOMES),
    vm: row.vm as string,
    source: row.source as string,
    target: row.target as string,
    reason: row.reason as string,
  };
}

function numberCell(row: CsvRow, column: string): number {
  const text = row[column] as string;
  const value = Number(text);
  if (text === '') throw new BadCellError(column, `empty cell in column ${column}, expected a number`);
  if (!Number.isFinite(value)) throw new BadCellError(column, `bad number '${text}' in column ${column}`);
  return value;
}

/** An empty cell is how the writer records null. */
function nullableNumberCell(row: CsvRow, column: string): number | null {
  return row[column] === '' || row[column] === undefined ? null : numberCell(row, column);
}

function choiceCell<T extends string>(row: CsvRow, column: string, choices: readonly T[]): T {
  const text = row[column] as string;
  if (!(choices as readonly string[]).includes(text)) {
    throw new BadCellError(column, `bad value '${text}' in column ${column} (expected ${choices.join(', ')})`);
  }
  return text as T;
}
