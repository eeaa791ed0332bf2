import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fanOut } from '../../src/record/fan-out.ts';
import type { RecordSink } from '../../src/record/records.ts';
import { action, migration, request, sample } from './fixtures.ts';

function recordingSink(name: string, log: string[]): RecordSink {
  return {
    sample: (record) => log.push(`${name} sample ${record.host}`),
    action: (record) => log.push(`${name} action ${record.action}`),
    migration: (record) => log.push(`${name} migration ${record.vm}`),
    request: (record) => log.push(`${name} request ${record.client_id}`),
    decision: (record) => log.push(`${name} decision ${record.outcome}`),
  };
}

describe('fanOut', () => {
  it('hands each record to every sink, in order', () => {
    const log: string[] = [];
    const sink = fanOut(recordingSink('first', log), recordingSink('second', log));
    sink.sample(sample);
    sink.action(action);
    sink.migration(migration);
    sink.request(request);
    assert.deepEqual(log, [
      'first sample host1',
      'second sample host1',
      'first action migrate',
      'second action migrate',
      'first migration vm1',
      'second migration vm1',
      'first request c1',
      'second request c1',
    ]);
  });
});
