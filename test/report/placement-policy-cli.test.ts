/**
 * `report` on the sim's DRS, DPM and maintenance samples: the placement policy table and
 * figures against the run's own records, recomputed here.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { readCsvFile, runCli } from '../support/cli.ts';

const POLICY = 'samples/drs/policy.yaml';
const SCRIPTS = { 'level-3': 'samples/drs/level-3.txt', 'drs-dpm': 'samples/drs/drs-dpm.txt', 'heavy-cpu': 'samples/maintenance/heavy-cpu.txt' };
type Label = keyof typeof SCRIPTS;
const POLICY_KINDS = ['drs', 'maintenance', 'dpm'];

type Row = Record<string, string>;

function rowsOf(dir: string, file: string): Row[] {
  return readCsvFile(path.join(dir, file)).rows;
}

/** The nearest-rank percentile: the smallest value that at least p % do not exceed. */
function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

/** Latencies of the answered requests, during a policy migration of their server that took time, or outside. */
function latencySplit(runDir: string): { during: number[]; outside: number[] } {
  const policyMigrations = rowsOf(runDir, 'migrations.csv')
    .filter((m) => POLICY_KINDS.includes(m.kind as string) && Number(m.ended_s) > Number(m.started_s))
    .map((m) => ({ vm: m.vm, start: Number(m.started_s), end: Number(m.ended_s) }));
  const split = { during: [] as number[], outside: [] as number[] };
  for (const r of rowsOf(runDir, 'requests.csv')) {
    if (r.status !== 'ok') continue;
    const [sent, received] = [Number(r.sent_s), Number(r.received_s)];
    const during = policyMigrations.some((m) => m.vm === r.server && sent < m.end && received > m.start);
    split[during ? 'during' : 'outside'].push(Number(r.latency_ms));
  }
  return split;
}

/**
 * Each host's cpu over its capacity at every sample time, hosts in maintenance or powered off
 * by DPM (from its power-off to its done) left out; their population std dev, averaged.
 */
function averageSpread(runDir: string): number {
  const capacities = (JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { policy: { host_cpu_mhz: Record<string, number> } }).policy
    .host_cpu_mhz;
  const maintenance = rowsOf(runDir, 'actions.csv').filter((a) => a.action === 'maintenance' && a.status === 'fired');
  const power = rowsOf(runDir, 'decisions.csv').filter((d) => d.policy === 'dpm' && ['power-off', 'done'].includes(d.outcome as string));
  const leftOut = (host: string, time: number): boolean => {
    const entered = maintenance.filter((a) => a.args?.endsWith(` ${host}`) && Number(a.fired_s) <= time).at(-1)?.args?.startsWith('enter');
    const off = power.filter((d) => d.source === host && Number(d.time_s) <= time).at(-1)?.outcome === 'power-off';
    return entered === true || off;
  };
  const loadsAt = new Map<number, number[]>();
  for (const s of rowsOf(runDir, 'samples.csv')) {
    const time = Number(s.time_s);
    const capacity = capacities[s.host as string];
    if (s.counter !== 'cpu.usagemhz.average' || capacity === undefined || leftOut(s.host as string, time)) continue;
    loadsAt.set(time, [...(loadsAt.get(time) ?? []), Number(s.value) / capacity]);
  }
  const spreads = [...loadsAt.values()].map((loads) => {
    const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
    return Math.sqrt(loads.reduce((sum, load) => sum + (load - mean) ** 2, 0) / loads.length);
  });
  return spreads.reduce((a, b) => a + b, 0) / spreads.length;
}

/** power.power.average of each host times the time since its previous sample (the first since 0), in Wh. */
function energyWh(runDir: string): number {
  const previous = new Map<string, number>();
  let joules = 0;
  for (const s of rowsOf(runDir, 'samples.csv').filter((row) => row.counter === 'power.power.average')) {
    joules += Number(s.value) * (Number(s.time_s) - (previous.get(s.host as string) ?? 0));
    previous.set(s.host as string, Number(s.time_s));
  }
  return joules / 3600;
}

