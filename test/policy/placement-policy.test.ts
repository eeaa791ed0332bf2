/**
 * The placement policy (DRS, maintenance) on the simulated datacenter's virtual clock: the
 * runner, the dispatcher and the sim are the real ones, hours of experiment in a second.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MigrationRecord } from '../../src/record/records.ts';
import { runOnSim } from '../sim/run-on-sim.ts';

/** Four VMs on esx1 of three two-core hosts, busy enough to fill esx1: a clear imbalance. */
const PILED_UP = 'esx1:vm01,vm02,vm03,vm04 esx2: esx3:\n0 add-client cpu 4\n';

const byKind = (migrations: readonly MigrationRecord[], kind: string): MigrationRecord[] => migrations.filter((m) => m.kind === kind);

describe('DRS on the sim', () => {
  it('corrects a clear imbalance at level 3, and leaves it at level 1', async () => {
    const level3 = await runOnSim(`${PILED_UP}0 drs 3\n3600 end\n`);
    const moves = byKind(level3.migrations, 'drs');
    assert.ok(moves.length >= 2, `DRS moved ${moves.length} VMs`);
    assert.ok(moves.every((m) => m.source === 'esx1' && m.status === 'succeeded'), JSON.stringify(moves.map((m) => `${m.vm} ${m.source}>${m.target} ${m.status}`)));
    assert.deepEqual(new Set(moves.map((m) => m.target)), new Set(['esx2', 'esx3']));
    const first = level3.decisions.find((d) => d.outcome === 'move')!;
    assert.ok(first.spread !== null && first.spread > 0.4, `the imbalance seen: ${first.loads}`);
    const last = level3.decisions.at(-1)!;
    assert.ok(last.spread !== null && last.spread < 0.3, `after: ${last.loads} (${last.reason})`);
    // Each move is recorded with what it saw and why, and the migration it asked for is kind drs.
    for (const move of level3.decisions.filter((d) => d.outcome === 'move')) {
      assert.match(move.reason, /priority [2-3] at level 3/);
      assert.ok(moves.some((m) => m.vm === move.vm && m.target === move.target && m.requested_s === move.time_s));
    }

    const level1 = await runOnSim(`${PILED_UP}0 drs 1\n3600 end\n`);
    assert.deepEqual(byKind(level1.migrations, 'drs'), []);
    const cycles = level1.decisions.filter((d) => d.reason === 'level 1 applies mandatory moves only');
    assert.equal(level1.decisions[0]?.reason, 'no sample of esx1 yet', 'the first cycle, as drs 1 fires at 0 s');
    assert.equal(cycles.length, 11, 'then one decision per 5-minute cycle, 300 s to 3300 s');
  });

  it('does not ping-pong on a steady load, even at level 5', async () => {
    const run = await runOnSim(`${PILED_UP}0 drs 5\n14400 end\n`);
    const moves = byKind(run.migrations, 'drs');
    assert.ok(moves.length >= 1 && moves.length <= 4, `${moves.length} moves`);
    const left = new Map<string, Set<string>>();
    for (const move of moves) {
      assert.ok(!left.get(move.vm)?.has(move.target), `${move.vm} went back to ${move.target}, which it had left`);
      left.set(move.vm, (left.get(move.vm) ?? new Set()).add(move.source));
    }
    assert.ok(moves.every((m) => m.requested_s < 3600), 'balanced within the first hour, then still');
  });

  it('holds a VM it moved for the hold-down time', async () => {
    const run = await runOnSim(`${PILED_UP}0 drs 5\n0 migrate vm01 esx2\n3600 end\n`, {}, { policy: { drs: { holdDownSeconds: 100_000 } } });
    assert.ok(byKind(run.migrations, 'drs').every((m) => m.vm !== 'vm01'), 'vm01 moved by the script stays where the script put it');
    assert.ok(byKind(run.migrations, 'drs').length >= 1);
  });

  it('stops balancing at drs off', async () => {
    const run = await runOnSim(`${PILED_UP}0 drs off\n0 drs 3\n0 drs off\n3600 end\n`);
    assert.deepEqual(byKind(run.migrations, 'drs'), []);
    assert.equal(run.decisions.length, 1, 'the one cycle drs 3 ran before it was turned off');
  });
});

describe('maintenance mode on the sim', () => {
  it('empties the host, sends it nothing until it exits, then DRS uses it again', async () => {
    const run = await runOnSim([
      'esx1:vm01,vm02 esx2:vm03,vm04 esx3:vm05,vm06',
      '0 add-client cpu 6',
      '0 drs 5',
      '100 maintenance enter esx1',
      '200 migrate vm03 esx1',
      '2000 maintenance exit esx1',
      '3000 end',
      '',
    ].join('\n'));
    const enterS = 100;
    const exitS = 2300;
    const evacuations = byKind(run.migrations, 'maintenance');
    assert.deepEqual(evacuations.map((m) => `${m.vm} ${m.source} ${m.status}`).sort(), ['vm01 esx1 succeeded', 'vm02 esx1 succeeded']);
    assert.deepEqual(new Set(evacuations.map((m) => m.target)), new Set(['esx2', 'esx3']), 'one to each, the least loaded first');
    assert.ok(evacuations.every((m) => m.requested_s === enterS && m.target !== 'esx1'));
    const refused = run.migrations.find((m) => m.kind === 'script')!;
    assert.equal(refused.status, 'failed');
    assert.equal(refused.reason, 'host esx1 is in maintenance');
    const into = run.migrations.filter((m) => m.target === 'esx1' && m.status === 'succeeded');
    assert.ok(into.every((m) => m.requested_s >= exitS), `nothing reached esx1 in maintenance: ${into.map((m) => m.requested_s).join(', ')}`);
    assert.ok(into.some((m) => m.kind === 'drs'), 'DRS used esx1 again after it exited');
    const empty = run.decisions.find((d) => d.policy === 'maintenance' && d.outcome === 'done' && /empty/.test(d.reason))!;
    assert.ok(empty.time_s > enterS && empty.time_s < enterS + 60, `emptied at ${empty.time_s}`);
    assert.ok(run.decisions.some((d) => d.policy === 'maintenance' && d.time_s === exitS && /out of maintenance/.test(d.reason)));
    const drsMoves = run.decisions.filter((d) => d.policy === 'drs' && d.outcome === 'move');
    assert.ok(drsMoves.filter((d) => d.time_s < exitS).every((d) => d.target !== 'esx1' && d.source !== 'esx1'));
    assert.deepEqual(run.requests.filter((r) => r.status !== 'ok'), [], 'every request answered');
  });

  it('records a maintenance that cannot be honoured, tries again, and the run goes on', async () => {
    const run = await runOnSim('esx1:vm01 esx2:vm02\n0 add-client cpu 2\n10 maintenance enter esx1\n0 maintenance enter esx2\n100 end\n', {}, { policy: { maintenance: { retrySeconds: 30 } } });
    assert.equal(run.outcome.status, 'completed');
    const failed = run.decisions.filter((d) => d.outcome === 'failed');
    assert.ok(failed.length >= 3, `${failed.length} failed decisions`);
    assert.ok(failed.every((d) => /^nowhere to put vm0[12]: every other host is in maintenance$/.test(d.reason)), failed.map((d) => d.reason).join('; '));
    assert.ok(failed.some((d) => d.time_s >= 40), 'tried again after the retry time');
  });
});
