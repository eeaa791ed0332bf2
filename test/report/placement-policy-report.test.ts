/**
 * The report's placement policy table and figure on hand-made run directories whose numbers
 * are known, and that a run without a policy gets neither.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import type { ActionRecord, MigrationRow, RequestRecord, SampleRecord } from '../../src/record/records.ts';
import { buildReport } from '../../src/report/build-report.ts';
import { readCsvFile, withTempDir } from '../support/cli.ts';
import { decision, migration, request, writeRun, type RunContents } from './run-fixture.ts';
import { pngSize, svgSize } from './svg-helpers.ts';

const POLICY_KINDS = ['drs', 'maintenance', 'dpm'];

const MIGRATIONS: MigrationRow[] = [
  migration({ vm: 'vm1', started_s: 0, ended_s: 5, kind: 'setup' }),
  migration({ vm: 'vm1', started_s: 10, ended_s: 20, kind: 'drs' }),
  // Refused at once: took no time, so no request can have felt it.
  migration({ vm: 'vm1', started_s: 40, ended_s: 40, kind: 'drs', status: 'failed' }),
  migration({ vm: 'vm2', started_s: 30, ended_s: 50, kind: 'maintenance' }),
  migration({ vm: 'vm2', started_s: 60, ended_s: 70, kind: 'script' }),
  migration({ vm: 'vm2', started_s: 80, ended_s: 85, kind: 'maintenance', status: 'failed' }),
];

/** Latencies all differ, so that a request put in the wrong phase moves a percentile. */
const REQUESTS: RequestRecord[] = [
  request({ server: 'vm1', sent_s: 1, received_s: 3, latency_ms: 2000 }),
  request({ server: 'vm1', sent_s: 9, received_s: 11, latency_ms: 2100 }),
  request({ server: 'vm1', sent_s: 12, received_s: 13, latency_ms: 1200 }),
  request({ server: 'vm1', sent_s: 20, received_s: 22, latency_ms: 2050 }),
  request({ server: 'vm1', sent_s: 39, received_s: 41, latency_ms: 1990 }),
  request({ server: 'vm1', sent_s: 31, received_s: 33, latency_ms: 2010 }),
  request({ server: 'vm2', sent_s: 29, received_s: 31, latency_ms: 2300 }),
  request({ server: 'vm2', sent_s: 45, received_s: 46, latency_ms: 1400 }),
  request({ server: 'vm2', sent_s: 61, received_s: 63, latency_ms: 2020 }),
  request({ server: 'vm2', sent_s: 84, received_s: 90, latency_ms: 6500 }),
  request({ server: 'vm2', sent_s: 35, received_s: 36, latency_ms: 900, status: 'error' }),
  request({ server: '', sent_s: 1, received_s: 2, latency_ms: 800, status: 'error' }),
];

function sample(time_s: number, host: string, counter: string, value: number): SampleRecord {
  return { time_s, host, counter, value, unit: counter.startsWith('power') ? 'W' : 'MHz' };
}

const CPU = 'cpu.usagemhz.average';
const POWER = 'power.power.average';

/** h3 is in maintenance from 30 s to 60 s; an interrupted action put nothing in maintenance. */
const ACTIONS: ActionRecord[] = [
  { scheduled_s: 30, fired_s: 30, action: 'maintenance', args: 'enter h3', postponed_ms: 0, status: 'fired', line: 3 },
  { scheduled_s: 35, fired_s: 35, action: 'maintenance', args: 'enter h1', postponed_ms: 0, status: 'interrupted', line: 4 },
  { scheduled_s: 60, fired_s: 60, action: 'maintenance', args: 'exit h3', postponed_ms: 0, status: 'fired', line: 5 },
];

