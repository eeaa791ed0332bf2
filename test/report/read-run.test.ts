import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { RunDirectory } from '../../src/record/run-directory.ts';
import type { ActionRecord, MigrationRecord, RequestRecord, SampleRecord } from '../../src/record/records.ts';
import {
  assertRunNotEmpty,
  readActions,
  readMigrations,
  readRunInfo,
  streamRequests,
  streamSamples,
} from '../../src/report/read-run.ts';
import { withTempDir } from '../support/cli.ts';
import { migration, request, writeRun } from './run-fixture.ts';

const REQUEST_HEADER = 'client_type,client_id,sent_s,received_s,latency_ms,server,processing_ms,status';

/** The one line the CLI prints for the error `body` throws. */
async function inputErrorLine(body: () => Promise<unknown>): Promise<string> {
  try {
    await body();
  } catch (error) {
    if (error instanceof InputError) return error.toOneLine();
    throw error;
  }
  assert.fail('expected an InputError');
}

async function allRequests(dir: string): Promise<RequestRecord[]> {
  const requests: RequestRecord[] = [];
  await streamRequests(dir, (request) => requests.push(request));
  return requests;
}

function writeRequestsCsv(dir: string, lines: string[]): string {
  writeRun(dir, {});
  const file = path.join(dir, 'requests.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('reading a run directory', () => {
  it('reads back what RunDirectory wrote, nulls and quoted text included', async () => {
    await withTempDir(async (tmp) => {
      const dir = path.join(tmp, 'run');
      const sample: SampleRecord = { time_s: 20, host: 'host1', counter: 'cpu.usagemhz.average', value: 3814.182, unit: 'MHz' };
      const action: ActionRecord = {
        scheduled_s: 30, fired_s: 30.5, action: 'migrate', args: 'vm1 host2', postponed_ms: 500, status: 'fired', line: 8,
      };
      const failed = migration({ reason: 'target refused: "no memory", retry later', bytes: 1073741824, passes: 3, status: 'failed' });
      const served = request({ sent_s: 3, received_s: 3.125, latency_ms: 125, processing_ms: 124.5 });
      const aborted = request({ status: 'aborted', processing_ms: null });
      const run = RunDirectory.open(dir, { seed: 7 });
      run.sample(sample);
      run.action(action);
      run.migration(failed);
      run.request(served);
      run.request(aborted);
      run.finish({ status: 'completed' });

      assert.deepEqual(await readRunInfo(dir), { seed: 7, status: 'completed' });
      assert.deepEqual(await readActions(dir), [action]);
      assert.deepEqual(await readMigrations(dir), [failed]);
      assert.deepEqual(await allRequests(dir), [served, aborted]);
      const samples: SampleRecord[] = [];
      await streamSamples(dir, (record) => samples.push(record));
      assert.deepEqual(samples, [sample]);
    });
  });

  it('parses quoted cells holding commas, quotes and newlines, and counts lines across them', async () => {
    await withTempDir(async (dir) => {
      writeRun(dir, {});
      const file = path.join(dir, 'migrations.csv');
      fs.writeFileSync(
        file,
        'vm,source,target,requested_s,started_s,ended_s,duration_ms,downtime_ms,bytes,passes,status,reason,kind\n' +
          'vm1,host1,host2,1,1,2,1000,,,,failed,"refused, says ""host2"":\nno memory",script\n' +
          'vm1,host1,host2,1,1,2,1000,,,,failed,,script\r\n',
      );
      const [quoted, plain] = await readMigrations(dir);
      assert.equal(quoted?.reason, 'refused, says "host2":\nno memory');
      assert.equal(plain?.kind, 'script');

      fs.appendFileSync(file, 'vm1,host1,host2,1,x,2,1000,,,,failed,,script\n');
      // The quoted newline makes this fourth record start on line 5.
      assert.equal(await inputErrorLine(() => readMigrations(dir)), `${file}:5:19: bad number 'x' in column started_s`);
    });
  });

  it('splits correctly whatever falls on the boundaries of the chunks it reads', async () => {
    await withTempDir(async (dir) => {
      const migrations: MigrationRecord[] = Array.from({ length: 30_000 }, (_, i) =>
        migration({ reason: `refused "${i}",\nretry ${'.'.repeat(i % 7)}`, bytes: i, status: 'failed' }),
      );
      writeRun(dir, { migrations });
      assert.ok(fs.statSync(path.join(dir, 'migrations.csv')).size > 2 * 1024 * 1024, 'spans several chunks');
      assert.deepEqual(await readMigrations(dir), migrations);
    });
  });

  it('takes a last line without a newline and skips blank lines', async () => {
    await withTempDir(async (dir) => {
      writeRun(dir, {});
      fs.writeFileSync(path.join(dir, 'requests.csv'), `${REQUEST_HEADER}\n\ncpu,c1,0,1,100,vm1,,ok\n\ncpu,c1,1,2,90,vm1,89,ok`);
      assert.deepEqual(
        (await allRequests(dir)).map((request) => request.latency_ms),
        [100, 90],
      );
    });
  });
});

