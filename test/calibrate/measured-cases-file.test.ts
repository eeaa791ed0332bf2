import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readMeasuredCases } from '../../src/calibrate/measured-cases-file.ts';
import { InputError } from '../../src/errors.ts';
import { withTempDir, writeScript } from '../support/cli.ts';

const HEADER = 'id,ram_mb,max_bandwidth_mbit_s,downtime_limit_ms,timeout_s,warmup_s,workload,buffer_mb,dirty_mb_s,converged,total_ms,downtime_ms,setup_ms,bytes,passes,reason';
const IDLE = 'a,256,100,300,30,4,idle,,,yes,4700,5,80,59000000,4,';

function readLines(lines: string[]): ReturnType<typeof readMeasuredCases> {
  return withTempDir((dir) => readMeasuredCases(writeScript(dir, 'measured.csv', lines)));
}

/** The one-line error reading `lines` gives, its file named `measured.csv`. */
function errorOf(lines: string[]): Promise<string> {
  return withTempDir(async (dir) => {
    const file = writeScript(dir, 'measured.csv', lines);
    try {
      await readMeasuredCases(file);
    } catch (error) {
      assert.ok(error instanceof InputError, `an InputError, not ${String(error)}`);
      return error.toOneLine().replace(`${file}:`, 'measured.csv:');
    }
    assert.fail('the file was accepted');
  });
}

