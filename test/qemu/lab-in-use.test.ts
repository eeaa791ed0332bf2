/**
 * A lab a run is using is not taken from under it: `lab down` during a run is refused (exit 1,
 * one line naming the run's pid) and the lab stays up; and a run whose lab vanishes anyway
 * (its processes killed) fails loudly: exit 1, "the lab at DIR was taken down", run.json failed.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { isLabProcess, lockHolder, readState, type LabState } from '../../src/platforms/qemu/lab-state.ts';
import { signal } from '../../src/platforms/qemu/processes.ts';
import { runCli, writeScript, type CliOptions, type CliResult } from '../support/cli.ts';
import { labSkipReason } from './support/lab-requirements.ts';

const skip = labSkipReason();
const { after, describe, it } = needing(skip);

const cli = (args: string[], options: CliOptions = {}): Promise<CliResult> => runCli(args, { timeoutMs: 600_000, ...options });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, ready: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ready()) {
    assert.ok(performance.now() < deadline, `timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('a lab in use by a run', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-lab-in-use-'));
  const dir = path.join(base, 'lab');
  const config = path.join(base, 'lab.yaml');
  fs.writeFileSync(config, `labDir: ${dir}\naccelerator: tcg\nload: { requestTimeoutSeconds: 60 }\n`);
  let runChild: ChildProcess | null = null;

  after(async () => {
    runChild?.kill('SIGKILL');
    await Lab.down(dir).catch(() => undefined);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('refuses `lab down` while a run uses the lab, and the run fails loudly when its lab vanishes', async () => {
    const up = await cli(['lab', 'up', '--hosts', '2', '--vms', '1', '--config', config]);
    assert.equal(up.code, 0, up.stderr);
    const script = writeScript(base, 'long.txt', ['esx1:vm01 esx2:', '0 add-client cpu 1', '1 migrate vm01 esx2', '1 migrate vm01 esx1', '600 end']);
    const out = path.join(base, 'run');
    let sampled = false;
    const run = cli(['run', script, '--platform', 'qemu', '--config', config, '--out', out], {
      onSpawn: (child) => (runChild = child),
      onStdout: (_child, stdout) => (sampled ||= (stdout.match(/,migration,/g) ?? []).length >= 2),
    });
    const runPid = (runChild as ChildProcess | null)?.pid as number;
    await waitFor('the run to attach and migrate twice', () => sampled && lockHolder(dir)?.pid === runPid);

    const down = await cli(['lab', 'down', '--dir', dir]);
    assert.equal(down.code, 1, down.stderr);
    assert.match(
      down.stderr,
      new RegExp(`^vm-monitoring: lab down refused: the lab in ${dir} is in use by process ${runPid} \\([^\\n]* run [^\\n]*\\); let it end, or stop it \\(Ctrl-C, or kill -INT ${runPid}\\), then take the lab down\\n$`),
    );
    const state = readState(dir) as LabState;
    assert.equal(state.status, 'up');
    assert.ok(state.processes.every((record) => isLabProcess(record, dir)), 'every process of the lab still runs');
    const status = await cli(['lab', 'status', '--dir', dir]);
    assert.match(status.stdout, new RegExp(`in use by process ${runPid}\\n`));

    // The lab vanishes anyway (its processes killed behind the tool's back): the run must not go on as if nothing happened.
    for (const record of state.processes) signal(record, 'SIGKILL');
    const ended = await run;
    assert.equal(ended.code, 1, ended.stderr);
    assert.match(ended.stderr, new RegExp(`the lab at ${dir} was taken down: its HAProxy \\(pid \\d+\\) is gone`));
    const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { status: string; reason?: string };
    assert.equal(runJson.status, 'failed');
    assert.match(JSON.stringify(runJson), /was taken down/);

    const cleanUp = await cli(['lab', 'down', '--dir', dir]);
    assert.equal(cleanUp.code, 0, cleanUp.stderr);
    assert.equal(fs.existsSync(dir), false);
  });
});
