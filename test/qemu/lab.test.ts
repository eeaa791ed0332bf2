/**
 * `vm-monitoring lab up|status|down` with real QEMU, HAProxy and a network namespace: the
 * lab comes up (512 MB VMs, as the seed's), balances, refuses a second `up`, goes down
 * leaving nothing, and `down` cleans up after a `lab up` killed with SIGKILL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { netnsNameFor, readState, type LabState } from '../../src/platforms/qemu/lab-state.ts';
import { lbGet } from '../../src/platforms/qemu/lb-request.ts';
import { netnsExists, netnsPath } from '../../src/platforms/qemu/network.ts';
import { isRunning, processesInNetns, type ProcessIdentity } from '../../src/platforms/qemu/processes.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { labSkipReason } from './support/lab-requirements.ts';

const skip = labSkipReason();
const LAB_CLI = path.join(REPO_ROOT, 'test', 'qemu', 'support', 'lab-cli.ts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function labCli(args: string[], timeoutMs = 180_000): { done: Promise<Result>; pid: number } {
  const child = spawn(process.execPath, ['--import', 'tsx', LAB_CLI, 'lab', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Result>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { done, pid: child.pid as number };
}

const run = (args: string[]): Promise<Result> => labCli(args).done;

/** Asserts that nothing of the lab in `dir` is left: processes, namespace, files. */
function assertNothingLeft(dir: string, processes: readonly ProcessIdentity[]): void {
  for (const process of processes) assert.equal(isRunning(process), false, `process ${process.pid} is gone`);
  const netns = netnsNameFor(dir);
  assert.equal(netnsExists(netns), false, `namespace ${netns} deleted`);
  assert.deepEqual(processesInNetns(netnsPath(netns)), []);
  assert.equal(fs.existsSync(dir), false, `${dir} removed`);
}

describe('vm-monitoring lab', { skip, concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-lab-'));
  const config = path.join(base, 'lab.yaml');
  fs.writeFileSync(config, 'accelerator: tcg\n');
  const dirs: string[] = [];

  after(async () => {
    for (const dir of dirs) await Lab.down(dir);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('comes up with 512 MB VMs behind HAProxy, refuses a second up, reports its status, goes down leaving nothing', async () => {
    const dir = path.join(base, 'a');
    dirs.push(dir);
    const up = await run(['up', '--hosts', '2', '--vms', '2', '--memory', '512', '--config', config, '--dir', dir]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /lab up in .*\n[^]*esx1:\n {4}vm01 10\.77\.0\.11 pid \d+ running\n {2}esx2:\n {4}vm02 10\.77\.0\.12 pid \d+ running/);
    assert.match(up.stderr, /accelerator tcg: configured/);
    const state = readState(dir) as LabState;
    assert.equal(state.status, 'up');
    assert.equal(state.memory_mb, 512);

    const socket = state.lb_socket;
    const servers = [];
    for (let i = 0; i < 4; i++) servers.push((await lbGet(socket, '/ping')).server);
    assert.deepEqual([...servers].sort(), ['vm01', 'vm01', 'vm02', 'vm02'], 'round-robin over both VMs');
    assert.notEqual(servers[0], servers[1]);
    const direct = await lbGet(socket, '/vm/vm02/cpu?digits=100');
    assert.equal(direct.status, 200);
    assert.equal(direct.server, 'vm02');
    const big = await lbGet(socket, '/vm/vm01/memory?mb=300&ms=10', 60_000);
    assert.equal(big.status, 200, `a 512 MB guest fills 300 MB: ${big.body}`);

    const again = await run(['up', '--config', config, '--dir', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already up/);

    const status = await run(['status', '--dir', dir]);
    assert.equal(status.code, 0, status.stdout);
    assert.match(status.stdout, /vm01 10\.77\.0\.11 pid \d+ running/);
    const json = await run(['status', '--dir', dir, '--json']);
    const parsed = JSON.parse(json.stdout) as { processes: { running: boolean; kind: string }[] };
    assert.deepEqual(parsed.processes.map((p) => [p.kind, p.running]), [['haproxy', true], ['qemu', true], ['qemu', true]]);

    const down = await run(['down', '--dir', dir]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /is down: 3 processes ended, namespace deleted/);
    assertNothingLeft(dir, state.processes);
    const downAgain = await run(['down', '--dir', dir]);
    assert.equal(downAgain.code, 0);
    assert.match(downAgain.stdout, /nothing to do/);
    const statusDown = await run(['status', '--dir', dir]);
    assert.equal(statusDown.code, 1);
    assert.match(statusDown.stdout, /no lab is up/);
  });

  it('goes down cleanly after `lab up` was killed with SIGKILL while booting', async () => {
    const dir = path.join(base, 'b');
    dirs.push(dir);
    const up = labCli(['up', '--hosts', '2', '--vms', '2', '--config', config, '--dir', dir]);
    // Kill it once QEMU processes exist: they are in the state file, the namespace and HAProxy too.
    const deadline = performance.now() + 60_000;
    while ((readState(dir)?.processes.filter((p) => p.kind === 'qemu').length ?? 0) < 2) {
      assert.ok(performance.now() < deadline, 'lab up started its VMs');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    process.kill(up.pid, 'SIGKILL');
    await up.done;
    const state = readState(dir) as LabState;
    assert.equal(state.status, 'starting');
    assert.ok(state.processes.some(isRunning), 'the lab was left half made');

    const status = await run(['status', '--dir', dir]);
    assert.equal(status.code, 1, 'a half-made lab is not up');
    const down = await run(['down', '--dir', dir]);
    assert.equal(down.code, 0, down.stderr);
    assertNothingLeft(dir, state.processes);
  });
});
