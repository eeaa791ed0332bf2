import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caseLoss, fitParameters, type ParameterValues } from '../../src/calibrate/fit.ts';
import { casesOf, gridSchema, settingsOf } from '../../src/calibrate/grid.ts';
import type { CasePassProgress, CaseResult, MigrationCase } from '../../src/calibrate/migration-case.ts';
import { FITTED_PARAMETERS, simCaseRunner, simLabModelOf } from '../../src/platforms/sim/calibration-runner.ts';

test('the fit recovers the parameters that made synthetic measurements', async () => {
  const grid = gridSchema.parse({
    ramMB: [256, 512],
    workloads: ['idle', { memory: 64 }, { dirty: 4 }, { dirty: 100 }],
    bandwidthMbps: [100, 1000],
    downtimeLimitMs: [30, 300],
    convergenceTimeoutSeconds: 20,
  });
  const settings = settingsOf(grid);
  const truth: ParameterValues = { setupSeconds: 0.3, switchoverSeconds: 0.015, stopAndCopyMBps: 400, guestOsMB: 25 };
  const predictorFor = (values: ParameterValues) => simCaseRunner(simLabModelOf(values), settings);
  const truthRunner = predictorFor(truth);
  const signal = new AbortController().signal;
  const cases = [];
  for (const migrationCase of casesOf(grid)) cases.push({ migrationCase, measured: await truthRunner.run(migrationCase, signal) });
  assert.ok(cases.some((c) => !c.measured.converged), 'the grid has a case that does not converge');

  const fitted = await fitParameters({ parameters: FITTED_PARAMETERS, cases, predictorFor }, { searches: 3, population: 40, generations: 40 });
  for (const [name, expected] of Object.entries(truth)) {
    const found = fitted.values[name]!;
    assert.ok(Math.abs(found - expected) / expected < 0.1, `${name}: fitted ${found}, true ${expected} (loss ${fitted.loss})`);
  }
});

test("a case's loss adds half the passes' mean log-ratios where both sides have progress, and only then", () => {
  const migrationCase: MigrationCase = { id: 'a', ramMB: 256, workload: { kind: 'idle' }, bandwidthMbps: 100, downtimeLimitMs: 300, training: true };
  const result = (total_ms: number, bytes: number, downtime_ms: number, progress?: CasePassProgress[]): CaseResult => ({
    id: 'a', converged: true, total_ms, downtime_ms, setup_ms: null, bytes, passes: 3, reason: '', ...(progress && { progress }),
  });
  const record = (at_s: number, pass: number, transferred: number): CasePassProgress => ({ at_s, pass, transferred, remaining: 0 });
  const totals = Math.log(5000 / 4000) + Math.log(50e6 / 40e6) + Math.log((30 + 20) / (10 + 20));
  // One pass on both sides: 4 s and 40 MB measured, 5 s and 40 MB predicted; the floors are 0.05 s and what 100 Mbit/s sends in it.
  const measuredProgress = [record(0.25, 1, 0), record(4.25, 2, 40e6), record(4.5, 2, 40e6)];
  const predictedProgress = [record(0.25, 1, 0), record(5.25, 2, 40e6)];
  const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} vs ${expected}`);
  close(caseLoss(result(4000, 40e6, 10), result(5000, 50e6, 30), migrationCase), totals);
  close(caseLoss(result(4000, 40e6, 10, measuredProgress), result(5000, 50e6, 30), migrationCase), totals);
  close(caseLoss(result(4000, 40e6, 10, measuredProgress), result(5000, 50e6, 30, predictedProgress), migrationCase), totals + 0.5 * Math.log(5.05 / 4.05));
});
