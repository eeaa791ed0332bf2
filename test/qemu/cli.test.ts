/**
 * `run --platform qemu` through the real CLI, as a user types it: on a lab brought up with
 * `lab up` (which stays up after the run, until `lab down`), and with no lab up (the run
 * brings one up from the script's placement line and takes it down). stdout is pure CSV,
 * the logs go to stderr, the run directory is complete, and nothing of the lab is left.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { readState, type LabState, type ProcessRecord } from '../../src/platforms/qemu/lab-state.ts';
import { isRunning } from '../../src/platforms/qemu/processes.ts';
import { STDOUT_COLUMNS } from '../../src/record/stdout-csv.ts';
import { parseCsv, readCsvFile, runCli, writeScript, type CliResult } from '../support/cli.ts';
import { assertNothingLeft, watchLabProcesses } from './support/lab-leftovers.ts';
import { labSkipReason } from './support/lab-requirements.ts';
import { assertIntact, assertMigrationDetails } from './support/run-on-qemu.ts';

const skip = labSkipReason();
const { after, describe, it } = needing(skip);

/** Booting TCG guests on a busy 2-core machine can take minutes: the CLI gets all the time it needs. */
const CLI_TIMEOUT_MS = 900_000;

const SCRIPT = ['# one cpu client while vm01 moves to esx2', 'esx1:vm01 esx2:', '0 add-client cpu 1', '2 migrate vm01 esx2', '2 end'];
const RUN_FILES = ['run.json', 'samples.csv', 'actions.csv', 'migrations.csv', 'requests.csv', 'migration-details.jsonl'];

function detail(result: CliResult): string {
  return `exit ${result.code}${result.signal ? ` (${result.signal})` : ''}\nstderr: ${result.stderr}\nstdout: ${result.stdout.slice(0, 500)}`;
}

/** stdout is the header and then rows of samples, actions and migrations, nothing else; returns the rows by column. */
function assertPureCsv(stdout: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(stdout);
  assert.deepEqual(header, [...STDOUT_COLUMNS], 'the first line of stdout is the CSV header');
  rows.forEach((row, i) => assert.equal(row.length, STDOUT_COLUMNS.length, `stdout row ${i + 2} has the header's width: ${row.join(',')}`));
  const records = rows.map((row) => Object.fromEntries(STDOUT_COLUMNS.map((column, i) => [column, row[i] as string])));
  for (const kind of ['sample', 'action', 'migration']) assert.ok(records.some((r) => r.record === kind), `stdout has ${kind} rows`);
  assert.ok(records.every((r) => ['sample', 'action', 'migration'].includes(r.record as string)), 'only sample, action and migration rows');
  return records;
}

/** The run directory of SCRIPT is complete, agrees with stdout, and run.json says what ran where. */
function assertRunDirectory(out: string, stdoutRows: Record<string, string>[], lab: { owned: boolean }): void {
  for (const file of RUN_FILES) assert.ok(fs.existsSync(path.join(out, file)), `the run directory has ${file}`);
  const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as {
    status: string;
    ended_at?: string;
    script: { text: string };
    platform: { name: string; lab: { accelerator: string; accelerator_note: string; owned_by_this_run: boolean } };
  };
  assert.equal(runJson.status, 'completed');
  assert.equal(typeof runJson.ended_at, 'string', 'run.json was completed at the end');
  assert.equal(runJson.script.text, `${SCRIPT.join('\n')}\n`);
  assert.equal(runJson.platform.name, 'qemu');
  assert.equal(runJson.platform.lab.accelerator, 'tcg', 'run.json records the accelerator');
  assert.equal(runJson.platform.lab.accelerator_note, 'configured');
  assert.equal(runJson.platform.lab.owned_by_this_run, lab.owned);

  const actions = readCsvFile(path.join(out, 'actions.csv')).rows;
  assert.deepEqual(actions.map((a) => [a.action, a.args, a.status]), [['add-client', 'cpu 1', 'fired'], ['migrate', 'vm01 esx2', 'fired'], ['end', '', 'fired']]);
  const migrations = readCsvFile(path.join(out, 'migrations.csv')).rows;
  assert.deepEqual(migrations.map((m) => [m.vm, m.source, m.target, m.status, m.kind]), [['vm01', 'esx1', 'esx2', 'succeeded', 'script']]);
  assertMigrationDetails(out);
  const requests = readCsvFile(path.join(out, 'requests.csv')).rows;
  assert.ok(requests.length > 0, 'the cpu client made requests');
  assert.deepEqual(requests.filter((r) => r.status !== 'ok' || r.server !== 'vm01' || r.client_type !== 'cpu'), [], 'every request answered by vm01');
  const intact = assertIntact(out);
  assert.equal(intact.checkedRequests, requests.length, 'every answer checked its digits, none corrupt');
  assert.ok((intact.checkedPerMigration[0] ?? 0) > 0, `answers checked across the migration: ${intact.checkedPerMigration.join(' ')}`);
  const samples = readCsvFile(path.join(out, 'samples.csv')).rows;
  assert.deepEqual([...new Set(samples.map((s) => s.host))].sort(), ['esx1', 'esx2'], 'both hosts sampled');

  // stdout and the run directory tell the same run.
  assert.equal(stdoutRows.filter((r) => r.record === 'sample').length, samples.length, 'every sample on stdout and in samples.csv');
  assert.equal(stdoutRows.filter((r) => r.record === 'action').length, actions.length);
  const stdoutMigrations = stdoutRows.filter((r) => r.record === 'migration');
  assert.deepEqual(
    stdoutMigrations.map((r) => [r.host, r.vm, r.target, r.bytes, r.passes, r.downtime_ms, r.status]),
    migrations.map((m) => [m.source, m.vm, m.target, m.bytes, m.passes, m.downtime_ms, m.status]),
  );
}

