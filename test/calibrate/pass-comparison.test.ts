import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeCalibrationReport } from '../../src/calibrate/calibration-report.ts';
import type { Calibration } from '../../src/calibrate/calibration.ts';
import { writeCheckReport } from '../../src/calibrate/check-report.ts';
import { compareCase, summarize } from '../../src/calibrate/comparison.ts';
import type { CasePassProgress, CaseResult, MigrationCase } from '../../src/calibrate/migration-case.ts';
import { caseProgressOf, matchedPassesOf, matchPasses, meanPassLogError, passesOf, summarizePasses } from '../../src/calibrate/pass-comparison.ts';
import { readResults, ResultsFile } from '../../src/calibrate/results-file.ts';
import { InputError } from '../../src/errors.ts';
import type { Table } from '../../src/report/table.ts';
import { withTempDir } from '../support/cli.ts';

const record = (at_s: number, pass: number, transferred: number, remaining = 0): CasePassProgress => ({ at_s, pass, transferred, remaining });

const result = (id: string, progress?: CasePassProgress[]): CaseResult => ({
  id, converged: true, total_ms: 4000, downtime_ms: 10, setup_ms: 80, bytes: 60_000_000, passes: 4, reason: '', ...(progress && { progress }),
});

const migrationCase = (id: string, training: boolean): MigrationCase => ({ id, ramMB: 256, workload: { kind: 'idle' }, bandwidthMbps: 100, downtimeLimitMs: 300, training });

/** Progress whose passes 1, 2 and 3 last `seconds[k - 1]` and send `bytes[k - 1]`, then a final record of pass 4. */
function progressOf(seconds: number[], bytes: number[]): CasePassProgress[] {
  const records = [record(0.125, 1, 0)];
  seconds.forEach((duration, index) => {
    const last = records.at(-1) as CasePassProgress;
    records.push(record(last.at_s + duration, index + 2, last.transferred + (bytes[index] as number)));
  });
  return records;
}

describe('the passes of a migration', () => {
  it('keeps the records of passes under way and of a completed end, without the extra fields', () => {
    const qemu = [
      { at_s: 0.1, status: 'setup', pass: 0, transferred: 0, remaining: 0, total: 0 },
      { at_s: 0.125, status: 'active', pass: 1, transferred: 200, remaining: 9000, total: 10_000 },
      { at_s: 4.5, status: 'completed', pass: 3, transferred: 9000, remaining: 0, total: 10_000 },
    ];
    assert.deepEqual(caseProgressOf(qemu), [record(0.125, 1, 200, 9000), record(4.5, 3, 9000)]);
    const cancelled = [qemu[1]!, { at_s: 30, status: 'cancelled', pass: 0, transferred: 0, remaining: 0, total: 0 }];
    assert.deepEqual(caseProgressOf(cancelled), [record(0.125, 1, 200, 9000)], "a cancelled migration's end record has no RAM figures");
  });

  it('measures pass k from its record to that of pass k + 1: not a pass whose next was too short to be polled, nor the last', () => {
    const progress = [record(0.25, 1, 1000), record(2.25, 2, 5000), record(2.75, 4, 5500), record(3.5, 5, 6000), record(3.75, 5, 6100)];
    assert.deepEqual(passesOf(progress), [
      { pass: 1, seconds: 2, bytes: 4000 },
      { pass: 4, seconds: 0.75, bytes: 500 },
    ]);
    assert.deepEqual(passesOf([record(0.25, 1, 0)]), []);
  });

  it('matches the passes by number, and has none unless both sides have progress', () => {
    const pass = (number: number, seconds: number) => ({ pass: number, seconds, bytes: 100 * number });
    assert.deepEqual(matchPasses([pass(1, 2), pass(2, 1), pass(4, 0.5)], [pass(1, 3), pass(3, 1), pass(4, 0.25)]), [
      { pass: 1, measured: pass(1, 2), predicted: pass(1, 3) },
      { pass: 4, measured: pass(4, 0.5), predicted: pass(4, 0.25) },
    ]);
    const progress = progressOf([2, 1], [100, 50]);
    assert.equal(matchedPassesOf({ measured: result('a', progress), predicted: result('a', progress) }).length, 2);
    assert.deepEqual(matchedPassesOf({ measured: result('a', progress), predicted: result('a') }), []);
    assert.deepEqual(matchedPassesOf({ measured: result('a'), predicted: result('a', progress) }), []);
  });

  it('summarizes the median errors of pass durations and bytes over the cases with progress on both sides', () => {
    const comparisons = [
      // errors: durations 0.25, 0.5; bytes 0, 0.125
      { measured: result('a', progressOf([4, 2], [800, 800])), predicted: result('a', progressOf([5, 1], [800, 900])) },
      // errors: duration 0.125, bytes 0.5 (its second pass is not known on the predicted side)
      { measured: result('b', progressOf([8, 1], [400, 100])), predicted: result('b', progressOf([9], [200])) },
      { measured: result('c', progressOf([1], [100])), predicted: result('c') },
    ];
    assert.deepEqual(summarizePasses(comparisons), { cases: 2, passes: 3, durationError: 0.25, bytesError: 0.125 });
    assert.deepEqual(summarizePasses(comparisons.slice(2)), { cases: 0, passes: 0, durationError: null, bytesError: null });
  });

  it('gives the loss term: mean log-ratios of duration and bytes, each with the floor of one poll, over the passes measured to last 5 polls', () => {
    assert.equal(meanPassLogError([], 100), null);
    const bytesFloor = (100e6 / 8) * 0.05;
    const matched = matchPasses(
      [{ pass: 1, seconds: 1, bytes: 1_000_000 }, { pass: 2, seconds: 0.25, bytes: 0 }, { pass: 3, seconds: 0.2, bytes: 2_000_000 }],
      [{ pass: 1, seconds: 2, bytes: 1_000_000 }, { pass: 2, seconds: 0, bytes: 1000 }, { pass: 3, seconds: 5, bytes: 1 }],
    );
    const expected = (Math.log(2.05 / 1.05) + Math.log(0.3 / 0.05) + Math.log((1000 + bytesFloor) / bytesFloor)) / 2;
    assert.ok(Math.abs((meanPassLogError(matched, 100) as number) - expected) < 1e-12, `${meanPassLogError(matched, 100)} vs ${expected}`);
    assert.equal(meanPassLogError(matched.slice(2), 100), null, 'a pass shorter than 5 polls is not compared');
  });
});

