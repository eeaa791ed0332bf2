import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitParameters, type ParameterValues } from '../../src/calibrate/fit.ts';
import { casesOf, gridSchema, settingsOf } from '../../src/calibrate/grid.ts';
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

  const fitted = await fitParameters({ parameters: FITTED_PARAMETERS, cases, predictorFor }, { searches: 3, population: 30, generations: 20 });
  for (const [name, expected] of Object.entries(truth)) {
    const found = fitted.values[name]!;
    assert.ok(Math.abs(found - expected) / expected < 0.1, `${name}: fitted ${found}, true ${expected} (loss ${fitted.loss})`);
  }
});
