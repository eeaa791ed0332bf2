import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { STDOUT_COLUMNS, STDOUT_HEADER } from '../../src/record/stdout-csv.ts';
import { assertBadInput, parseCsv, readCsvFile, REPO_ROOT, runCli, withTempDir, writeScript } from '../support/cli.ts';

const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const CSV_FILES = ['samples.csv', 'actions.csv', 'migrations.csv', 'requests.csv'];

/** A short experiment: two migrations under memory2 load, a few hundred simulated seconds. */
const SMALL_SCRIPT = [
  '# a small run',
  'esx1:vm1,vm2 esx2:',
  '0 add-client memory2 4',
  '100 migrate vm1 esx2',
  '100 migrate vm2 esx2',
  '100 end',
];

function readRunJson(dir: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
}

describe('vm-monitoring CLI', { concurrency: 3 }, () => {
  it('runs a small valid script on the sim: CSV on stdout, run.json and four CSV files with rows', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'small.txt', SMALL_SCRIPT);
      const out = path.join(tmp, 'run');
      const result = await runCli(['run', script, '--out', out, '--interval', '5', '--seed', '7']);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /^\s+at /m);
      assert.doesNotMatch(result.stderr, /error/i);
      assert.match(result.stderr, /completed/);

      assert.ok(result.stdout.startsWith(STDOUT_HEADER), `stdout starts with the header: ${result.stdout.slice(0, 200)}`);
      const rows = parseCsv(result.stdout);
      assert.ok(rows.length > 10, 'stdout has rows after the header');
      rows.forEach((row, index) => assert.equal(row.length, STDOUT_COLUMNS.length, `stdout line ${index + 1}: ${row.join(',')}`));
      const times = rows.slice(1).map((row) => Number(row[0]));
      times.forEach((time, index) => assert.ok(index === 0 || time >= (times[index - 1] as number), `stdout rows in time order at line ${index + 2}`));

      const runInfo = readRunJson(out);
      assert.equal(runInfo.seed, 7);
      assert.equal(runInfo.status, 'completed');
      assert.equal(runInfo.interval_s, 5);
      assert.equal((runInfo.platform as { name?: unknown }).name, 'sim');

      const files = Object.fromEntries(CSV_FILES.map((file) => [file, readCsvFile(path.join(out, file))]));
      for (const file of CSV_FILES) assert.ok((files[file]?.rows.length ?? 0) > 0, `${file} has rows`);
      const actions = files['actions.csv']?.rows ?? [];
      assert.deepEqual(actions.map((a) => [a.action, a.fired_s, a.status]), [
        ['add-client', '0', 'fired'],
        ['migrate', '100', 'fired'],
        ['migrate', '200', 'fired'],
        ['end', '300', 'fired'],
      ]);
      const migrations = files['migrations.csv']?.rows ?? [];
      assert.deepEqual(migrations.map((m) => [m.vm, m.source, m.target, m.status, m.kind]), [
        ['vm1', 'esx1', 'esx2', 'succeeded', 'script'],
        ['vm2', 'esx1', 'esx2', 'succeeded', 'script'],
      ]);
      // stdout carries the same samples and migrations as the run directory.
      const stdoutKinds = rows.slice(1).map((row) => row[1]);
      assert.equal(stdoutKinds.filter((kind) => kind === 'migration').length, migrations.length);
      assert.equal(stdoutKinds.filter((kind) => kind === 'sample').length, files['samples.csv']?.rows.length);
    }));

  it('rejects an unknown action with one FILE:LINE:COL line, exit 2 and no run directory', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'bad.txt', ['esx1:vm1 esx2:', '0 frobnicate vm1']);
      const out = path.join(tmp, 'run');
      const line = assertBadInput(await runCli(['run', script, '--out', out]), 'unknown action');
      assert.ok(line.startsWith(`vm-monitoring: ${script}:2:3: `), line);
      assert.match(line, /unknown action 'frobnicate'/);
      assert.equal(fs.existsSync(out), false, 'no run directory');
    }));

  it('rejects a migrate to a host the platform does not have, pointing at the host', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'badhost.txt', ['esx1:vm1 esx2:', '0 add-client cpu 1', '5 migrate vm1 esx9']);
      const out = path.join(tmp, 'run');
      const line = assertBadInput(await runCli(['run', script, '--out', out]), 'unknown host');
      assert.ok(line.startsWith(`vm-monitoring: ${script}:3:15: `), line);
      assert.match(line, /esx9/);
      assert.equal(fs.existsSync(out), false, 'no run directory');
    }));

  const badFlags: { flags: string[]; mentions: string }[] = [
    { flags: ['--interval', '0'], mentions: '--interval' },
    { flags: ['--seed', '-1'], mentions: '--seed' },
    { flags: ['--max-migrations-per-host', 'x'], mentions: '--max-migrations-per-host' },
    { flags: ['--platform', 'nope'], mentions: '--platform' },
    { flags: ['--no-such-option'], mentions: '--no-such-option' },
  ];
  for (const { flags, mentions } of badFlags) {
    it(`rejects ${flags.join(' ')} with exit 2 and one line`, () =>
      withTempDir(async (tmp) => {
        const script = writeScript(tmp, 'small.txt', SMALL_SCRIPT);
        const out = path.join(tmp, 'run');
        const line = assertBadInput(await runCli(['run', script, '--out', out, ...flags]), flags.join(' '));
        assert.ok(line.includes(mentions), line);
        assert.equal(fs.existsSync(out), false, 'no run directory');
      }));
  }

  it('rejects a missing script file with exit 2 and one line', () =>
    withTempDir(async (tmp) => {
      const missing = path.join(tmp, 'missing.txt');
      const out = path.join(tmp, 'run');
      const line = assertBadInput(await runCli(['run', missing, '--out', out]), 'missing script');
      assert.ok(line.startsWith('vm-monitoring: '), line);
      assert.ok(line.includes(missing), line);
      assert.equal(fs.existsSync(out), false, 'no run directory');
    }));

  it('rejects a config file with an unknown key, pointing at FILE:LINE:COL', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'small.txt', SMALL_SCRIPT);
      const config = path.join(tmp, 'sim.yaml');
      fs.writeFileSync(config, 'profile: vsphere-4.1\nbogus: 1\n');
      const out = path.join(tmp, 'run');
      const line = assertBadInput(await runCli(['run', script, '--config', config, '--out', out]), 'bad config');
      assert.ok(line.startsWith(`vm-monitoring: ${config}:2:1: `), line);
      assert.match(line, /bogus/);
      assert.equal(fs.existsSync(out), false, 'no run directory');
    }));

  it('refuses an --out directory that is not empty, leaving it untouched', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'small.txt', SMALL_SCRIPT);
      const out = path.join(tmp, 'run');
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, 'keep.txt'), 'precious');
      const line = assertBadInput(await runCli(['run', script, '--out', out]), 'non-empty --out');
      assert.ok(line.includes(out), line);
      assert.deepEqual(fs.readdirSync(out), ['keep.txt']);
      assert.equal(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8'), 'precious');
    }));

  it('refuses an --out path that is a file', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'small.txt', SMALL_SCRIPT);
      const out = path.join(tmp, 'a-file');
      fs.writeFileSync(out, 'x');
      assertBadInput(await runCli(['run', script, '--out', out]), '--out is a file');
      assert.equal(fs.readFileSync(out, 'utf8'), 'x');
    }));

  it('refuses --interval 0.5 on the sim, which samples at most every second', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'small.txt', SMALL_SCRIPT);
      const out = path.join(tmp, 'run');
      const line = assertBadInput(await runCli(['run', script, '--out', out, '--interval', '0.5']), '--interval 0.5');
      assert.match(line, /--interval 0\.5/);
      assert.equal(fs.existsSync(out), false, 'no run directory');
    }));

  it('--help and run --help print usage and exit 0', async () => {
    const [top, run] = await Promise.all([runCli(['--help']), runCli(['run', '--help'])]);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /Usage: vm-monitoring/);
    assert.match(top.stdout, /\brun\b/);
    assert.equal(run.code, 0, run.stderr);
    for (const flag of ['--platform', '--config', '--out', '--interval', '--seed', '--max-migrations-per-host']) {
      assert.ok(run.stdout.includes(flag), `run --help mentions ${flag}`);
    }
  });

  it("--version prints package.json's version and exits 0", async () => {
    const result = await runCli(['--version']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), PACKAGE_VERSION);
  });

  it('the same --seed gives identical migrations.csv and requests.csv; another seed changes migrations.csv', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 'small.txt', SMALL_SCRIPT);
      const runs = [
        { seed: '3', out: path.join(tmp, 'a') },
        { seed: '3', out: path.join(tmp, 'b') },
        { seed: '4', out: path.join(tmp, 'c') },
      ];
      const results = await Promise.all(
        runs.map(({ seed, out }) => runCli(['run', script, '--seed', seed, '--interval', '5', '--out', out])),
      );
      results.forEach((result, index) => assert.equal(result.code, 0, `run ${index}: ${result.stderr}`));
      const read = (run: { out: string }, file: string): string => fs.readFileSync(path.join(run.out, file), 'utf8');
      const [a, b, c] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
      assert.ok(read(a, 'migrations.csv').split('\n').length > 2, 'migrations.csv has rows to compare');
      assert.ok(read(a, 'requests.csv').split('\n').length > 2, 'requests.csv has rows to compare');
      assert.equal(read(b, 'migrations.csv'), read(a, 'migrations.csv'));
      assert.equal(read(b, 'requests.csv'), read(a, 'requests.csv'));
      assert.notEqual(read(c, 'migrations.csv'), read(a, 'migrations.csv'));
      assert.equal(readRunJson(c.out).seed, 4);
    }));

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops promptly with exit 130, run.json interrupted, and every record kept well-formed`, () =>
      withTempDir(async (tmp) => {
        // samples/3.1/memory2.txt's testbed, with a timeline long enough (~100000 s, several
        // wall seconds at --interval 1) that the interrupt surely lands in the middle.
        const migrations = Array.from({ length: 100 }, (_, i) => `1000 migrate vm01 ${i % 2 === 0 ? 'esx6' : 'esx1'}`);
        const script = writeScript(tmp, 'long.txt', [
          'esx1:vm01,vm02,vm03,vm04 esx2:vm05,vm06,vm07,vm08 esx3:vm09,vm10,vm11,vm12 esx4:vm13,vm14,vm15,vm16 esx5:vm17,vm18,vm19,vm20 esx6:',
          '0 add-client memory2 40',
          ...migrations,
          '1000 end',
        ]);
        const out = path.join(tmp, 'run');
        let interruptedAt: number | undefined;
        const result = await runCli(['run', script, '--interval', '1', '--out', out], {
          onStdout: (child, soFar) => {
            // Past the header (written before the SIGINT handler exists): the run is under way.
            if (interruptedAt === undefined && soFar.split('\n').length > 2) {
              interruptedAt = performance.now();
              child.kill(signal);
            }
          },
        });
        assert.ok(interruptedAt !== undefined, `${signal} was sent`);
        // Uninterrupted, this script runs for about 10 wall seconds.
        const exitedAfterMs = performance.now() - interruptedAt;
        assert.ok(exitedAfterMs < 4000, `exited ${Math.round(exitedAfterMs)} ms after ${signal}`);
        assert.equal(result.code, 130, `exit code; signal ${result.signal}; stderr: ${result.stderr}`);
        assert.doesNotMatch(result.stderr, /^\s+at /m);
        assert.match(result.stderr, /interrupted/);

        const runInfo = readRunJson(out);
        assert.equal(runInfo.status, 'interrupted');
        const files = Object.fromEntries(CSV_FILES.map((file) => [file, readCsvFile(path.join(out, file))]));
        const samples = files['samples.csv']?.rows ?? [];
        const actions = files['actions.csv']?.rows ?? [];
        assert.ok(samples.length > 0, 'samples.csv has rows');
        assert.ok(actions.length > 0 && actions.length < migrations.length + 2, `stopped before the end (${actions.length} actions)`);
        assert.equal(actions.some((a) => a.action === 'end'), false, 'the end action never fired');
        // The last sample is taken when the run stops.
        const lastSampleS = Number(samples.at(-1)?.time_s);
        assert.ok(Math.abs(lastSampleS - Number(runInfo.run_seconds)) < 0.001, `last sample at ${lastSampleS}, run ended at ${String(runInfo.run_seconds)}`);
        // Clients stop at once: their in-flight requests are recorded as aborted.
        assert.ok((files['requests.csv']?.rows ?? []).some((r) => r.status === 'aborted'), 'some requests aborted');
        // stdout was closed cleanly too.
        parseCsv(result.stdout).forEach((row, index) => assert.equal(row.length, STDOUT_COLUMNS.length, `stdout line ${index + 1}`));
      }));
  }
});
