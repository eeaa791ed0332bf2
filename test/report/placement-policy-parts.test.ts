/** The pieces of the report's placement policy section, one at a time. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import type { ActionRecord, DecisionRecord, SampleRecord } from '../../src/record/records.ts';
import { renderLineChart } from '../../src/report/charts/line-chart.ts';
import { TITLE_BAND } from '../../src/report/charts/style.ts';
import { HostEnergy } from '../../src/report/host-energy.ts';
import { HostsLeftOut } from '../../src/report/hosts-left-out.ts';
import { IntegritySummary } from '../../src/report/integrity-summary.ts';
import { readFlaggedMigrations } from '../../src/report/read-migration-details.ts';
import { readDecisions, readMigrations } from '../../src/report/read-run.ts';
import { percentiles, populationStd } from '../../src/report/statistics.ts';
import { withTempDir } from '../support/cli.ts';
import { decision, migration, request, writeRun } from './run-fixture.ts';
import { texts } from './svg-helpers.ts';

function maintenanceAction(fired_s: number, args: string, status: ActionRecord['status'] = 'fired'): ActionRecord {
  return { scheduled_s: fired_s, fired_s, action: 'maintenance', args, postponed_ms: 0, status, line: 1 };
}

function power(time_s: number, host: string, value: number): SampleRecord {
  return { time_s, host, counter: 'power.power.average', value, unit: 'W' };
}

describe('percentiles and the population standard deviation', () => {
  it('takes the nearest rank: the smallest value at least p % of them do not exceed', () => {
    const values = [7, 3, 10, 1, 5, 9, 2, 8, 4, 6];
    assert.deepEqual(percentiles(values, [50, 95, 99, 10, 100]), [5, 10, 10, 1, 10]);
    // 7 % of 100 values is exactly the 7th: p × n / 100 has no rounding error to push it to the 8th.
    assert.deepEqual(percentiles(Array.from({ length: 100 }, (_, i) => i + 1), [7, 57]), [7, 57]);
    assert.deepEqual(percentiles([], [50]), [null]);
  });

  it('divides by n, not n - 1', () => {
    assert.equal(populationStd([1, 0, 0.5]), Math.sqrt(0.5 / 3));
    assert.equal(populationStd([4]), 0);
    assert.equal(populationStd([]), null);
  });
});

describe('HostsLeftOut', () => {
  it('in maintenance from the fired enter up to the exit; an interrupted action changes nothing; no exit is for good', () => {
    const hosts = new HostsLeftOut([
      maintenanceAction(60, 'exit h1'),
      maintenanceAction(30, 'enter h1'),
      maintenanceAction(40, 'enter h2', 'interrupted'),
      maintenanceAction(50, 'enter h3'),
    ], []);
    assert.deepEqual([29.9, 30, 59.9, 60].map((t) => hosts.has('h1', t)), [false, true, true, false]);
    assert.equal(hosts.has('h2', 45), false);
    assert.deepEqual([49, 50, 1e6].map((t) => hosts.has('h3', t)), [false, true, true]);
  });

  it('not powered on from DPM\'s power-off up to its done, or its failed naming no VM; a VM with nowhere to go keeps it out', () => {
    const dpm = (time_s: number, outcome: DecisionRecord['outcome'], source: string, vm = ''): DecisionRecord =>
      decision({ time_s, policy: 'dpm', outcome, source, vm, target: '', spread: null });
    const hosts = new HostsLeftOut([], [
      dpm(100, 'power-off', 'h1'),
      dpm(160, 'standby', 'h1'),
      dpm(500, 'power-on', 'h1'),
      dpm(680, 'done', 'h1'),
      dpm(100, 'power-off', 'h2'),
      dpm(110, 'failed', 'h2', 'vm9'),
      dpm(150, 'failed', 'h2'),
      decision({ time_s: 200, policy: 'maintenance', outcome: 'done', source: 'h3', vm: '' }),
    ]);
    assert.deepEqual([99, 100, 160, 500, 679, 680].map((t) => hosts.has('h1', t)), [false, true, true, true, true, false]);
    assert.deepEqual([100, 120, 150].map((t) => hosts.has('h2', t)), [true, true, false]);
    assert.equal(hosts.has('h3', 300), false);
  });

  it('keeps each cause apart: leaving maintenance does not bring back a host DPM powered off', () => {
    const hosts = new HostsLeftOut(
      [maintenanceAction(10, 'enter h1'), maintenanceAction(30, 'exit h1')],
      [decision({ time_s: 20, policy: 'dpm', outcome: 'power-off', source: 'h1', vm: '', spread: null })],
    );
    assert.deepEqual([15, 25, 35].map((t) => hosts.has('h1', t)), [true, true, true]);
  });
});

describe('HostEnergy', () => {
  it("integrates each host's power over the interval since its previous sample, the first since 0", () => {
    const energy = new HostEnergy();
    for (const sample of [power(20, 'h1', 360), power(20, 'h2', 180), power(30, 'h1', 720), power(60, 'h2', 90)]) energy.add(sample);
    energy.add({ time_s: 60, host: 'h1', counter: 'cpu.usagemhz.average', value: 1e6, unit: 'MHz' });
    // h1: 360 W × 20 s + 720 W × 10 s; h2: 180 W × 20 s + 90 W × 40 s.
    assert.equal(energy.wattHours(), (7200 + 7200 + 3600 + 3600) / 3600);
  });

  it('says nothing without power samples', () => {
    const energy = new HostEnergy();
    energy.add({ time_s: 10, host: 'h1', counter: 'cpu.usagemhz.average', value: 100, unit: 'MHz' });
    assert.equal(energy.wattHours(), null);
  });
});

describe('reading a policy run', () => {
  it('reads decisions.csv with its empty level and spread as null; undefined without the file', () =>
    withTempDir(async (dir) => {
      writeRun(dir, {});
      assert.equal(await readDecisions(dir), undefined);
      const rows = [decision({ time_s: 1 }), decision({ time_s: 2, policy: 'maintenance', level: null, spread: null, outcome: 'done', vm: '' })];
      writeRun(dir, { decisions: rows });
      assert.deepEqual(await readDecisions(dir), rows);
    }));

  it('a bad outcome in decisions.csv names the file, line and column', () =>
    withTempDir(async (dir) => {
      writeRun(dir, { decisions: [decision({}), decision({ time_s: 5 })] });
      const file = path.join(dir, 'decisions.csv');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('5,drs,3,host1=1.000 host2=0.000,0.5,move', '5,drs,3,host1=1.000 host2=0.000,0.5,maybe'));
      const error = await readDecisions(dir).then(
        () => assert.fail('a bad outcome is an error'),
        (thrown: unknown) => thrown,
      );
      assert.ok(error instanceof InputError);
      assert.match(error.toOneLine(), new RegExp(`^${file}:3:\\d+: bad value 'maybe' in column outcome`));
    }));

  it('reads migrations of every kind the policy starts', () =>
    withTempDir(async (dir) => {
      const kinds = ['drs', 'maintenance', 'dpm'] as const;
      writeRun(dir, { migrations: kinds.map((kind) => migration({ kind })) });
      assert.deepEqual((await readMigrations(dir)).map((m) => m.kind), kinds);
    }));

  it("matches a flagged policy migration of migration-details.jsonl to its row, so that it counts once", () =>
    withTempDir(async (dir) => {
      const drs = migration({ kind: 'drs', started_s: 10, ended_s: 20 });
      const line = { vm: 'vm1', source: 'host1', target: 'host2', requested_s: 10, kind: 'drs', status: 'succeeded', integrity: { flagged: true } };
      fs.writeFileSync(path.join(dir, 'migration-details.jsonl'), `${JSON.stringify(line)}\n`);
      const summary = new IntegritySummary([drs], await readFlaggedMigrations(dir));
      summary.add(request({ sent_s: 12, received_s: 13, status: 'corrupt', corrupt_words: 1 }));
      assert.equal(summary.result().flaggedMigrations, 1);
    }));
});

describe('renderLineChart: markers', () => {
  it('draws each set in a group of its own, with a legend entry, inside the axes even above every line', () => {
    const svg = renderLineChart({
      title: 'spread',
      xLabel: 'time [s]',
      yLabel: 'spread',
      series: [{ name: 'line', points: [[0, 0.1], [100, 0.2]] }],
      markers: [
        { name: 'drs move', points: [[10, 0.9], [20, 0.5]] },
        { name: 'maintenance move', points: [[200, 0.1]] },
      ],
    });
    const drs = /<g class="markers" data-series="drs move">(.*?)<\/g>/.exec(svg)?.[1] ?? '';
    const circles = [...drs.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((match) => [Number(match[1]), Number(match[2])]);
    assert.equal(circles.length, 2);
    assert.match(svg, /<g class="markers" data-series="maintenance move"><polygon /);
    assert.ok(texts(svg).includes('drs move') && texts(svg).includes('maintenance move'), texts(svg).join(' / '));
    // The axes reach the markers: the top tick is at least 0.9, the last x tick at least 200.
    const yTicks = [...svg.matchAll(/<g class="y-axis-left"[^]*?<\/g>/g)].flatMap((axis) => [...axis[0].matchAll(/>(-?[\d.]+)<\/text>/g)].map((m) => Number(m[1])));
    assert.ok(Math.max(...yTicks) >= 0.9, `y ticks ${yTicks.join(', ')}`);
    assert.ok(texts(svg).some((text) => Number(text.replace(/\s/g, '')) >= 200), texts(svg).join(' / '));
    assert.ok(circles.every(([, cy = -1]) => cy >= TITLE_BAND), `the markers are below the title band: ${circles.join(' ')}`);
  });
});
