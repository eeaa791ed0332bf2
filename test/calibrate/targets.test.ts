import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meetsTargets, type ErrorSummary } from '../../src/calibrate/comparison.ts';

test('the targets: total time under 7 %, bytes under 5 %, downtime within 5 ms, convergence always right', () => {
  const good: ErrorSummary = { cases: 42, totalError: 0.069, setupError: 0.5, bytesError: 0.049, downtimeError: 0.9, downtimeErrorMs: 4.9, passesError: 1, convergenceMismatches: 0 };
  assert.equal(meetsTargets(good), true, 'a large downtime error in per cent is fine within 5 ms; setup has no target');
  assert.equal(meetsTargets({ ...good, totalError: 0.071 }), false);
  assert.equal(meetsTargets({ ...good, bytesError: 0.051 }), false);
  assert.equal(meetsTargets({ ...good, downtimeErrorMs: 5.1, downtimeError: 0.1 }), false);
  assert.equal(meetsTargets({ ...good, convergenceMismatches: 1 }), false);
  assert.equal(meetsTargets({ ...good, downtimeError: null, downtimeErrorMs: null }), true, 'no converging case: nothing to judge');
});
