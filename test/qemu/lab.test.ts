/**
 * `vm-monitoring lab up|status|down` with real QEMU, HAProxy and a network namespace: the
 * lab comes up (512 MB VMs, as the seed's), balances, refuses a second `up`, goes down
 * leaving nothing, and `down` cleans up after a `lab up` killed with SIGKILL.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { readState, type LabState } from '../../src/platforms/qemu/lab-state.ts';
import { lbGet } from '../../src/platforms/qemu/lb-request.ts';
import { isRunning } from '../../src/platforms/qemu/processes.ts';
import { runCli, type CliOptions, type CliResult } from '../support/cli.ts';
import { assertNothingLeft } from './support/lab-leftovers.ts';
import { labSkipReason } from './support/lab-requirements.ts';

const skip = labSkipReason();
const { after, describe, it } = needing(skip);

/** `vm-monitoring lab ARGS` through the CLI, with time enough to boot TCG guests on a busy machine. */
const run = (args: string[], options: CliOptions = {}): Promise<CliResult> => runCli(['lab', ...args], { timeoutMs: 600_000, ...options });

describe('vm-monitoring lab', { concurrency: 1 }, () => {
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
    let upChild: ChildProcess | null = null;
    const up = run(['up', '--hosts', '2', '--vms', '2', '--config', config, '--dir', dir], { onSpawn: (child) => (upChild = child) });
    // Kill it once QEMU processes exist: they are in the state file, the namespace and HAProxy too.
    const deadline = performance.now() + 60_000;
    while ((readState(dir)?.processes.filter((p) => p.kind === 'qemu').length ?? 0) < 2) {
      assert.ok(performance.now() < deadline, 'lab up started its VMs');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok((upChild as ChildProcess | null)?.kill('SIGKILL'), 'lab up killed');
    assert.equal((await up).signal, 'SIGKILL');
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
