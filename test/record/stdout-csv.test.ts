import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STDOUT_HEADER, StdoutCsv } from '../../src/record/stdout-csv.ts';
import { action, migration, request, sample } from './fixtures.ts';

describe('StdoutCsv', () => {
  it('writes the header line at once', () => {
    const chunks: string[] = [];
    const stdout = new StdoutCsv((chunk) => chunks.push(chunk.toString()));
    assert.deepEqual(chunks, [
      'time_s,record,host,vm,target,action,args,counter,value,unit,duration_ms,downtime_ms,client_downtime_ms,bytes,passes,status,reason\n',
    ]);
    assert.equal(chunks[0], STDOUT_HEADER);
    stdout.close();
  });

  it('writes a row per sample, action and migration, and none for requests', () => {
    let output = '';
    const stdout = new StdoutCsv((chunk) => (output += chunk));
    stdout.sample(sample);
    stdout.action(action);
    stdout.action({ ...action, fired_s: 4, postponed_ms: 1500, status: 'interrupted' });
    stdout.migration(migration);
    stdout.migration({ ...migration, kind: 'setup', status: 'succeeded', reason: '', downtime_ms: 12.25, client_downtime_ms: 300.5 });
    stdout.request(request);
    stdout.close();
    assert.deepEqual(output.split('\n').slice(1), [
      '1.5,sample,host1,,,,,cpu,42.25,%,,,,,,,',
      '2.002,action,,,,migrate,vm1 host2,,,,0,,,,,fired,',
      '4,action,,,,migrate,vm1 host2,,,,1500,,,,,interrupted,',
      '9.75,migration,host1,vm1,host2,script,,,,,7650,,,1073741824,3,failed,"target refused: ""no memory"", retry later"',
      '9.75,migration,host1,vm1,host2,setup,,,,,7650,12.25,300.5,1073741824,3,succeeded,',
      '',
    ]);
  });
});