const CPU_SAMPLES: SampleRecord[] = [
  // Loads 0.5, 0.5, 0.5: spread 0.
  sample(10, 'h1', CPU, 500),
  sample(10, 'h2', CPU, 500),
  sample(10, 'h3', CPU, 1000),
  // Loads 1, 0, 0.5: spread sqrt((0.25 + 0.25 + 0) / 3).
  sample(20, 'h1', CPU, 1000),
  sample(20, 'h2', CPU, 0),
  sample(20, 'h3', CPU, 1000),
  // h3 in maintenance, h9 of unknown capacity: loads 1, 0, spread 0.5.
  sample(40, 'h1', CPU, 1000),
  sample(40, 'h2', CPU, 0),
  sample(40, 'h3', CPU, 0),
  sample(40, 'h9', CPU, 5000),
  sample(40, 'h1', 'mem.consumed.average', 123456),
];
const EXPECTED_SPREAD = (0 + Math.sqrt(0.5 / 3) + 0.5) / 3;

const POWER_SAMPLES: SampleRecord[] = [
  // h1: 100 W over [0, 10], 200 W over [10, 20], 100 W over [20, 40]: 5000 J.
  sample(10, 'h1', POWER, 100),
  sample(20, 'h1', POWER, 200),
  sample(40, 'h1', POWER, 100),
  // h2: 50 W over [0, 10] and [10, 40]: 2000 J.
  sample(10, 'h2', POWER, 50),
  sample(40, 'h2', POWER, 50),
];
const EXPECTED_WH = 7000 / 3600;

const DECISIONS = [
  decision({ time_s: 0, outcome: 'none', vm: '', source: '', target: '', spread: 0.2 }),
  decision({ time_s: 10, vm: 'vm1', spread: 0.4 }),
  decision({ time_s: 10, vm: 'vm2', spread: 0.3 }),
  decision({ time_s: 30, policy: 'maintenance', vm: 'vm2', source: 'h3', target: 'h1', spread: null }),
  decision({ time_s: 50, policy: 'maintenance', outcome: 'done', vm: '', source: 'h3', target: '', spread: null }),
  decision({ time_s: 80, policy: 'maintenance', outcome: 'failed', vm: 'vm2', source: 'h3', target: '', spread: null }),
  decision({ time_s: 300, outcome: 'none', vm: '', source: '', target: '', spread: 0.1 }),
];

const POLICY_RUN: RunContents = {
  info: { tool: 'vm-monitoring', script: { path: 'policy.txt' }, policy: { host_cpu_mhz: { h1: 1000, h2: 1000, h3: 2000 } } },
  samples: [...CPU_SAMPLES, ...POWER_SAMPLES],
  actions: ACTIONS,
  migrations: MIGRATIONS,
  requests: REQUESTS,
  decisions: DECISIONS,
};

/** The rule, written out again: the request's [sent, received] overlaps a policy migration of its server that took time. */
function duringPolicyMigration(r: RequestRecord, migrations: readonly MigrationRow[]): boolean {
  return migrations.some(
    (m) => POLICY_KINDS.includes(m.kind) && m.vm === r.server && m.ended_s > m.started_s && r.sent_s < m.ended_s && r.received_s > m.started_s,
  );
}

/** The smallest value that at least p % of the values do not exceed. */
function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

async function reportOf(dir: string, runs: Record<string, RunContents>): Promise<string> {
  for (const [name, contents] of Object.entries(runs)) writeRun(path.join(dir, name), contents);
  const out = path.join(dir, 'report');
  await buildReport(Object.keys(runs).map((name) => ({ dir: path.join(dir, name), label: name })), { outDir: out, host: undefined });
  return out;
}

function policyRows(out: string): { header: string[]; rows: Record<string, string>[] } {
  return readCsvFile(path.join(out, 'placement-policy.csv'));
}

function assertNear(actual: string | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && actual !== '' && Math.abs(Number(actual) - expected) <= 0.0005, `${what}: ${actual} ≠ ${expected}`);
}