const detailsLine = (id: string, progress: unknown[]): string => JSON.stringify({ id, qemu: { status: 'completed', progress } });
const qemuRecord = (at_s: number, status: string, pass: number, transferred: number) => ({ at_s, status, pass, transferred, remaining: 0, total: 1, mbps: 100 });

async function errorOf(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => assert.fail('the file was accepted'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof InputError, `an InputError, not ${String(error)}`);
  return error;
}

describe('reading measured results with their progress', () => {
  const cases = [migrationCase('a', true), migrationCase('b', false)];
  const writeMeasured = (dir: string): string => {
    const file = path.join(dir, 'measured.csv');
    const results = new ResultsFile(file);
    for (const { id } of cases) results.append(result(id, [record(1, 1, 1)]));
    results.close();
    return file;
  };

  it("gives a measured.csv's cases their progress from the measured-details.jsonl beside it; none without the file", () =>
    withTempDir(async (dir) => {
      const file = writeMeasured(dir);
      assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /progress/, 'no column of the results file');
      for (const read of (await readResults(file, cases)).values()) assert.equal(read.progress, undefined, read.id);

      const progress = [qemuRecord(0.1, 'setup', 0, 0), qemuRecord(0.125, 'active', 1, 100), qemuRecord(2.5, 'active', 2, 5000), qemuRecord(2.75, 'completed', 2, 5100)];
      const cutOff = detailsLine('b', progress).slice(0, 40);
      fs.writeFileSync(path.join(dir, 'measured-details.jsonl'), `${detailsLine('a', progress)}\n${JSON.stringify({ id: 'z', qemu: null })}\n${cutOff}`);
      const results = await readResults(file, cases);
      assert.deepEqual(results.get('a'), { ...result('a'), progress: caseProgressOf(progress) });
      assert.deepEqual(results.get('b'), result('b'), 'no progress where its line was cut off');

      const predicted = path.join(dir, 'predicted.csv');
      fs.copyFileSync(file, predicted);
      assert.equal((await readResults(predicted, cases)).get('a')?.progress, undefined, "the details are measured.csv's");
    }));

  it('points at the line of measured-details.jsonl that is not JSON, or not a case with its progress', () =>
    withTempDir(async (dir) => {
      const file = writeMeasured(dir);
      const details = path.join(dir, 'measured-details.jsonl');
      const good = detailsLine('a', [qemuRecord(0.125, 'active', 1, 100)]);
      fs.writeFileSync(details, `${good}\n{"id": \n${good}\n`);
      assert.match((await errorOf(readResults(file, cases))).toOneLine(), new RegExp(`^${details}:2:1: bad JSON: `));
      fs.writeFileSync(details, `${good}\n${good}\n${detailsLine('b', [qemuRecord(0.125, 'active', -1, 100)])}\n`);
      assert.match((await errorOf(readResults(file, cases))).toOneLine(), new RegExp(`^${details}:3:1: qemu\\.progress\\.0\\.pass: `));
    }));
});

