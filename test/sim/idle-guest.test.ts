/**
 * Re-deriving another harness's idle guest from its idle migrations: measurements made by the
 * sim itself with a known guest must give that guest back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MeasuredCase, MigrationCase } from '../../src/calibrate/migration-case.ts';
import { checkProfileOf } from '../../src/cli/calibrate-profile.ts';
import { guestNonZeroPerRamMBOf, simCaseRunner, type SimLabModel } from '../../src/platforms/sim/calibration-runner.ts';
import { describeIdleGuest, idleGuestOf } from '../../src/platforms/sim/idle-guest.ts';

const SETTINGS = { warmupSeconds: 4, convergenceTimeoutSeconds: 30 };
const idleCase = (ramMB: number, bandwidthMbps: number): MigrationCase => ({
  id: `idle-${ramMB}-${bandwidthMbps}`, ramMB, workload: { kind: 'idle' }, bandwidthMbps, downtimeLimitMs: 300, training: false,
});

/** What the sim measures of `cases` with `model`'s guest. */
async function measuredWith(model: SimLabModel, cases: readonly MigrationCase[]): Promise<MeasuredCase[]> {
  const measured: MeasuredCase[] = [];
  for (const migrationCase of cases) {
    measured.push({ migrationCase, settings: SETTINGS, measured: await simCaseRunner(model, SETTINGS).run(migrationCase, new AbortController().signal) });
  }
  return measured;
}

describe('the idle guest of another harness', () => {
  const lab = checkProfileOf('qemu-lab').model;

  it('gives back the fixed and the per-RAM non-zero memory of a guest measured at two RAM sizes', async () => {
    const other: SimLabModel = { ...lab, guestNonZeroPerRamMB: 0.04, vms: { ...lab.vms, guestOsMB: 12 } };
    const cases = await measuredWith(other, [idleCase(256, 200), idleCase(512, 1000), idleCase(1024, 1000)]);
    const guest = await idleGuestOf(lab, cases);
    assert.ok(guest);
    assert.ok(Math.abs((guest.model.vms.guestOsMB ?? NaN) - 12) < 0.5, `fixed part ${guest.model.vms.guestOsMB} MB, not 12`);
    assert.ok(Math.abs((guest.model.guestNonZeroPerRamMB ?? NaN) - 0.04) < 0.001, `per RAM ${guest.model.guestNonZeroPerRamMB}, not 0.04`);
    assert.equal(guest.model.migration, lab.migration, 'nothing but the guest changes');
    assert.match(describeIdleGuest(guest), /^non-zero memory 12\.\d MB \+ 4\.0\d % of RAM \(the idle migrations imply .* at 256 MB, .* at 512 MB, .* at 1024 MB\)$/);
  });

  it('keeps the profile\'s growth with RAM from one RAM size, moves only the fixed part, and ignores the other workloads', async () => {
    const other: SimLabModel = { ...lab, vms: { ...lab.vms, guestOsMB: 30 } };
    const dirty: MigrationCase = { ...idleCase(256, 1000), id: 'dirty', workload: { kind: 'dirty', bufferMB: 64, rateMBps: 20 } };
    const cases = await measuredWith(other, [idleCase(256, 200), idleCase(256, 1000), dirty]);
    const guest = await idleGuestOf(lab, cases);
    assert.ok(guest);
    assert.ok(Math.abs((guest.model.vms.guestOsMB ?? NaN) - 30) < 0.5, `fixed part ${guest.model.vms.guestOsMB} MB, not 30`);
    assert.equal(guestNonZeroPerRamMBOf(guest.model), guestNonZeroPerRamMBOf(lab));
    assert.deepEqual([...guest.impliedMB.keys()], [256]);
  });

  it('gives back how much of a held buffer lands on memory the guest freed without zeroing', async () => {
    const other: SimLabModel = { ...lab, vms: { ...lab.vms, guestOsMB: 40, guestOsReusableMB: 15 } };
    const buffer = (ramMB: number, bufferMB: number): MigrationCase => ({ ...idleCase(ramMB, 1000), id: `buffer-${ramMB}-${bufferMB}`, workload: { kind: 'memory', bufferMB, sleepMs: 100_000 } });
    const cases = await measuredWith(other, [idleCase(256, 200), idleCase(256, 1000), buffer(256, 64), buffer(256, 32)]);
    const guest = await idleGuestOf(lab, cases);
    assert.ok(guest?.reusableMB !== null && guest?.reusableMB !== undefined);
    assert.ok(Math.abs(guest.reusableMB - 15) < 0.5, `reused ${guest.reusableMB} MB, not 15`);
    assert.equal(guest.model.vms.guestOsReusableMB, guest.reusableMB);
    assert.match(describeIdleGuest(guest), /, of which a buffer reuses 1[45]\.\d MB first/);
    const idleOnly = await idleGuestOf(lab, cases.slice(0, 2));
    assert.equal(idleOnly?.reusableMB, null, 'no buffer held: nothing to tell reuse by');
  });

  it('is none without a converged idle migration', async () => {
    const cases = await measuredWith(lab, [{ ...idleCase(256, 1000), id: 'buffer', workload: { kind: 'memory', bufferMB: 64, sleepMs: 100_000 } }]);
    assert.equal(await idleGuestOf(lab, cases), null);
  });
});
