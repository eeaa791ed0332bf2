/**
 * Records are never lost or spliced: stdout through a slow or vanishing reader, a disk that
 * fills up, a run killed with SIGKILL. Through the real entry point, bin/vm-monitoring.js,
 * whose tsx `register()` leaves fd 1 non-blocking.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cliEnv, readCsvFile, REPO_ROOT, runCli, withTempDir } from '../support/cli.ts';
import { rootSkipReason } from '../support/needing.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'vm-monitoring.js');
const SCRIPT = path.join(REPO_ROOT, 'samples', '3.2', 'light-memory2.txt');
/** 1 s sampling of the seed's light run: about 3 MB of stdout, far more than a pipe holds. */
const RUN_ARGS = ['run', SCRIPT, '--interval', '1'];
const RECORD_FILES = ['samples.csv', 'actions.csv', 'migrations.csv', 'requests.csv', 'migration-details.jsonl'];

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...cliEnv(), ...extra };
}

/** Runs `pipeline` in bash with BIN, SCRIPT and `vars` in its environment; returns bash's exit and stderr. */
function bash(pipeline: string, vars: Record<string, string>): { code: number | null; stderr: string } {
  const result = spawnSync('bash', ['-c', `set -o pipefail; ${pipeline}`], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE: process.execPath, BIN, ARGS: RUN_ARGS.join(' '), ...vars }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stderr: result.stderr };
}

function readRunJson(dir: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
}

function assertWholeRows(dir: string): void {
  for (const file of RECORD_FILES) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    assert.ok(text === '' || text.endsWith('\n'), `${file} ends on a whole row: ...${JSON.stringify(text.slice(-60))}`);
    if (file.endsWith('.csv')) readCsvFile(path.join(dir, file));
  }
}