/** The markers of one set in a line chart: each a circle or polygon inside its group. */
function markerCount(svg: string, name: string): number {
  const group = new RegExp(`<g class="markers" data-series="${name}">(.*?)</g>`).exec(svg);
  assert.ok(group, `a marker group for ${name}`);
  return (group[1]?.match(/<(circle|polygon) /g) ?? []).length;
}

describe('report: the placement policy table', () => {
  it('counts migrations by kind, succeeded and failed, and the decisions: move and none', () =>
    withTempDir(async (dir) => {
      const [row] = policyRows(await reportOf(dir, { policy: POLICY_RUN })).rows;
      assert.ok(row);
      for (const kind of ['script', 'drs', 'maintenance', 'dpm']) {
        const ofKind = MIGRATIONS.filter((m) => m.kind === kind);
        const failed = ofKind.filter((m) => m.status !== 'succeeded').length;
        assert.deepEqual([row[`${kind} succeeded`], row[`${kind} failed`]], [String(ofKind.length - failed), String(failed)], kind);
      }
      assert.deepEqual([row['drs succeeded'], row['drs failed'], row['maintenance failed']], ['1', '1', '1']);
      assert.equal(row.decisions, String(DECISIONS.length));
      assert.equal(row.moves, '3');
      assert.equal(row['no move'], '2');
    }));

  it('splits latency by overlap with a policy migration of the serving VM: percentiles and counts', () =>
    withTempDir(async (dir) => {
      const [row] = policyRows(await reportOf(dir, { policy: POLICY_RUN })).rows;
      assert.ok(row);
      const ok = REQUESTS.filter((r) => r.status === 'ok');
      const during = ok.filter((r) => duringPolicyMigration(r, MIGRATIONS)).map((r) => r.latency_ms);
      const outside = ok.filter((r) => !duringPolicyMigration(r, MIGRATIONS)).map((r) => r.latency_ms);
      // vm1 over its drs move, vm2 over its maintenance moves (the failed one too); not the script's, not the one refused at once.
      assert.deepEqual(during, [2100, 1200, 2300, 1400, 6500]);
      assert.equal(row['responses during'], String(during.length));
      assert.equal(row['responses outside'], String(outside.length));
      for (const p of [50, 95, 99]) {
        assertNear(row[`p${p} during [ms]`], nearestRank(during, p), `p${p} during`);
        assertNear(row[`p${p} outside [ms]`], nearestRank(outside, p), `p${p} outside`);
      }
      assert.equal(row['p50 during [ms]'], '2100');
      assert.equal(row['p50 outside [ms]'], '2010');
    }));

  it('divides responses by server-seconds during and outside the policy migrations, as Table 2', () =>
    withTempDir(async (dir) => {
      const [row] = policyRows(await reportOf(dir, { policy: POLICY_RUN })).rows;
      // vm1 serves over [1, 41], 10 s of it in its drs move; vm2 over [29, 90], 20 + 5 s of it in its maintenance moves.
      assertNear(row?.['responses/s during'], 5 / (10 + 25), 'responses/s during');
      assertNear(row?.['responses/s outside'], 5 / (30 + 36), 'responses/s outside');
    }));

  it('averages the spread of host load at each sample, hosts in maintenance and of unknown capacity left out', () =>
    withTempDir(async (dir) => {
      const [row] = policyRows(await reportOf(dir, { policy: POLICY_RUN })).rows;
      assertNear(row?.['average spread'], EXPECTED_SPREAD, 'average spread');
    }));

  it('integrates the hosts\' power samples into energy, and has no energy column without them', () =>
    withTempDir(async (dir) => {
      const withoutPower = { ...POLICY_RUN, samples: CPU_SAMPLES };
      const table = policyRows(await reportOf(dir, { policy: POLICY_RUN, 'no-power': withoutPower }));
      assert.deepEqual(table.rows.map((row) => row.run), ['policy', 'no-power']);
      assertNear(table.rows[0]?.['energy [Wh]'], EXPECTED_WH, 'energy');
      assert.equal(table.rows[1]?.['energy [Wh]'], '', 'a run without power samples has no energy');
    }));

  it('has no energy column when no run has power samples', () =>
    withTempDir(async (dir) => {
      const { header } = policyRows(await reportOf(dir, { policy: { ...POLICY_RUN, samples: CPU_SAMPLES } }));
      assert.ok(header.includes('average spread'), header.join(', '));
      assert.ok(!header.some((column) => column.startsWith('energy')), header.join(', '));
    }));

  it('is in Markdown and in the page, with its caption', () =>
    withTempDir(async (dir) => {
      const out = await reportOf(dir, { policy: POLICY_RUN });
      const md = fs.readFileSync(path.join(out, 'placement-policy.md'), 'utf8');
      assert.match(md, /^## Placement policy: what its moves cost\n/);
      assert.match(md, /^\| policy \| 1 \| 0 \| 1 \| 1 \| 1 \| 1 \| 0 \| 0 \| 7 \| 3 \| 2 \|/m);
      const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
      assert.match(html, /<section id="placement-policy"><h2>Placement policy: what its moves cost<\/h2>/);
      assert.match(html, /<section id="policy-spread-policy">/);
    }));

  it('takes a run with policy migrations but no decisions.csv as a policy run, with no decisions', () =>
    withTempDir(async (dir) => {
      const [row] = policyRows(await reportOf(dir, { policy: { ...POLICY_RUN, decisions: undefined } })).rows;
      assert.deepEqual([row?.['drs succeeded'], row?.decisions, row?.moves], ['1', '0', '0']);
    }));
});

describe('report: the placement policy figure', () => {
  it('charts the spread with a marker per move of each policy, as well-formed SVG and a PNG of its size', () =>
    withTempDir(async (dir) => {
      const out = await reportOf(dir, { policy: POLICY_RUN });
      const svg = fs.readFileSync(path.join(out, 'policy-spread-policy.svg'), 'utf8');
      assert.equal(XMLValidator.validate(svg), true);
      assert.equal(markerCount(svg, 'drs move'), DECISIONS.filter((d) => d.policy === 'drs' && d.outcome === 'move').length);
      assert.equal(markerCount(svg, 'maintenance move'), 1);
      assert.doesNotMatch(svg, /data-series="dpm move"/, 'no marker set for a policy that moved nothing');
      assert.match(svg, /<path data-series="spread at each sample" /);
      assert.match(svg, /<path data-series="spread the policy saw" /);
      assert.deepEqual(pngSize(fs.readFileSync(path.join(out, 'policy-spread-policy.png'))), svgSize(svg));
    }));
});

describe('report: a run without a placement policy', () => {
  it('gets no policy table, figure or page section, beside a run that has them', () =>
    withTempDir(async (dir) => {
      const seedRun: RunContents = {
        samples: CPU_SAMPLES,
        migrations: [migration({ vm: 'vm1', started_s: 10, ended_s: 20 })],
        requests: REQUESTS.filter((r) => r.server === 'vm1'),
      };
      const alone = await reportOf(path.join(dir, 'alone'), { seed: seedRun });
      const files = fs.readdirSync(alone);
      assert.ok(files.includes('migration-time.md') && files.includes('timeline-seed.svg'), files.join(', '));
      assert.ok(!files.some((name) => name.startsWith('placement-policy') || name.startsWith('policy-spread')), files.join(', '));
      assert.doesNotMatch(fs.readFileSync(path.join(alone, 'report.html'), 'utf8'), /placement-policy|policy-spread|Placement policy/);

      const both = await reportOf(path.join(dir, 'both'), { seed: seedRun, policy: POLICY_RUN });
      assert.deepEqual(policyRows(both).rows.map((row) => row.run), ['policy']);
      assert.ok(!fs.existsSync(path.join(both, 'policy-spread-seed.svg')));
      assert.ok(fs.existsSync(path.join(both, 'policy-spread-policy.svg')));
    }));
});