/** Counts of the kinds of processes seen. */
function kinds(processes: readonly ProcessRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of processes) counts[record.kind] = (counts[record.kind] ?? 0) + 1;
  return counts;
}

describe('vm-monitoring run --platform qemu, through the CLI', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-cli-'));
  const labDirs: string[] = [];

  after(async () => {
    for (const dir of labDirs) await Lab.down(dir);
    fs.rmSync(base, { recursive: true, force: true });
  });

  function configFile(name: string): { path: string; labDir: string } {
    const labDir = path.join(base, `lab-${name}`);
    labDirs.push(labDir);
    const file = path.join(base, `${name}.yaml`);
    fs.writeFileSync(file, [`labDir: ${labDir}`, 'accelerator: tcg', 'load: { requestTimeoutSeconds: 60 }', 'probe: { settleSeconds: 10 }', ''].join('\n'));
    return { path: file, labDir };
  }

  it('runs on the lab `lab up` brought up, which stays up until `lab down` leaves nothing', async () => {
    const config = configFile('up');
    const watch = watchLabProcesses(config.labDir);
    let seen: ProcessRecord[];
    try {
      const up = await runCli(['lab', 'up', '--hosts', '2', '--vms', '1', '--config', config.path], { timeoutMs: CLI_TIMEOUT_MS });
      assert.equal(up.code, 0, detail(up));
      assert.match(up.stdout, /^lab up in .*\n[^]* {2}esx1:\n {4}vm01 10\.77\.0\.11 pid \d+ running\n {2}esx2:\n$/);
      assert.match(up.stderr, /^lab: accelerator tcg: configured$/m);

      const script = writeScript(base, 'on-lab.txt', SCRIPT);
      const out = path.join(base, 'run-on-lab');
      const run = await runCli(['run', script, '--platform', 'qemu', '--config', config.path, '--out', out], { timeoutMs: CLI_TIMEOUT_MS });
      assert.equal(run.code, 0, detail(run));
      assertRunDirectory(out, assertPureCsv(run.stdout), { owned: false });
      assert.match(run.stderr, new RegExp(`^completed: 1 migrations, \\d+ requests, [\\d.]+ s of experiment in [\\d.]+ s; records in ${out}$`, 'm'));
      assert.doesNotMatch(run.stderr, /time_s,record/, 'no CSV on stderr');
      assert.doesNotMatch(run.stderr, /^lab: /m, 'the run used the lab that was up: no lab brought up or down');

      // The lab is still up, the VM where the run left it, ready for the next command.
      const state = readState(config.labDir) as LabState;
      assert.equal(state.status, 'up');
      assert.deepEqual(state.vms.map((vm) => [vm.name, vm.host]), [['vm01', 'esx2']]);
      assert.ok(state.processes.every(isRunning), 'every process of the lab runs');
      const status = await runCli(['lab', 'status', '--config', config.path], { timeoutMs: 120_000 });
      assert.equal(status.code, 0, detail(status));
      assert.match(status.stdout, / {2}esx1:\n {2}esx2:\n {4}vm01 10\.77\.0\.11 pid \d+ running\n/);

      const down = await runCli(['lab', 'down', '--config', config.path], { timeoutMs: 120_000 });
      assert.equal(down.code, 0, detail(down));
      assert.match(down.stdout, /is down: 2 processes ended, namespace deleted, \d+ files removed\n$/);
    } finally {
      seen = watch.stop();
    }
    assert.deepEqual(kinds(seen), { haproxy: 1, qemu: 2 }, 'HAProxy, the VM\'s first QEMU and its migration target');
    assertNothingLeft(config.labDir, seen);
  });

  it('brings a lab up from the placement line when none is up, and takes it down at the end', async () => {
    const config = configFile('owned');
    const watch = watchLabProcesses(config.labDir);
    let seen: ProcessRecord[];
    try {
      const script = writeScript(base, 'owned.txt', SCRIPT);
      const out = path.join(base, 'run-owned');
      const run = await runCli(['run', script, '--platform', 'qemu', '--config', config.path, '--out', out], { timeoutMs: CLI_TIMEOUT_MS });
      assert.equal(run.code, 0, detail(run));
      assertRunDirectory(out, assertPureCsv(run.stdout), { owned: true });
      assert.match(run.stderr, new RegExp(`^lab: no lab is up in ${config.labDir}: bringing one up from the script's placement line \\(taken down at the end\\)$`, 'm'));
      assert.match(run.stderr, /^lab: vm01 up on esx1 after [\d.]+ s \(pid \d+\)$/m);
      assert.match(run.stderr, /^completed: 1 migrations, /m);
      assert.match(run.stderr, /^lab: lab down: ended 2 processes, deleted namespace vmmon-[0-9a-f]+$/m);
      assert.ok(run.stderr.indexOf('completed: ') < run.stderr.indexOf('lab: lab down'), 'taken down after the run');
      assert.doesNotMatch(run.stderr, /time_s,record/, 'no CSV on stderr');
    } finally {
      seen = watch.stop();
    }
    assert.deepEqual(kinds(seen), { haproxy: 1, qemu: 2 });
    assertNothingLeft(config.labDir, seen);
  });
});
