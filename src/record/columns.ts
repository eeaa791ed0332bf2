import type { ActionRecord, DecisionRecord, MigrationRow, RequestRecord, SampleRecord } from './records.ts';

/** `C` if it names every field of `R`, otherwise a type whose error message lists the missing ones. */
type AllFieldsOf<R, C extends readonly (keyof R)[]> =
  Exclude<keyof R, C[number]> extends never ? C : { missingColumns: Exclude<keyof R, C[number]> };

function columnsOf<R>() {
  return <const C extends readonly (keyof R)[]>(columns: C & AllFieldsOf<R, C>): C => columns;
}

/** CSV columns of each record file, in the field order of records.ts. */
export const SAMPLE_COLUMNS = columnsOf<SampleRecord>()(['time_s', 'host', 'counter', 'value', 'unit']);

export const ACTION_COLUMNS = columnsOf<ActionRecord>()([
  'scheduled_s',
  'fired_s',
  'action',
  'args',
  'postponed_ms',
  'status',
  'line',
]);

export const MIGRATION_COLUMNS = columnsOf<MigrationRow>()([
  'vm',
  'source',
  'target',
  'requested_s',
  'started_s',
  'ended_s',
  'duration_ms',
  'downtime_ms',
  'client_downtime_ms',
  'bytes',
  'passes',
  'status',
  'reason',
  'kind',
]);

export const REQUEST_COLUMNS = columnsOf<RequestRecord>()([
  'client_type',
  'client_id',
  'sent_s',
  'received_s',
  'latency_ms',
  'server',
  'processing_ms',
  'status',
  'corrupt_words',
]);

export const DECISION_COLUMNS = columnsOf<DecisionRecord>()([
  'time_s',
  'policy',
  'level',
  'loads',
  'spread',
  'outcome',
  'vm',
  'source',
  'target',
  'reason',
]);