function assertNear(actual: string | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(Number(actual) - expected) <= 0.0005 + 1e-9 * Math.abs(expected), `${what}: ${actual} ≠ ${expected}`);
}

describe('vm-monitoring report on DRS, DPM and maintenance runs', { concurrency: 2 }, () => {
  let tmp = '';
  const runDirs = {} as Record<Label, string>;
  let out = '';
  let table: Row[] = [];

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-policy-report-'));
    for (const label of Object.keys(SCRIPTS) as Label[]) runDirs[label] = path.join(tmp, label);
    const runs = await Promise.all(
      (Object.entries(SCRIPTS) as [Label, string][]).map(([label, script]) => runCli(['run', script, '--policy', POLICY, '--out', runDirs[label]])),
    );
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    out = path.join(tmp, 'report');
    const report = await runCli(['report', ...Object.values(runDirs), '--out', out]);
    assert.equal(report.code, 0, report.stderr);
    table = rowsOf(out, 'placement-policy.csv');
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function rowOf(label: Label): Row {
    const row = table.find((candidate) => candidate.run === label);
    assert.ok(row, `a row for ${label}`);
    return row;
  }

  it('counts each kind of migration as migrations.csv has them', () => {
    for (const label of Object.keys(SCRIPTS) as Label[]) {
      const migrations = rowsOf(runDirs[label], 'migrations.csv');
      for (const kind of ['script', 'drs', 'maintenance', 'dpm']) {
        const ofKind = migrations.filter((m) => m.kind === kind);
        const succeeded = ofKind.filter((m) => m.status === 'succeeded').length;
        assert.equal(rowOf(label)[`${kind} succeeded`], String(succeeded), `${label} ${kind}`);
        assert.equal(rowOf(label)[`${kind} failed`], String(ofKind.length - succeeded), `${label} ${kind} failed`);
      }
    }
    assert.ok(Number(rowOf('level-3')['drs succeeded']) > 0, 'DRS moved VMs at level 3');
    assert.ok(Number(rowOf('heavy-cpu')['maintenance succeeded']) > 0, 'maintenance evacuated esx1');
    assert.ok(Number(rowOf('drs-dpm')['dpm succeeded']) > 0, 'DPM emptied hosts for standby');
  });

  it('counts the decisions, the moves and the none of decisions.csv', () => {
    for (const label of Object.keys(SCRIPTS) as Label[]) {
      const decisions = rowsOf(runDirs[label], 'decisions.csv');
      const row = rowOf(label);
      assert.equal(row.decisions, String(decisions.length), label);
      assert.equal(row.moves, String(decisions.filter((d) => d.outcome === 'move').length), label);
      assert.equal(row['no move'], String(decisions.filter((d) => d.outcome === 'none').length), label);
    }
  });

  it('gives the latency percentiles during and outside policy migrations, from requests.csv with the overlap rule', () => {
    for (const label of Object.keys(SCRIPTS) as Label[]) {
      const split = latencySplit(runDirs[label]);
      const row = rowOf(label);
      assert.ok(split.during.length > 0, `${label}: some requests overlap a policy migration`);
      for (const phase of ['during', 'outside'] as const) {
        assert.equal(row[`responses ${phase}`], String(split[phase].length), `${label} ${phase}`);
        for (const p of [50, 95, 99]) assertNear(row[`p${p} ${phase} [ms]`], nearestRank(split[phase], p), `${label} p${p} ${phase}`);
      }
    }
  });

  it('averages the spread of host load over the samples', () => {
    for (const label of Object.keys(SCRIPTS) as Label[]) assertNear(rowOf(label)['average spread'], averageSpread(runDirs[label]), label);
  });

  it("integrates the hosts' power into energy", () => {
    for (const label of Object.keys(SCRIPTS) as Label[]) {
      const expected = energyWh(runDirs[label]);
      assert.ok(expected > 0, `${label}: the sim reports power`);
      assertNear(rowOf(label)['energy [Wh]'], expected, label);
    }
  });

  it('adds up the hours hosts spent in standby, from the standby decisions to the power-ons', () => {
    const decisions = rowsOf(runDirs['drs-dpm'], 'decisions.csv').filter((row) => row.policy === 'dpm');
    const endS = (JSON.parse(fs.readFileSync(path.join(runDirs['drs-dpm'], 'run.json'), 'utf8')) as { run_seconds: number }).run_seconds;
    let seconds = 0;
    for (const standby of decisions.filter((row) => row.outcome === 'standby')) {
      const woken = decisions.find((row) => row.outcome === 'power-on' && row.source === standby.source && Number(row.time_s) > Number(standby.time_s));
      seconds += (woken ? Number(woken.time_s) : endS) - Number(standby.time_s);
    }
    assert.ok(seconds > 3600, `DPM put hosts into standby: ${seconds} s`);
    assertNear(rowOf('drs-dpm')['hosts in standby [h]'], seconds / 3600, 'drs-dpm');
    assert.equal(rowOf('level-3')['hosts in standby [h]'], '0', 'a run without DPM slept no host');
  });

  it('gives each host\'s energy and hours in standby, adding up to the run\'s', () => {
    const perHost = rowsOf(out, 'host-power.csv');
    for (const label of Object.keys(SCRIPTS) as Label[]) {
      const rows = perHost.filter((row) => row.run === label);
      assert.ok(rows.length >= 3, `${label}: a row per host`);
      // The CSV has one decimal: each host within half of it, their sum within half of it per host.
      const near = (actual: number, expected: number, halfUnits: number, what: string): void =>
        assert.ok(Math.abs(actual - expected) <= 0.05 * halfUnits + 1e-9, `${what}: ${actual} ≠ ${expected}`);
      near(rows.reduce((sum, row) => sum + Number(row['energy [Wh]']), 0), Number(rowOf(label)['energy [Wh]']), rows.length + 1, `${label}: energy`);
      const power = rowsOf(runDirs[label], 'samples.csv').filter((s) => s.counter === 'power.power.average' && s.host === rows[0]!.host);
      const joules = power.reduce((sum, s, i) => sum + Number(s.value) * (Number(s.time_s) - (i === 0 ? 0 : Number(power[i - 1]!.time_s))), 0);
      near(Number(rows[0]!['energy [Wh]']), joules / 3600, 1, `${label}: ${rows[0]!.host}`);
    }
    const slept = perHost.filter((row) => row.run === 'drs-dpm' && Number(row['in standby [h]']) > 0);
    assert.ok(slept.length >= 1, 'DPM slept a host');
    const sleptHours = slept.reduce((sum, row) => sum + Number(row['in standby [h]']), 0);
    assert.ok(Math.abs(sleptHours - Number(rowOf('drs-dpm')['hosts in standby [h]'])) <= 0.05 * (slept.length + 1), `standby adds up: ${sleptHours}`);
  });

  it('draws, per run, the spread with one marker per move of each policy', () => {
    for (const label of Object.keys(SCRIPTS) as Label[]) {
      const svg = fs.readFileSync(path.join(out, `policy-spread-${label}.svg`), 'utf8');
      assert.equal(XMLValidator.validate(svg), true, label);
      const moves = rowsOf(runDirs[label], 'decisions.csv').filter((d) => d.outcome === 'move');
      for (const policy of POLICY_KINDS) {
        const expected = moves.filter((d) => d.policy === policy).length;
        const group = new RegExp(`<g class="markers" data-series="${policy} move">(.*?)</g>`).exec(svg);
        assert.equal((group?.[1]?.match(/<(circle|polygon) /g) ?? []).length, expected, `${label}: ${policy} moves`);
      }
      assert.ok(fs.statSync(path.join(out, `policy-spread-${label}.png`)).size > 2000, `${label}: a PNG`);
    }
  });
});
