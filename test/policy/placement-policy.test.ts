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
    assert.equal(level3.decisions[1]?.reason, "priority 2, but the imbalance has not lasted 2 cycles of samples since the hosts' last migrations", 'a gain must last two cycles');
    const first = level3.decisions.find((d) => d.outcome === 'move')!;
    assert.equal(first.time_s, 600);
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
    assert.ok(moves.every((m) => m.requested_s < 7200), `then still for the last two hours: ${moves.map((m) => m.requested_s).join(', ')}`);
  });

  it('holds a VM that moved for the hold-down time, and moves it without one', async () => {
    // vm01 goes away and back at once: on esx1 again, first in line among equals, but it just moved.
    const script = `${PILED_UP}0 drs 5\n0 migrate vm01 esx2\n0 migrate vm01 esx1\n3600 end\n`;
    const held = byKind((await runOnSim(script, {}, { policy: { drs: { holdDownSeconds: 100_000 } } })).migrations, 'drs');
    assert.ok(held.length >= 1 && held.every((m) => m.vm !== 'vm01'), held.map((m) => m.vm).join(', '));
    const free = byKind((await runOnSim(script, {}, { policy: { drs: { holdDownSeconds: 0 } } })).migrations, 'drs');
    assert.ok(free.some((m) => m.vm === 'vm01'), free.map((m) => m.vm).join(', '));
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
    assert.ok(failed.every((d) => /^nowhere to put vm0[12]: no other host is on and out of maintenance$/.test(d.reason)), failed.map((d) => d.reason).join('; '));
    assert.ok(failed.some((d) => d.time_s >= 40), 'tried again after the retry time');
  });
});

/** Six VMs on three hosts and one client: a cluster mostly idle. */
const QUIET = 'esx1:vm01,vm02 esx2:vm03,vm04 esx3:vm05,vm06\n0 add-client cpu 1\n0 drs 3\n0 dpm 3\n';

const powerOf = (run: Awaited<ReturnType<typeof runOnSim>>, host: string) =>
  run.samples.filter((s) => s.host === host && s.counter === 'power.power.average');

/** Watt-hours of the run's power samples, each covering the interval before it. */
function energyWh(run: Awaited<ReturnType<typeof runOnSim>>): number {
  let joules = 0;
  for (const host of ['esx1', 'esx2', 'esx3']) {
    let previousS = 0;
    for (const sample of powerOf(run, host)) {
      joules += sample.value * (sample.time_s - previousS);
      previousS = sample.time_s;
    }
  }
  return joules / 3600;
}

describe('DPM on the sim', () => {
  it('puts an idle host into standby: emptied by dpm migrations, drawing standby watts, receiving nothing', async () => {
    const run = await runOnSim(`${QUIET}7200 end\n`);
    const off = run.decisions.find((d) => d.outcome === 'power-off')!;
    assert.ok(off, run.decisions.filter((d) => d.policy === 'dpm').map((d) => `${d.time_s} ${d.outcome} ${d.reason}`).join('\n'));
    // A whole 40-minute history first.
    assert.ok(off.time_s >= 2400, `powered off at ${off.time_s}`);
    const host = off.source;
    const standby = run.decisions.find((d) => d.outcome === 'standby' && d.source === host)!;
    assert.match(standby.reason, new RegExp(`^host ${host} is in standby$`));
    const emptied = byKind(run.migrations, 'dpm');
    assert.ok(emptied.length >= 1 && emptied.filter((m) => m.source === host).every((m) => m.status === 'succeeded' && m.requested_s === off.time_s), JSON.stringify(emptied));
    const sleepingFromS = standby.time_s + 20;
    assert.ok(run.migrations.every((m) => m.target !== host || m.status !== 'succeeded' || m.requested_s < off.time_s), 'nothing moved to it after');
    const asleep = powerOf(run, host).filter((s) => s.time_s > sleepingFromS);
    assert.ok(asleep.length > 100 && asleep.every((s) => s.value === 10), `standby draws 10 W: ${asleep.slice(0, 3).map((s) => s.value).join(', ')}`);
    assert.ok(run.samples.filter((s) => s.host === host && s.counter === 'vm.count' && s.time_s > sleepingFromS).every((s) => s.value === 0));
    assert.deepEqual(run.requests.filter((r) => r.status !== 'ok'), []);
  });

  it('draws power linearly in CPU use between idle and peak, and saves energy by standby', async () => {
    const awake = await runOnSim(`${QUIET.replace('0 dpm 3\n', '')}7200 end\n`);
    for (const sample of powerOf(awake, 'esx1')) {
      const cpu = awake.samples.find((s) => s.host === 'esx1' && s.time_s === sample.time_s && s.counter === 'cpu.usagemhz.average')!;
      assert.ok(Math.abs(sample.value - (160 + (120 * cpu.value) / 7600)) < 1e-6, `at ${sample.time_s}: ${sample.value} W for ${cpu.value} MHz`);
    }
    const withDpm = await runOnSim(`${QUIET}7200 end\n`);
    const saved = energyWh(awake) - energyWh(withDpm);
    assert.ok(saved > 100, `DPM saved ${saved.toFixed(0)} Wh of ${energyWh(awake).toFixed(0)}`);
  });

  it('wakes a host before the load it sees rising exceeds the capacity on', async () => {
    // One more client every 5 minutes from 1 h on: each keeps a vCPU (half a host) busy.
    const ramp = Array.from({ length: 6 }, () => '300 add-client cpu 1').join('\n');
    const run = await runOnSim(`${QUIET}3600 add-client cpu 1\n${ramp}\n1800 end\n`);
    const standby = run.decisions.find((d) => d.outcome === 'standby')!;
    assert.ok(standby && standby.time_s < 3600, 'a host went into standby while the cluster was idle');
    const on = run.decisions.find((d) => d.outcome === 'power-on')!;
    assert.ok(on && on.time_s > 3600, run.decisions.filter((d) => d.policy === 'dpm' && d.time_s > 3600).map((d) => `${d.time_s} ${d.outcome} ${d.reason}`).join('\n'));
    assert.equal(on.source, standby.source, 'the host in standby');
    // The hosts left on: when did their total CPU first reach their capacity?
    const awakeHosts = ['esx1', 'esx2', 'esx3'].filter((host) => host !== standby.source);
    const times = [...new Set(run.samples.filter((s) => s.time_s > 3600).map((s) => s.time_s))];
    const fullS = times.find((time) => awakeHosts.reduce((sum, host) => sum + (run.samples.find((s) => s.host === host && s.time_s === time && s.counter === 'cpu.usagemhz.average')?.value ?? 0), 0) >= 2 * 7600 * 0.999);
    assert.ok(fullS === undefined || on.time_s < fullS, `woken at ${on.time_s}, the hosts on were full from ${fullS}`);
    assert.ok(run.decisions.some((d) => d.outcome === 'done' && d.source === on.source && /awake/.test(d.reason) && d.time_s === on.time_s + 180), 'awake 180 s later');
  });
});