describe('the report of the passes', () => {
  const PASS_FILES = ['calibration-pass-duration.svg', 'calibration-pass-duration.png', 'calibration-pass-bytes.svg', 'calibration-pass-errors.csv'];
  const about: Table = { id: 'calibration-about', title: 'About', caption: '', columns: [{ header: 'what', kind: 'text' }], rows: [] };

  function calibrationOf(withProgress: boolean): Calibration {
    const progress = (seconds: number): CasePassProgress[] | undefined => (withProgress ? progressOf([seconds, 1], [40_000_000, 1_000_000]) : undefined);
    const comparisons = [migrationCase('a', true), migrationCase('b', false)].map((c) => compareCase(c, result(c.id, progress(4)), result(c.id, progress(4.5))));
    return {
      fitted: { values: { setupSeconds: 0.1 }, loss: 0.1, evaluations: 10 },
      comparisons,
      training: summarize(comparisons.filter((c) => c.migrationCase.training)),
      heldOut: summarize(comparisons.filter((c) => !c.migrationCase.training)),
    };
  }
  const parameters = [{ name: 'setupSeconds', min: 0.01, max: 1, scale: 'log' as const }];

  it('charts each matched pass and tabulates their errors per half, when the cases have progress on both sides', () =>
    withTempDir(async (dir) => {
      writeCalibrationReport(dir, calibrationOf(true), parameters, about);
      for (const file of PASS_FILES) assert.ok(fs.statSync(path.join(dir, file)).size > 0, file);
      const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
      assert.match(html, /Measured vs predicted pass duration/);
      assert.match(html, /Measured vs predicted pass bytes/);
      const errors = fs.readFileSync(path.join(dir, 'calibration-pass-errors.csv'), 'utf8').trimEnd().split('\n');
      assert.deepEqual(errors, ['half,cases,passes,pass duration (%),pass bytes (%)', 'fit cases,1,2,6.25,0', 'held-out cases,1,2,6.25,0']);
    }));

  it('leaves the passes out when no case has progress on both sides', () =>
    withTempDir(async (dir) => {
      writeCalibrationReport(dir, calibrationOf(false), parameters, about);
      assert.ok(fs.existsSync(path.join(dir, 'calibration-total-time.svg')));
      for (const file of PASS_FILES) assert.equal(fs.existsSync(path.join(dir, file)), false, file);
      assert.doesNotMatch(fs.readFileSync(path.join(dir, 'report.html'), 'utf8'), /pass duration/);
    }));

  it('shows the passes in the check report too', () =>
    withTempDir(async (dir) => {
      const withPasses = path.join(dir, 'with');
      const without = path.join(dir, 'without');
      writeCheckReport(withPasses, { profile: 'qemu-lab', values: {}, comparisons: calibrationOf(true).comparisons, halves: true }, about);
      writeCheckReport(without, { profile: 'qemu-lab', values: {}, comparisons: calibrationOf(false).comparisons, halves: false }, about);
      for (const file of PASS_FILES) {
        assert.ok(fs.existsSync(path.join(withPasses, file)), file);
        assert.equal(fs.existsSync(path.join(without, file)), false, file);
      }
      assert.match(fs.readFileSync(path.join(withPasses, 'calibration-pass-errors.csv'), 'utf8'), /^cases of,cases,passes,/);
    }));
});
