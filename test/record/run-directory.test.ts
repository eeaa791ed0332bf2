import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { RunDirectory } from '../../src/record/run-directory.ts';
import { action, migration, request, sample } from './fixtures.ts';

const HEADERS = {
  'samples.csv': 'time_s,host,counter,value,unit\n',
  'actions.csv': 'scheduled_s,fired_s,action,args,postponed_ms,status,line\n',
  'migrations.csv':
    'vm,source,target,requested_s,started_s,ended_s,duration_ms,downtime_ms,client_downtime_ms,bytes,passes,status,reason,kind\n',
  'requests.csv': 'client_type,client_id,sent_s,received_s,latency_ms,server,processing_ms,status,corrupt_words\n',
};

describe('RunDirectory', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-record-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');

  it('creates the directory with run.json and the CSV headers at once', () => {
    const dir = path.join(tmp, 'nested', 'run1');
    const run = RunDirectory.open(dir, { script: 'light.txt', started_at: '2025-01-01T00:00:00Z' });
    try {
      assert.deepEqual(fs.readdirSync(dir).sort(), [
        'actions.csv',
        'migration-details.jsonl',
        'migrations.csv',
        'requests.csv',
        'run.json',
        'samples.csv',
      ]);
      for (const [file, header] of Object.entries(HEADERS)) assert.equal(read(dir, file), header, file);
      assert.deepEqual(JSON.parse(read(dir, 'run.json')), {
        script: 'light.txt',
        started_at: '2025-01-01T00:00:00Z',
      });
    } finally {
      run.finish({});
    }
  });

  it('writes rows as records arrive, before finish', () => {
    const dir = path.join(tmp, 'run2');
    const run = RunDirectory.open(dir, {});
    try {
      run.sample(sample);
      run.action(action);
      run.migration(migration);
      run.request(request);
      run.flush();
      assert.equal(read(dir, 'samples.csv'), `${HEADERS['samples.csv']}1.5,host1,cpu,42.25,%\n`);
      assert.equal(read(dir, 'actions.csv'), `${HEADERS['actions.csv']}2,2.002,migrate,vm1 host2,0,fired,7\n`);
      assert.equal(
        read(dir, 'migrations.csv'),
        `${HEADERS['migrations.csv']}vm1,host1,host2,2,2.1,9.75,7650,,,1073741824,3,failed,"target refused: ""no memory"", retry later",script\n`,
      );
      assert.equal(read(dir, 'requests.csv'), `${HEADERS['requests.csv']}web,c1,3,3.013,12.5,vm1,,ok,0\n`);
      assert.equal(read(dir, 'migration-details.jsonl'), '', 'a migration without details adds no line');
    } finally {
      run.finish({});
    }
  });

  it('keeps a migration\'s details as one JSON line, out of migrations.csv', () => {
    const dir = path.join(tmp, 'details');
    const run = RunDirectory.open(dir, {});
    const details = { qemu: { setup_time_ms: 12, progress: [{ pass: 1, transferred: 4096 }, { pass: 2, transferred: 8192 }] } };
    run.migration({ ...migration, details });
    run.finish({});
    const lines = read(dir, 'migration-details.jsonl').trimEnd().split('\n');
    assert.deepEqual(lines.map((line) => JSON.parse(line)), [
      { vm: 'vm1', source: 'host1', target: 'host2', requested_s: 2, kind: 'script', status: 'failed', ...details },
    ]);
    assert.equal(read(dir, 'migrations.csv').split('\n').length, 3, 'a header and one row');
    assert.doesNotMatch(read(dir, 'migrations.csv'), /setup_time_ms|progress/);
  });

  it('accepts an existing empty directory', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'empty-'));
    RunDirectory.open(dir, {}).finish({});
    assert.equal(read(dir, 'samples.csv'), HEADERS['samples.csv']);
  });

  it('refuses an existing directory that is not empty, naming it', () => {
    const dir = path.join(tmp, 'used');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'keep me');
    assert.throws(
      () => RunDirectory.open(dir, {}),
      (error) => error instanceof InputError && error.message.includes(dir) && /not empty/.test(error.message),
    );
    assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
  });

  it('refuses a path that is a file', () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, '');
    assert.throws(
      () => RunDirectory.open(file, {}),
      (error) => error instanceof InputError && error.message.includes(file) && /not a directory/.test(error.message),
    );
  });

  it('finish writes the remaining rows and merges extra into run.json', () => {
    const dir = path.join(tmp, 'run3');
    const run = RunDirectory.open(dir, { script: 'light.txt', status: 'running' });
    run.sample(sample);
    run.finish({ status: 'succeeded', ended_at: '2025-01-01T00:10:00Z' });
    assert.equal(read(dir, 'samples.csv'), `${HEADERS['samples.csv']}1.5,host1,cpu,42.25,%\n`);
    assert.deepEqual(JSON.parse(read(dir, 'run.json')), {
      script: 'light.txt',
      status: 'succeeded',
      ended_at: '2025-01-01T00:10:00Z',
    });
    assert.ok(!fs.existsSync(path.join(dir, 'run.json.tmp')));
  });
});
