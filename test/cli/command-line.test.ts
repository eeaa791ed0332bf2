import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { assertBadInput, REPO_ROOT, runCli, withTempDir } from '../support/cli.ts';

const SCRIPT = path.join(REPO_ROOT, 'samples', '3.2', 'light-memory2.txt');

describe('the command line', { concurrency: 3 }, () => {
  it('keeps commander\'s suggestion for a mistyped option or command, on the one line', async () => {
    const option = assertBadInput(await runCli(['run', SCRIPT, '--platfrom', 'sim']), '--platfrom');
    assert.equal(option, "vm-monitoring: error: unknown option '--platfrom' (Did you mean --platform?)");
    const command = assertBadInput(await runCli(['rn', SCRIPT]), 'rn');
    assert.equal(command, "vm-monitoring: error: unknown command 'rn' (Did you mean run?)");
  });

  it('shows escape bytes in a bad option value escaped, not raw', async () => {
    const line = assertBadInput(await runCli(['run', SCRIPT, '--platform', '\u001b[2Jzz']), 'escape bytes');
    assert.ok(!line.includes('\u001b'), 'no raw ESC byte');
    assert.match(line, /\\u001b\[2Jzz/);
  });

  it('reads a CA file at most to its limit: /dev/zero is bad input at once, not gigabytes', () =>
    withTempDir(async (tmp) => {
      const config = path.join(tmp, 'vc.yaml');
      const credentials = path.join(tmp, 'creds');
      fs.writeFileSync(credentials, 'username=me\npassword=pw\n', { mode: 0o600 });
      fs.writeFileSync(config, `url: https://127.0.0.1:9/sdk\nload:\n  url: http://127.0.0.1:9\ncredentials:\n  file: ${credentials}\n`);
      const result = await runCli(['run', SCRIPT, '--platform', 'vsphere', '--config', config, '--ca-file', '/dev/zero'], { timeoutMs: 20_000 });
      assert.match(assertBadInput(result, '--ca-file /dev/zero'), /CA file larger than 1 MiB/);
    }));

  it('takes an output directory that cannot be made as bad input, at once (run and report)', async () => {
    for (const out of ['', '/proc/vm-monitoring-x', '/proc/self/x/y']) {
      const run = await runCli(['run', SCRIPT, '--out', out], { timeoutMs: 20_000 });
      assert.match(assertBadInput(run, `run --out '${out}'`), /output directory/);
    }
  });

  it('takes a report directory that cannot be made as bad input, at once', () =>
    withTempDir(async (tmp) => {
      const run = path.join(tmp, 'run');
      assert.equal((await runCli(['run', SCRIPT, '--out', run])).code, 0);
      for (const out of ['', '/proc/vm-monitoring-x']) {
        const report = await runCli(['report', run, '--out', out], { timeoutMs: 20_000 });
        assert.match(assertBadInput(report, `report --out '${out}'`), /directory/);
      }
    }));
});