describe('a measured file with its cases in columns', () => {
  it('gives each row its case, its own settings and what was measured', async () => {
    const cases = await readLines([
      HEADER,
      IDLE,
      'b,512,300,30,60,2,buffer,64,0,yes,3000,20,,120000000,3,',
      'c,256,1000,30,10,,dirty,64,150,no,10000,,,130000000,12,cancelled',
    ]);
    assert.deepEqual(cases, [
      {
        migrationCase: { id: 'a', ramMB: 256, workload: { kind: 'idle' }, bandwidthMbps: 100, downtimeLimitMs: 300, training: false },
        settings: { convergenceTimeoutSeconds: 30, warmupSeconds: 4 },
        measured: { id: 'a', converged: true, total_ms: 4700, downtime_ms: 5, setup_ms: 80, bytes: 59_000_000, passes: 4, reason: '' },
      },
      {
        // Held through the warm-up, the whole timeout and more: for all the migration can last.
        migrationCase: { id: 'b', ramMB: 512, workload: { kind: 'memory', bufferMB: 64, sleepMs: 122_000 }, bandwidthMbps: 300, downtimeLimitMs: 30, training: false },
        settings: { convergenceTimeoutSeconds: 60, warmupSeconds: 2 },
        measured: { id: 'b', converged: true, total_ms: 3000, downtime_ms: 20, setup_ms: null, bytes: 120_000_000, passes: 3, reason: '' },
      },
      {
        migrationCase: { id: 'c', ramMB: 256, workload: { kind: 'dirty', bufferMB: 64, rateMBps: 150 }, bandwidthMbps: 1000, downtimeLimitMs: 30, training: false },
        settings: { convergenceTimeoutSeconds: 10, warmupSeconds: 5 },
        measured: { id: 'c', converged: false, total_ms: 10000, downtime_ms: null, setup_ms: null, bytes: 130_000_000, passes: 12, reason: 'cancelled' },
      },
    ]);
  });

  it('takes the columns in any order, ignores others, and does without the optional ones', async () => {
    const [only] = await readLines(['workload,notes,passes,bytes,downtime_ms,total_ms,converged,timeout_s,downtime_limit_ms,max_bandwidth_mbit_s,ram_mb,id', 'idle,"a note, quoted",4,59000000,5,4700,yes,30,300,100,256,a']);
    assert.deepEqual(only?.settings, { convergenceTimeoutSeconds: 30, warmupSeconds: 5 });
    assert.deepEqual(only?.measured, { id: 'a', converged: true, total_ms: 4700, downtime_ms: 5, setup_ms: null, bytes: 59_000_000, passes: 4, reason: '' });
  });

  it('takes a guest\'s exact RAM in KiB and the rewrite workload', async () => {
    const [exact, rewrite] = await readLines([
      `${HEADER},ram_kib`,
      `${IDLE},262152`,
      'r,512,1000,30,30,4,rewrite,64,40,yes,1500,3,,130000000,5,,',
    ]);
    assert.equal(exact?.migrationCase.ramKiB, 262152);
    assert.equal(rewrite?.migrationCase.ramKiB, undefined, 'whole MiB');
    assert.deepEqual(rewrite?.migrationCase.workload, { kind: 'rewrite', bufferMB: 64, rateMBps: 40 });
    assert.equal(await errorOf([`${HEADER},ram_kib`, `${IDLE},300000`]), "measured.csv:2:53: ram_kib: expected a whole number of KiB from 262144 to 263167 (ram_mb 256), got '300000'");
  });

  it('takes the sweep workload (a filled buffer rewritten in page order), and refuses an id twice', async () => {
    const [, sweep] = await readLines([HEADER, IDLE, 's,256,1000,300,60,3,sweep,96,40,yes,2500,9,,110000000,6,']);
    assert.deepEqual(sweep?.migrationCase.workload, { kind: 'sweep', bufferMB: 96, rateMBps: 40 });
    assert.equal(await errorOf([HEADER, IDLE, IDLE]), "measured.csv:3:1: id: 'a' is the case of an earlier row");
  });

  it('takes each case\'s per-pass progress from the measured-details.jsonl beside a measured.csv', () =>
    withTempDir(async (dir) => {
      const file = writeScript(dir, 'measured.csv', [HEADER, IDLE, IDLE.replace('a,', 'b,')]);
      const pass = (at_s: number, pass: number): object => ({ at_s, status: 'active', pass, transferred: pass * 1000, remaining: 10 });
      writeScript(dir, 'measured-details.jsonl', [JSON.stringify({ id: 'a', qemu: { progress: [pass(0.1, 1), pass(4.6, 2)] } }), JSON.stringify({ id: 'other', qemu: null })]);
      const [a, b] = await readMeasuredCases(file);
      assert.deepEqual(a?.measured.progress?.map((p) => [p.at_s, p.pass, p.transferred]), [[0.1, 1, 1000], [4.6, 2, 2000]]);
      assert.equal(b?.measured.progress, undefined, 'no line for b');
    }));

  it('points at the cell of a bad row', async () => {
    const withRow = (row: string): string[] => [HEADER, IDLE, row];
    assert.equal(await errorOf(withRow('b,256,fast,300,30,4,idle,,,yes,4700,5,,59000000,4,')), "measured.csv:3:7: max_bandwidth_mbit_s: expected a number, got 'fast'");
    assert.equal(await errorOf(withRow('b,256,100,300,30,4,busy,,,yes,4700,5,,59000000,4,')), "measured.csv:3:20: workload: expected idle, buffer, dirty, rewrite or sweep, got 'busy'");
    assert.equal(await errorOf(withRow('b,32,100,300,30,4,idle,,,yes,4700,5,,59000000,4,')), "measured.csv:3:3: ram_mb: Too small: expected number to be >=64, got '32'");
    assert.equal(await errorOf(withRow('b,256,100,300,30,4,dirty,300,5,yes,4700,5,,59000000,4,')), 'measured.csv:3:26: buffer_mb: a 300 MB buffer does not fit in a 256 MB guest');
    assert.equal(await errorOf(withRow('b,256,100,300,30,4,dirty,64,,yes,4700,5,,59000000,4,')), "measured.csv:3:29: dirty_mb_s: expected a number, got ''");
    assert.equal(await errorOf(withRow('b,256,100,300,30,4,idle,64,,yes,4700,5,,59000000,4,')), "measured.csv:3:25: buffer_mb: an idle guest has no buffer; leave it empty, got '64'");
    assert.equal(
      await errorOf(withRow('b,256,100,300,30,4,buffer,64,5,yes,4700,5,,59000000,4,')),
      "measured.csv:3:30: dirty_mb_s: a buffer is filled once and then held; a guest that keeps rewriting it is workload dirty; leave it empty, got '5'",
    );
    assert.equal(await errorOf(withRow('b,256,100,300,30,4,idle,,,maybe,4700,5,,59000000,4,')), "measured.csv:3:27: converged: expected yes or no, got 'maybe'");
    assert.equal(await errorOf(withRow('b,256,100,300,30,4,idle,,,yes,-1,5,,59000000,4,')), "measured.csv:3:31: total_ms: Too small: expected number to be >=0, got '-1'");
  });

  it('names the columns a file lacks, and a needed column it does not have at the row that needs it', async () => {
    assert.equal(await errorOf([HEADER.replace(',timeout_s', ''), IDLE.replace(',30,4,', ',4,')]), "measured.csv:1:1: missing case column 'timeout_s' (a measured.csv of calibrate names its cases by id: give their grid with --grid)");
    assert.equal(await errorOf([HEADER.replace(',bytes', ''), IDLE.replace(',59000000', '')]), "measured.csv:1:1: missing column 'bytes'");
    const withoutRate = ['id,ram_mb,max_bandwidth_mbit_s,downtime_limit_ms,timeout_s,workload,buffer_mb,converged,total_ms,downtime_ms,bytes,passes', 'a,256,100,300,30,idle,,yes,4700,5,59000000,4', 'b,256,100,300,30,dirty,64,yes,4700,5,59000000,4'];
    assert.equal(await errorOf(withoutRate), 'measured.csv:3:1: dirty_mb_s: the file has no such column, and this row needs it');
    assert.equal(await errorOf([HEADER]), 'measured.csv:1:1: a header but no case under it');
  });
});
