/**
 * `vm-monitoring calibrate --check` through the CLI: measurements predicted with a saved sim
 * profile, no fitting. The sim's predictions are computed here rather than written down, so
 * that these tests hold while the model changes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { CaseResult, MeasuredCase } from '../../src/calibrate/migration-case.ts';
import { checkProfileOf } from '../../src/cli/calibrate-profile.ts';
import { simCaseRunner } from '../../src/platforms/sim/calibration-runner.ts';
import { assertBadInput, parseCsv, readCsvFile, REPO_ROOT, runCli, withTempDir, writeScript } from '../support/cli.ts';

const HEADER = 'id,ram_mb,max_bandwidth_mbit_s,downtime_limit_ms,timeout_s,warmup_s,workload,buffer_mb,dirty_mb_s,converged,total_ms,downtime_ms,bytes,passes';

/** Four cases of the three workloads, each run its own way (warm-up, timeout); the last cannot converge. */
const CASES: { row: string; migrationCase: MeasuredCase['migrationCase']; settings: MeasuredCase['settings'] }[] = [
  {
    row: 'idle-256,256,100,300,30,4,idle,,',
    migrationCase: { id: 'idle-256', ramMB: 256, workload: { kind: 'idle' }, bandwidthMbps: 100, downtimeLimitMs: 300, training: false },
    settings: { warmupSeconds: 4, convergenceTimeoutSeconds: 30 },
  },
  {
    row: 'buffer-512,512,300,30,30,,buffer,64,',
    migrationCase: { id: 'buffer-512', ramMB: 512, workload: { kind: 'memory', bufferMB: 64, sleepMs: 95_000 }, bandwidthMbps: 300, downtimeLimitMs: 30, training: false },
    settings: { warmupSeconds: 5, convergenceTimeoutSeconds: 30 },
  },
  {
    row: 'dirty-20,256,1000,300,20,2,dirty,64,20',
    migrationCase: { id: 'dirty-20', ramMB: 256, workload: { kind: 'dirty', bufferMB: 64, rateMBps: 20 }, bandwidthMbps: 1000, downtimeLimitMs: 300, training: false },
    settings: { warmupSeconds: 2, convergenceTimeoutSeconds: 20 },
  },
  {
    row: 'dirty-150,256,100,30,10,4,dirty,64,150',
    migrationCase: { id: 'dirty-150', ramMB: 256, workload: { kind: 'dirty', bufferMB: 64, rateMBps: 150 }, bandwidthMbps: 100, downtimeLimitMs: 30, training: false },
    settings: { warmupSeconds: 4, convergenceTimeoutSeconds: 10 },
  },
];

/**
 * Measurements that differ from the prediction by known amounts: total time by 10 to 40 %,
 * bytes by 2 to 8 %, downtime by 1 to 3 ms, passes by 0 to 2. Medians: 25 %, 5 %, 2 ms, 1.
 */
function measuredFrom(predicted: CaseResult, index: number): string {
  const converged = predicted.converged ? 'yes' : 'no';
  const downtime = predicted.downtime_ms === null ? '' : String(predicted.downtime_ms + index + 1);
  return [converged, predicted.total_ms / (1.1 + 0.1 * index), downtime, predicted.bytes / (1.02 + 0.02 * index), predicted.passes + [0, 1, 1, 2][index]!].join(',');
}

/** What the sim predicts of CASES with the default profile, as the check must. */
async function predictions(): Promise<CaseResult[]> {
  const { model } = checkProfileOf('qemu-lab');
  const results: CaseResult[] = [];
  for (const { migrationCase, settings } of CASES) results.push(await simCaseRunner(model, settings).run(migrationCase, new AbortController().signal));
  return results;
}

async function writeMeasuredFile(dir: string): Promise<{ file: string; predicted: CaseResult[] }> {
  const predicted = await predictions();
  const rows = CASES.map(({ row }, index) => `${row},${measuredFrom(predicted[index]!, index)}`);
  return { file: writeScript(dir, 'measured.csv', [HEADER, ...rows]), predicted };
}

const SAVED_MEASUREMENTS = 'samples/calibrate/measured-2026-11-25/measured.csv';
const SAVED_GRID = 'samples/calibrate/grid.yaml';

