import type { ActionRecord, MigrationRecord, RequestRecord, SampleRecord } from '../../src/record/records.ts';

export const sample: SampleRecord = { time_s: 1.5, host: 'host1', counter: 'cpu', value: 42.25, unit: '%' };

export const action: ActionRecord = {
  scheduled_s: 2,
  fired_s: 2.0015,
  action: 'migrate',
  args: 'vm1 host2',
  postponed_ms: 0,
  status: 'fired',
  line: 7,
};

export const migration: MigrationRecord = {
  vm: 'vm1',
  source: 'host1',
  target: 'host2',
  requested_s: 2,
  started_s: 2.1,
  ended_s: 9.75,
  duration_ms: 7650,
  downtime_ms: null,
  client_downtime_ms: null,
  bytes: 1073741824,
  passes: 3,
  status: 'failed',
  reason: 'target refused: "no memory", retry later',
  kind: 'script',
};

export const request: RequestRecord = {
  client_type: 'web',
  client_id: 'c1',
  sent_s: 3,
  received_s: 3.0125,
  latency_ms: 12.5,
  server: 'vm1',
  processing_ms: null,
  status: 'ok',
  corrupt_words: 0,
};
