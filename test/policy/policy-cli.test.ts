/** `vm-monitoring run` with policy actions and `--policy FILE`, through the CLI as a user runs it. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DECISION_COLUMNS } from '../../src/record/columns.ts';
import { DEFAULT_POLICY_CONFIG, loadPolicyConfig } from '../../src/policy/policy-config.ts';
import { assertBadInput, parseCsv, readCsvFile, REPO_ROOT, runCli, withTempDir, writeScript } from '../support/cli.ts';

const DRS_SCRIPT = ['esx1:vm1,vm2,vm3 esx2:', '0 add-client cpu 3', '0 drs 4', '1200 end'];

describe('vm-monitoring run with a placement policy', { concurrency: 2 }, () => {
  it('writes decisions.csv, decision rows on stdout, drs migrations, and the policy in run.json', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'drs.txt', DRS_SCRIPT);
      const policy = path.join(tmp, 'policy.yaml');
      fs.writeFileSync(policy, 'drs:\n  cycleSeconds: 120\n');
      const out = path.join(tmp, 'run');
      const result = await runCli(['run', script, '--policy', policy, '--out', out]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /completed: 0 migrations, \d+ by the placement policy/);
      const decisions = readCsvFile(path.join(out, 'decisions.csv'));
      assert.deepEqual(decisions.header, [...DECISION_COLUMNS]);
      assert.deepEqual(decisions.rows.map((row) => Number(row.time_s)), Array.from({ length: 10 }, (_, i) => i * 120), 'a decision per 2-minute cycle');
      const moves = decisions.rows.filter((row) => row.outcome === 'move');
      assert.ok(moves.length >= 1 && moves.every((row) => row.policy === 'drs' && row.level === '4' && row.source === 'esx1' && row.target === 'esx2'));
      const migrations = readCsvFile(path.join(out, 'migrations.csv')).rows;
      assert.deepEqual(migrations.map((m) => m.kind), moves.map(() => 'drs'));
      const stdoutDecisions = parseCsv(result.stdout).filter((row) => row[1] === 'decision');
      assert.equal(stdoutDecisions.length, decisions.rows.length, 'stdout carries what the file does');
      const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { policy: { drs: { cycleSeconds: number }; host_cpu_mhz: Record<string, number> } };
      assert.equal(runJson.policy.drs.cycleSeconds, 120);
      assert.deepEqual(runJson.policy.host_cpu_mhz, { esx1: 7600, esx2: 7600 });
      const power = readCsvFile(path.join(out, 'samples.csv')).rows.filter((row) => row.counter === 'power.power.average');
      assert.ok(power.length > 0 && power.every((row) => row.unit === 'W' && Number(row.value) >= 160), 'the sim meters power in a policy run');
    }));

  it('writes no decisions.csv for a script without policy actions', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'seed.txt', ['esx1:vm1 esx2:', '0 add-client cpu 1', '100 migrate vm1 esx2', '100 end']);
      const out = path.join(tmp, 'run');
      const result = await runCli(['run', script, '--out', out]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(fs.existsSync(path.join(out, 'decisions.csv')), false);
      assert.deepEqual(readCsvFile(path.join(out, 'samples.csv')).rows.filter((row) => row.counter === 'power.power.average'), [], 'nor power rows: the seed\'s records as they were');
      assert.ok(!('policy' in (JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as object)));
    }));

  it('refuses a bad policy file with FILE:LINE:COL, before anything runs', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'drs.txt', DRS_SCRIPT);
      const policy = path.join(tmp, 'policy.yaml');
      fs.writeFileSync(policy, 'drs:\n  cycleSeconds: 300\n  holdDown: 10\n');
      const out = path.join(tmp, 'run');
      const line = assertBadInput(await runCli(['run', script, '--policy', policy, '--out', out]), 'unknown key');
      assert.match(line, new RegExp(`^vm-monitoring: ${policy.replaceAll('/', '\\/')}:3:3: .*holdDown`));
      assert.equal(fs.existsSync(out), false);
    }));

  it('refuses a bad DPM level at its line and column', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'dpm.txt', ['esx1:vm1 esx2:', '0 drs 3', '10 dpm 6', '10 end']);
      const line = assertBadInput(await runCli(['run', script, '--out', path.join(tmp, 'run')]), 'dpm');
      assert.match(line, /dpm\.txt:3:8: bad DPM level '6' \(expected 1 to 5 or off\)/);
    }));
});

describe('samples/drs/policy.yaml', () => {
  it('lists every parameter at its default', () => {
    assert.deepEqual(loadPolicyConfig(path.join(REPO_ROOT, 'samples/drs/policy.yaml')), DEFAULT_POLICY_CONFIG);
  });
});