/** The stderr lines of a result that start with `label:`. */
function summaryLines(stderr: string, labels: string[]): string[] {
  return stderr.split('\n').filter((line) => labels.some((label) => line.startsWith(`calibrate: ${label}: `)));
}

describe('calibrate --check', () => {
  it('predicts each case of a measured file with the saved profile: the table on stdout, the median errors on stderr', () =>
    withTempDir(async (dir) => {
      const { file, predicted } = await writeMeasuredFile(dir);
      assert.deepEqual(
        predicted.map((p) => p.converged),
        [true, true, true, false],
        'the cases converge as they were chosen to',
      );
      const out = path.join(dir, 'out');
      const result = await runCli(['calibrate', '--check', file, '--out', out]);
      assert.equal(result.code, 0, result.stderr);

      const [header, ...rows] = parseCsv(result.stdout);
      assert.ok(header, 'a header');
      assert.equal(header.includes('half'), false, 'no halves: the cases are not a grid');
      const cell = (row: string[], column: string): string => row[header.indexOf(column)] as string;
      assert.deepEqual(
        rows.map((row) => cell(row, 'case')),
        CASES.map((c) => c.migrationCase.id),
      );
      for (const [index, row] of rows.entries()) {
        const expected = predicted[index]!;
        assert.ok(Math.abs(Number(cell(row, 'total (ms, predicted)')) - expected.total_ms) < 0.001, `${cell(row, 'case')}: ${cell(row, 'total (ms, predicted)')} vs ${expected.total_ms}`);
        assert.ok(Math.abs(Number(cell(row, 'bytes (predicted)')) - expected.bytes) < 0.001);
        assert.equal(Number(cell(row, 'passes (predicted)')), expected.passes);
        assert.equal(cell(row, 'converged (measured)'), cell(row, 'converged (predicted)'));
      }
      assert.match(
        result.stderr,
        /^calibrate: all cases: 4 cases, median \|error\| total time 25\.0 %, bytes 5\.0 %, downtime \d+\.\d % \(2\.0 ms\), passes 1\.0, convergence wrong in 0; targets NOT met$/m,
      );
      assert.deepEqual(summaryLines(result.stderr, ['fit half', 'held-out half']), [], 'no halves');

      for (const name of ['report.html', 'calibration-cases.csv', 'calibration-errors.md', 'calibration-profile.md', 'calibration-total-time.svg', 'calibration-bytes.png', 'calibration-downtime.svg']) {
        assert.ok(fs.statSync(path.join(out, name)).size > 0, name);
      }
      assert.deepEqual(parseCsv(fs.readFileSync(path.join(out, 'calibration-cases.csv'), 'utf8')), [header, ...rows]);
      assert.deepEqual(readCsvFile(path.join(out, 'calibration-errors.csv')).rows.map((row) => row['cases of']), ['all cases']);
    }));

  it('re-derives the guest from the file\'s idle rows with --fit-guest, and says when it has none', () =>
    withTempDir(async (dir) => {
      const { file } = await writeMeasuredFile(dir);
      const result = await runCli(['calibrate', '--check', file, '--fit-guest']);
      assert.equal(result.code, 0, result.stderr);
      // The idle row's bytes were divided by 1.02: its guest holds less non-zero memory than the profile's.
      const line = result.stderr.split('\n').find((l) => l.startsWith('calibrate: idle guest: '));
      const fixedMB = Number(/non-zero memory ([\d.]+) MB/.exec(line ?? '')?.[1]);
      const { model } = checkProfileOf('qemu-lab');
      assert.ok(fixedMB < (model.vms.guestOsMB ?? 0) && fixedMB > (model.vms.guestOsMB ?? 0) - 5, `${line} against the profile's ${model.vms.guestOsMB} MB`);
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      const noIdle = writeScript(dir, 'no-idle.csv', lines.filter((l) => !l.startsWith('idle-256,')));
      const refused = await runCli(['calibrate', '--check', noIdle, '--fit-guest']);
      assert.match(assertBadInput(refused, noIdle), /^vm-monitoring: --fit-guest: .*no-idle\.csv has no converged idle migration to re-derive the guest from$/);
    }));

  it('refuses a bad row, a missing column or an unknown workload at FILE:LINE:COL, and an unknown profile, with exit 2', () =>
    withTempDir(async (dir) => {
      const { file } = await writeMeasuredFile(dir);
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      const variant = (name: string, edit: (lines: string[]) => string[]): string => writeScript(dir, name, edit([...lines]));
      const check = async (measured: string, ...args: string[]): Promise<string> => assertBadInput(await runCli(['calibrate', '--check', measured, ...args]), measured);

      const notANumber = variant('not-a-number.csv', (l) => [l[0]!, l[1]!, l[2]!.replace('buffer-512,512,', 'buffer-512,lots,')]);
      assert.equal(await check(notANumber), `vm-monitoring: ${notANumber}:3:12: ram_mb: expected a number, got 'lots'`);
      const noColumn = variant('no-column.csv', (l) => l.map((line) => line.split(',').filter((_, column) => column !== 4).join(',')));
      assert.equal(await check(noColumn), `vm-monitoring: ${noColumn}:1:1: missing case column 'timeout_s' (a measured.csv of calibrate names its cases by id: give their grid with --grid)`);
      const unknownWorkload = variant('unknown-workload.csv', (l) => [l[0]!, l[1]!, l[2]!, l[3]!.replace(',dirty,', ',stress,')]);
      assert.equal(await check(unknownWorkload), `vm-monitoring: ${unknownWorkload}:4:28: workload: expected idle, buffer, dirty, rewrite or sweep, got 'stress'`);
      assert.match(await check(file, '--profile', 'qemu-7.2'), /^vm-monitoring: --profile: unknown profile 'qemu-7\.2': expected .*qemu-lab/);
    }));

  it('checks the saved measurements, cases from their grid: each half\'s medians as calibrate --measured reports them for the profile it fits', () =>
    withTempDir(async (dir) => {
      const refit = path.join(dir, 'refit');
      const calibrated = await runCli(['calibrate', '--measured', SAVED_MEASUREMENTS, '--out', refit], { timeoutMs: 600_000 });
      assert.equal(calibrated.code, 0, calibrated.stderr);
      const profile = path.join(refit, 'fitted-profile.json');
      const result = await runCli(['calibrate', '--check', SAVED_MEASUREMENTS, '--grid', SAVED_GRID, '--profile', profile]);
      assert.equal(result.code, 0, result.stderr);

      const halves = ['fit half', 'held-out half'];
      assert.equal(summaryLines(calibrated.stderr, halves).length, 2, calibrated.stderr);
      assert.deepEqual(summaryLines(result.stderr, halves), summaryLines(calibrated.stderr, halves));
      assert.match(result.stderr, /^calibrate: all cases: 84 cases, /m);

      const predicted = new Map(readCsvFile(path.join(refit, 'predicted.csv')).rows.map((row) => [row.id, row]));
      const [header, ...rows] = parseCsv(result.stdout);
      assert.equal(rows.length, predicted.size);
      const cell = (row: string[], column: string): string => row[header!.indexOf(column)] as string;
      for (const row of rows) {
        const expected = predicted.get(cell(row, 'case'));
        assert.ok(expected, cell(row, 'case'));
        assert.ok(Math.abs(Number(cell(row, 'total (ms, predicted)')) - Number(expected.total_ms)) < 0.001, cell(row, 'case'));
        assert.ok(Math.abs(Number(cell(row, 'bytes (predicted)')) - Number(expected.bytes)) < 0.001, cell(row, 'case'));
      }
    }));

  it('predicts with qemu-lab by default, the guest it was fitted with included, as from its file', async () => {
    const args = ['calibrate', '--check', SAVED_MEASUREMENTS, '--grid', SAVED_GRID];
    const byDefault = await runCli(args);
    const fromFile = await runCli([...args, '--profile', path.join(REPO_ROOT, 'src/platforms/sim/qemu-lab-profile.json')]);
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.deepEqual([byDefault.stdout, byDefault.stderr], [fromFile.stdout, fromFile.stderr]);
  });
});