describe('records survive slow readers, full disks and SIGKILL', { concurrency: 1 }, () => {
  it('stdout through a slow pipe is byte for byte what a file redirect gets', () =>
    withTempDir(async (tmp) => {
      const vars = { FILE_OUT: path.join(tmp, 'file'), PIPE_OUT: path.join(tmp, 'pipe'), FILE: path.join(tmp, 'file.csv'), PIPED: path.join(tmp, 'piped.csv') };
      const direct = bash('"$NODE" "$BIN" $ARGS --out "$FILE_OUT" > "$FILE"', vars);
      assert.equal(direct.code, 0, direct.stderr);
      const piped = bash('"$NODE" "$BIN" $ARGS --out "$PIPE_OUT" | (sleep 1; cat) > "$PIPED"', vars);
      assert.equal(piped.code, 0, piped.stderr);
      assert.doesNotMatch(piped.stderr, /EAGAIN|^\s+at /m);
      const expected = fs.readFileSync(vars.FILE);
      assert.ok(expected.length > 1_000_000, `a run big enough to fill a pipe many times: ${expected.length} bytes`);
      assert.ok(fs.readFileSync(vars.PIPED).equals(expected), 'piped stdout differs from the file redirect');
      assert.equal(readRunJson(vars.PIPE_OUT).status, 'completed');
    }));

  it('a reader that goes away ends stdout quietly; the run and its directory complete', () =>
    withTempDir(async (tmp) => {
      const vars = { FULL: path.join(tmp, 'full'), CUT: path.join(tmp, 'cut') };
      assert.equal(bash('"$NODE" "$BIN" $ARGS --out "$FULL" > /dev/null', vars).code, 0);
      const cut = bash('"$NODE" "$BIN" $ARGS --out "$CUT" | head -c 5000 > /dev/null; echo "${PIPESTATUS[0]}" >&2', vars);
      assert.match(cut.stderr, /^completed: .*\n0\n$/, cut.stderr);
      assert.equal(readRunJson(vars.CUT).status, 'completed');
      // And a reader gone before the header line: `| true`.
      const gone = bash('"$NODE" "$BIN" $ARGS --out "$GONE" | true; echo "${PIPESTATUS[0]}" >&2', { ...vars, GONE: path.join(tmp, 'gone') });
      assert.match(gone.stderr, /^completed: .*\n0\n$/, gone.stderr);
      for (const dir of [vars.CUT, path.join(tmp, 'gone')]) {
        for (const file of RECORD_FILES) {
          assert.ok(fs.readFileSync(path.join(dir, file)).equals(fs.readFileSync(path.join(vars.FULL, file))), `${dir}/${file} is complete`);
        }
      }
    }));

  it('stdout that cannot be written (> /dev/full) fails the run: exit 1, one line, run.json failed', () =>
    withTempDir(async (tmp) => {
      const out = path.join(tmp, 'run');
      const result = bash('"$NODE" "$BIN" $ARGS --out "$OUT" > /dev/full', { OUT: out });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^run failed: cannot write stdout: ENOSPC: no space left on device.*\n$/, result.stderr);
      assert.equal(readRunJson(out).status, 'failed');
      assertWholeRows(out);
    }));

  it('a full disk ends the run: exit 1, one line, whole rows, run.json failed with the reason, and report reads what was kept', { skip: rootSkipReason('to mount a small tmpfs') }, () =>
    withTempDir(async (tmp) => {
      const disk = path.join(tmp, 'disk');
      fs.mkdirSync(disk);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', disk]);
      try {
        const out = path.join(disk, 'run');
        const result = await runCli([...RUN_ARGS, '--out', out]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /^run failed: cannot write .*\.csv: ENOSPC: no space left on device.*\n$/, result.stderr);
        const runJson = readRunJson(out);
        assert.equal(runJson.status, 'failed');
        assert.match(String(runJson.error), /ENOSPC/);
        assertWholeRows(out);
        const report = await runCli(['report', out, '--out', path.join(tmp, 'report')]);
        assert.equal(report.code, 0, report.stderr);
        assert.match(fs.readFileSync(path.join(tmp, 'report', 'report.html'), 'utf8'), /failed/);
      } finally {
        execFileSync('umount', [disk]);
      }
    }));

  it('SIGKILL loses at most the last experiment minute of every file, not a wall second', () =>
    withTempDir(async (tmp) => {
      const full = path.join(tmp, 'full');
      assert.equal(bash('"$NODE" "$BIN" $ARGS --out "$FULL" > /dev/null', { FULL: full }).code, 0);
      const killed = path.join(tmp, 'killed');
      // A reader that stops reading holds the simulation back (it waits for stdout to drain), so
      // it is surely mid-run, with its last stdout row telling how far it got, when it is killed.
      const child = spawn(process.execPath, [BIN, ...RUN_ARGS, '--out', killed], { cwd: REPO_ROOT, env: cleanEnv({}), stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (/\n(6\d\d|[7-9]\d\d)(\.\d+)?,/.test(chunk)) child.stdout.pause();
      });
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      child.stdout.destroy();
      const stdoutRows = stdout.split('\n').slice(1, -1);
      const reachedS = Number(stdoutRows.at(-1)?.split(',')[0]);
      assert.ok(reachedS >= 600, `the run got some minutes in before the kill: ${reachedS} s`);
      assert.ok(reachedS < 3000, `and was killed before its end: ${reachedS} s`);
      assert.equal(readRunJson(killed).status, undefined);
      const keptBefore = Math.floor(reachedS / 60) * 60 - 60;
      for (const [file, timeColumn] of [['samples.csv', 'time_s'], ['actions.csv', 'fired_s'], ['migrations.csv', 'ended_s']] as const) {
        const wanted = readCsvFile(path.join(full, file)).rows.filter((row) => Number(row[timeColumn]) < keptBefore);
        const kept = readCsvFile(path.join(killed, file)).rows.slice(0, wanted.length);
        assert.ok(wanted.length > 0, `${file} has rows before ${keptBefore} s`);
        assert.deepEqual(kept, wanted, `${file} keeps every row before ${keptBefore} s`);
      }
      const report = await runCli(['report', killed, '--out', path.join(tmp, 'report')]);
      assert.equal(report.code, 0, report.stderr);
      assert.match(fs.readFileSync(path.join(tmp, 'report', 'report.html'), 'utf8'), /cut short/);
    }));
});
