import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCases } from '../../src/calibrate/check.ts';
import type { CaseResult, CaseRunner, CaseSettings, MeasuredCase } from '../../src/calibrate/migration-case.ts';

const result = (id: string, total_ms: number): CaseResult => ({ id, converged: true, total_ms, downtime_ms: 10, setup_ms: null, bytes: 1000, passes: 3, reason: '' });

function measuredCase(id: string, settings: CaseSettings, total_ms: number): MeasuredCase {
  return { migrationCase: { id, ramMB: 256, workload: { kind: 'idle' }, bandwidthMbps: 100, downtimeLimitMs: 300, training: false }, settings, measured: result(id, total_ms) };
}

test('each case is predicted by a runner for its own settings, each runner closed, and set beside its measurement', async () => {
  const opened: CaseSettings[] = [];
  let closed = 0;
  // A fake model whose total time is the case's timeout: it shows which settings predicted each case.
  const predictorFor = (settings: CaseSettings): CaseRunner => {
    opened.push(settings);
    return { run: async (migrationCase) => result(migrationCase.id, settings.convergenceTimeoutSeconds * 1000), close: async () => void closed++ };
  };
  const short = { warmupSeconds: 1, convergenceTimeoutSeconds: 10 };
  const long = { warmupSeconds: 5, convergenceTimeoutSeconds: 40 };
  const comparisons = await checkCases([measuredCase('a', short, 8000), measuredCase('b', long, 50_000)], predictorFor);
  assert.deepEqual(opened, [short, long]);
  assert.equal(closed, 2);
  assert.deepEqual(
    comparisons.map((c) => [c.migrationCase.id, c.measured.total_ms, c.predicted.total_ms, c.totalError]),
    [
      ['a', 8000, 10_000, 0.25],
      ['b', 50_000, 40_000, 0.2],
    ],
  );
});