describe('reading a run directory: bad input', () => {
  it('names a missing run directory', async () => {
    await withTempDir(async (tmp) => {
      const dir = path.join(tmp, 'nope');
      assert.equal(await inputErrorLine(() => readRunInfo(dir)), `run directory ${dir} does not exist`);
    });
  });

  it('names a run.json that is not JSON, with its line', async () => {
    await withTempDir(async (dir) => {
      writeRun(dir, {});
      const file = path.join(dir, 'run.json');
      fs.writeFileSync(file, '{\n  "seed": 1,\n}\n');
      assert.match(await inputErrorLine(() => readRunInfo(dir)), new RegExp(`^${file}:3:1: bad JSON: `));
    });
  });

  it('names a missing CSV file', async () => {
    await withTempDir(async (dir) => {
      writeRun(dir, {});
      const file = path.join(dir, 'requests.csv');
      fs.rmSync(file);
      assert.equal(await inputErrorLine(() => allRequests(dir)), `cannot read ${file}: no such file`);
    });
  });

  it('names a column missing from the header', async () => {
    await withTempDir(async (dir) => {
      const file = writeRequestsCsv(dir, [REQUEST_HEADER.replace(',latency_ms', '')]);
      assert.equal(await inputErrorLine(() => allRequests(dir)), `${file}:1:1: missing column 'latency_ms'`);
    });
  });

  it('names the line of a row with the wrong number of cells', async () => {
    await withTempDir(async (dir) => {
      const file = writeRequestsCsv(dir, [REQUEST_HEADER, 'cpu,c1,0,1,100,vm1,,ok', 'cpu,c1,1,2,100']);
      assert.equal(await inputErrorLine(() => allRequests(dir)), `${file}:3:1: expected 8 cells, got 5`);
    });
  });

  it('names the line and column of a bad number or value', async () => {
    await withTempDir(async (dir) => {
      const file = writeRequestsCsv(dir, [REQUEST_HEADER, 'cpu,c1,0,1,x,vm1,,ok']);
      assert.equal(await inputErrorLine(() => allRequests(dir)), `${file}:2:12: bad number 'x' in column latency_ms`);
      writeRequestsCsv(dir, [REQUEST_HEADER, 'cpu,c1,0,,100,vm1,,ok']);
      assert.equal(await inputErrorLine(() => allRequests(dir)), `${file}:2:10: empty cell in column received_s, expected a number`);
      writeRequestsCsv(dir, [REQUEST_HEADER, 'cpu,"c\n1",0,1,x,vm1,,ok']);
      assert.equal(await inputErrorLine(() => allRequests(dir)), `${file}:3:8: bad number 'x' in column latency_ms`);
      writeRequestsCsv(dir, [REQUEST_HEADER, 'cpu,c1,0,1,100,vm1,,fine']);
      assert.equal(
        await inputErrorLine(() => allRequests(dir)),
        `${file}:2:21: bad value 'fine' in column status (expected ok, error, aborted, corrupt)`,
      );
    });
  });

  it('names where a quoted cell was left open', async () => {
    await withTempDir(async (dir) => {
      const file = writeRequestsCsv(dir, [REQUEST_HEADER, 'cpu,c1,0,1,100,vm1,,ok', 'cpu,"c1,0,1,100,vm1,,ok', 'cpu,c1,0,1,100,vm1,,ok']);
      assert.equal(await inputErrorLine(() => allRequests(dir)), `${file}:3:5: unterminated quoted cell`);
    });
  });

  it('calls a run without samples, migrations or requests empty', async () => {
    await withTempDir(async (dir) => {
      writeRun(dir, {});
      assert.equal(await inputErrorLine(() => assertRunNotEmpty(dir)), `run directory ${dir} is empty: no samples, migrations or requests`);
      writeRun(dir, { migrations: [migration({})] });
      await assertRunNotEmpty(dir);
    });
  });
});
