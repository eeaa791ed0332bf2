/**
 * The shipped qemu-lab profile on measurements its fit never saw (README, "Calibrating the
 * sim"): a workload family held out whole, and another harness's migrations with that
 * harness's own idle guest. A model change that loses the targets on them fails here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCases } from '../../src/calibrate/check.ts';
import { describeSummary, meetsTargets, summarize } from '../../src/calibrate/comparison.ts';
import { measuredCasesOfGrid } from '../../src/calibrate/grid-measurements.ts';
import { readMeasuredCases } from '../../src/calibrate/measured-cases-file.ts';
import type { MeasuredCase } from '../../src/calibrate/migration-case.ts';
import { checkProfileOf } from '../../src/cli/calibrate-profile.ts';
import { simCaseRunner, type SimLabModel } from '../../src/platforms/sim/calibration-runner.ts';
import { idleGuestOf } from '../../src/platforms/sim/idle-guest.ts';

const lab = checkProfileOf('qemu-lab').model;

async function summaryOf(cases: readonly MeasuredCase[], model: SimLabModel): Promise<ReturnType<typeof summarize>> {
  return summarize(await checkCases(cases, (settings) => simCaseRunner(model, settings)));
}

test('the profile meets the targets on the workload family its fit never saw (random rewrites of a filled buffer)', async () => {
  const cases = await measuredCasesOfGrid('samples/calibrate/rewrite-2026-12-02/grid.yaml', 'samples/calibrate/rewrite-2026-12-02/measured.csv');
  assert.ok(cases.every((c) => !c.migrationCase.training), 'held out whole');
  const summary = await summaryOf(cases, lab);
  assert.ok(meetsTargets(summary), describeSummary(summary));
});

test('the profile meets the targets on another harness\'s migrations once that harness\'s guest is re-derived, and not with the lab\'s guest', async () => {
  const cases = await readMeasuredCases('samples/calibrate/second-harness-2026-12-02/measured.csv');
  const guest = await idleGuestOf(lab, cases);
  assert.ok(guest);
  const summary = await summaryOf(cases, guest.model);
  assert.ok(meetsTargets(summary), describeSummary(summary));
  const withTheLabsGuest = await summaryOf(cases, lab);
  assert.ok(!meetsTargets(withTheLabsGuest) && (withTheLabsGuest.bytesError ?? 0) > 2 * (summary.bytesError ?? 0), `its guest is not the lab's: ${describeSummary(withTheLabsGuest)}`);
});
