/**
 * `calibrate --app-cost`: a lab run's Table 2 against the sim running its script on the lab's
 * twin with the fitted or checked profile. Both sides are computed here from the records
 * (the lab's saved run, the twin run in this process), so that these tests hold while the
 * model changes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { appCostOf, withinTolerance, type AppCost } from '../../src/calibrate/app-cost.ts';
import { loadSimConfig } from '../../src/platforms/sim/config.ts';
import { PROFILES } from '../../src/platforms/sim/profiles.ts';
import { readMigrations, streamRequests } from '../../src/report/read-run.ts';
import { assertBadInput, readCsvFile, runCli, withTempDir, writeScript } from '../support/cli.ts';
import { runOnSim } from '../sim/run-on-sim.ts';

const LAB_RUNS = 'samples/qemu/runs-2026-12-02';
const TWIN = 'samples/qemu/sim.yaml';
const MEASURED = 'samples/calibrate/second-harness-2026-12-02/measured.csv';

async function labCost(run: string): Promise<AppCost> {
  const dir = `${LAB_RUNS}/${run}`;
  return appCostOf(await readMigrations(dir), (add) => streamRequests(dir, add));
}

/** The twin's run of a lab run's script, its migration parameters `migration` under the twin's own. */
async function twinCost(run: string, migration: object, twinPath = TWIN): Promise<AppCost> {
  const info = JSON.parse(fs.readFileSync(`${LAB_RUNS}/${run}/run.json`, 'utf8')) as { script: { text: string } };
  const twin = loadSimConfig(twinPath);
  const simRun = await runOnSim(info.script.text, { ...twin, migration: { ...PROFILES.qemu, ...migration, ...twin.migration } });
  return appCostOf(simRun.migrations, (add) => simRun.requests.forEach(add));
}

const close = (a: string | undefined, b: number | null): boolean => b !== null && Math.abs(Number(a) - b) < 0.001;

function assertRow(row: Record<string, string>, lab: AppCost, sim: AppCost): void {
  const run = row['lab run'];
  assert.ok(close(row['responses/s change (lab)'], lab.change.responsesPerSecond), `${run}: lab responses/s ${row['responses/s change (lab)']} vs ${lab.change.responsesPerSecond}`);
  assert.ok(close(row['responses/s change (sim)'], sim.change.responsesPerSecond), `${run}: sim responses/s ${row['responses/s change (sim)']} vs ${sim.change.responsesPerSecond}`);
  assert.ok(close(row['latency change (lab)'], lab.change.latencyMean), `${run}: lab latency`);
  assert.ok(close(row['latency change (sim)'], sim.change.latencyMean), `${run}: sim latency`);
  assert.equal(row['responses/s within'], withinTolerance(sim.change.responsesPerSecond, lab.change.responsesPerSecond) ? 'yes' : 'no');
  assert.equal(row['latency within'], withinTolerance(sim.change.latencyMean, lab.change.latencyMean) ? 'yes' : 'no');
  assert.equal(Number(row['migrations (lab)']), lab.migrations);
  assert.ok(close(row['migration (s, sim)'], sim.medianMigrationSeconds), `${run}: sim migration`);
  assert.ok(close(row['downtime (ms, lab)'], lab.medianDowntimeMs), `${run}: lab downtime`);
}

