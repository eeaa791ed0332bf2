/**
 * The SimGrid peer (bench/peers/simgrid), built with g++ against libsimgrid-dev and run on a
 * few migrations whose outcomes follow from the plugin's rules (VmLiveMigration.cpp): all of
 * RAM first, then what the VM dirtied meanwhile (its rate, at most its working set) round after
 * round until it is under bandwidth x 30 ms, then that last copy with the VM stopped.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSimgridPeer, runSimgridCases, simgridMissing, type SimgridCase } from '../../bench/peers/simgrid/peer.ts';
import { needing } from '../support/needing.ts';

const skip = process.env.CI === 'true' ? false : (simgridMissing() ?? false);
const { after, before, describe, it } = needing(skip);

const MIB = 1024 * 1024;
const PLUGIN_MAX_DOWNTIME_S = 0.03;

const baseCase: SimgridCase = {
  id: 'base',
  ramBytes: 256 * MIB,
  maxBandwidthBytesPerSecond: 125e6,
  workingSetBytes: 64 * MIB,
  dirtyBytesPerSecond: 0,
  downtimeLimitSeconds: 0.3,
  timeoutSeconds: 30,
};

/** The plugin's pre-copy worked out by hand for a converging case: its total time, bytes and transfers. */
function expectedByTheRules(c: SimgridCase): { totalSeconds: number; bytes: number; passes: number; downtimeSeconds: number } {
  const bandwidth = c.maxBandwidthBytesPerSecond;
  const dirtiedIn = (seconds: number): number => Math.min(Math.floor(seconds * c.dirtyBytesPerSecond), c.workingSetBytes);
  let totalSeconds = c.ramBytes / bandwidth;
  let bytes = c.ramBytes;
  let passes = 1;
  let pending = dirtiedIn(totalSeconds);
  while (pending > bandwidth * PLUGIN_MAX_DOWNTIME_S) {
    const seconds = pending / bandwidth;
    totalSeconds += seconds;
    bytes += pending;
    passes++;
    pending = dirtiedIn(seconds);
  }
  const downtimeSeconds = pending / bandwidth;
  return { totalSeconds: totalSeconds + downtimeSeconds, bytes: bytes + pending, passes: passes + 1, downtimeSeconds };
}

const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual}, expected ${expected}`);

describe('the SimGrid peer', { timeout: 300_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-simgrid-peer-'));
  let program = '';

  before(async () => {
    program = await buildSimgridPeer(dir);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sends every byte of an idle VM\'s RAM once, with nothing left for its downtime (no zero pages)', async () => {
    const [idle] = await runSimgridCases(program, [{ ...baseCase, id: 'idle', workingSetBytes: 0 }]);
    assert.ok(idle);
    assert.equal(idle.converged, true);
    assert.equal(idle.bytes, baseCase.ramBytes);
    close(idle.totalSeconds, baseCase.ramBytes / baseCase.maxBandwidthBytesPerSecond, 'total seconds');
    assert.equal(idle.downtimeSeconds, 0);
    assert.equal(idle.passes, 2, 'all of RAM, then an empty last copy');
    assert.equal(idle.maxDowntimeSeconds, PLUGIN_MAX_DOWNTIME_S, 'the plugin keeps its 30 ms whatever the case asks');
  });

  it('dirties at the case\'s rate: each round, total time, bytes and downtime as the plugin\'s rules give them, growing with the rate', async () => {
    const rates = [5, 20, 40].map((mib) => mib * MIB);
    const cases = rates.map((rate) => ({ ...baseCase, id: `dirty${rate}`, dirtyBytesPerSecond: rate }));
    const outcomes = await runSimgridCases(program, cases);
    for (const [index, outcome] of outcomes.entries()) {
      const expected = expectedByTheRules(cases[index]!);
      assert.equal(outcome.converged, true, outcome.id);
      close(outcome.totalSeconds, expected.totalSeconds, `${outcome.id} total seconds`);
      close(outcome.bytes, expected.bytes, `${outcome.id} bytes`);
      close(outcome.downtimeSeconds!, expected.downtimeSeconds, `${outcome.id} downtime`);
      assert.equal(outcome.passes, expected.passes, `${outcome.id} passes`);
    }
    const totals = outcomes.map((outcome) => outcome.totalSeconds);
    assert.deepEqual([...totals].sort((a, b) => a - b), totals, 'total time grows with the dirty rate');
    assert.ok(totals[0]! < totals[2]!);
  });

  it('reports a VM dirtying faster than its bandwidth as not converged, at the timeout, with the bytes sent by then', async () => {
    const [dirtier] = await runSimgridCases(program, [{ ...baseCase, id: 'too-fast', dirtyBytesPerSecond: 2 * baseCase.maxBandwidthBytesPerSecond, timeoutSeconds: 10 }]);
    assert.ok(dirtier);
    assert.equal(dirtier.converged, false);
    assert.equal(dirtier.downtimeSeconds, null);
    close(dirtier.totalSeconds, 10, 'total seconds');
    close(dirtier.bytes, 10 * baseCase.maxBandwidthBytesPerSecond, 'bytes');
    // All of RAM (2.15 s), then rounds of the whole working set (0.54 s each) until the timeout.
    assert.equal(dirtier.passes, 1 + Math.ceil((10 - baseCase.ramBytes / 125e6) / (baseCase.workingSetBytes / 125e6)));
  });
});