describe('calibrate --app-cost', () => {
  it('sets each lab run\'s Table 2 beside its twin\'s with the checked profile, in the report and on stderr', () =>
    withTempDir(async (dir) => {
      const out = path.join(dir, 'out');
      const result = await runCli(['calibrate', '--check', MEASURED, '--app-cost', `${LAB_RUNS}/3.3-cpu`, '--app-cost', `${LAB_RUNS}/3.3-memory`, '--out', out], { timeoutMs: 60_000 });
      assert.equal(result.code, 0, result.stderr);
      const { rows } = readCsvFile(path.join(out, 'calibration-app-cost.csv'));
      assert.deepEqual(rows.map((row) => [row['lab run'], row.load]), [['3.3-cpu', 'cpu'], ['3.3-memory', 'memory']]);
      for (const row of rows) {
        const run = row['lab run'] as string;
        const lab = await labCost(run);
        assert.ok(lab.migrations >= 20 && (lab.change.responsesPerSecond ?? 0) > 20, `${run}: the lab felt its ${lab.migrations} migrations`);
        assertRow(row, lab, await twinCost(run, PROFILES['qemu-lab']));
      }
      const lines = result.stderr.split('\n').filter((line) => line.startsWith('calibrate: application cost, '));
      assert.equal(lines.length, 2, result.stderr);
      assert.match(lines[0]!, /^calibrate: application cost, 3\.3-cpu \(cpu\): responses\/s \+\d+ % lab, \+\d+ % sim \((not )?within a quarter\); latency -\d+ % lab, -\d+ % sim/);
      assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /What migration costs the application: the lab against its sim twin/);
    }));

  it('runs the twin the --twin config describes, and the fitted profile in a calibration', () =>
    withTempDir(async (dir) => {
      // A twin whose guest nothing slows while it migrates: its cost must come out smaller than the lab twin's.
      const unslowed = writeScript(dir, 'unslowed.yaml', fs.readFileSync(TWIN, 'utf8').split('\n').map((line) => line.replace(/^(\s+(tracingSlowdown|fillSlowdown)): [\d.]+/, '$1: 0')));
      const out = path.join(dir, 'out');
      const args = ['calibrate', '--grid', 'samples/calibrate/grid.yaml', '--measured', 'samples/calibrate/measured-2026-11-25/measured.csv', '--searches', '1', '--population', '4', '--generations', '1'];
      const result = await runCli([...args, '--app-cost', `${LAB_RUNS}/3.3-cpu`, '--twin', unslowed, '--out', out], { timeoutMs: 120_000 });
      assert.equal(result.code, 0, result.stderr);
      const fitted = JSON.parse(fs.readFileSync(path.join(out, 'fitted-profile.json'), 'utf8')) as { migration: object };
      const [row] = readCsvFile(path.join(out, 'calibration-app-cost.csv')).rows;
      const sim = await twinCost('3.3-cpu', fitted.migration, unslowed);
      assertRow(row!, await labCost('3.3-cpu'), sim);
      const slowed = await twinCost('3.3-cpu', fitted.migration);
      assert.ok((sim.change.responsesPerSecond ?? Infinity) < (slowed.change.responsesPerSecond ?? -Infinity), `unslowed ${sim.change.responsesPerSecond} against ${slowed.change.responsesPerSecond}`);
    }));

  it('refuses a --twin without --app-cost, twins that do not pair, and a directory that is not a run, with exit 2', () =>
    withTempDir(async (dir) => {
      const check = ['calibrate', '--check', MEASURED];
      assert.match(assertBadInput(await runCli([...check, '--twin', TWIN]), 'twin alone'), /^vm-monitoring: --twin goes with --app-cost/);
      const unpaired = await runCli([...check, '--app-cost', `${LAB_RUNS}/3.3-cpu`, '--twin', TWIN, '--twin', TWIN, '--app-cost', `${LAB_RUNS}/3.3-memory`, '--app-cost', `${LAB_RUNS}/3.3-memory2`]);
      assert.match(assertBadInput(unpaired, 'two twins, three runs'), /^vm-monitoring: 2 --twin for 3 --app-cost/);
      const notARun = path.join(dir, 'not-a-run');
      fs.mkdirSync(notARun);
      assert.match(assertBadInput(await runCli([...check, '--app-cost', notARun]), 'not a run'), /run\.json: no such file \(is this a run directory\?\)$/);
      const noScript = path.join(dir, 'no-script');
      fs.mkdirSync(noScript);
      fs.writeFileSync(path.join(noScript, 'run.json'), '{"tool": "vm-monitoring"}\n');
      assert.match(assertBadInput(await runCli([...check, '--app-cost', noScript]), 'no script'), /run\.json: no script\.text: the run's script is needed to run its twin$/);
      const badTwin = writeScript(dir, 'bad.yaml', ['migration:', '  tracingSlowdown: lots']);
      assert.match(assertBadInput(await runCli([...check, '--app-cost', `${LAB_RUNS}/3.3-cpu`, '--twin', badTwin]), badTwin), /bad\.yaml:2:\d+: /);
    }));
});
