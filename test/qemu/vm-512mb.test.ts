/**
 * The seed's VMs had 512 MB, and "must work when asked": a 512 MB VM with 200 MB of its memory
 * written migrates with a 200 MB request in flight, lands on its target and answers, the
 * request too with its 200 MB read back intact, and its memory is still there to use.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { lbGet } from '../../src/platforms/qemu/lb-request.ts';
import { isRunning } from '../../src/platforms/qemu/processes.ts';
import type { QemuPlatform } from '../../src/platforms/qemu/qemu-platform.ts';
import { labSkipReason } from './support/lab-requirements.ts';
import { checkedGet } from './support/checked-get.ts';
import { openForScript } from './support/run-on-qemu.ts';

const skip = labSkipReason();
const { after, describe, it } = needing(skip);
const MiB = 1024 * 1024;

/** VmRSS of a process, in bytes. */
function residentBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s*(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

describe('a 512 MB VM, as the seed\'s', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-512-'));
  const labDir = path.join(base, 'lab');
  let platform: QemuPlatform | null = null;

  after(async () => {
    await platform?.close().catch(() => undefined);
    await Lab.down(labDir);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('migrates with 200 MB written and a 200 MB request in flight, lands on its target and answers', async (t) => {
    const config = path.join(base, 'lab.yaml');
    fs.writeFileSync(config, [`labDir: ${labDir}`, 'accelerator: tcg', 'memoryMB: 512', 'probe: { settleSeconds: 15 }', ''].join('\n'));
    platform = await openForScript('esx1:vm01 esx2:\n', config);
    const lab = platform.lab;
    const lb = lab.state.lb_socket;
    const source = lab.processOf('vm01');

    // 200 MB written by the guest, just finished: the source QEMU holds it.
    const written = await checkedGet(lb, '/vm/vm01/memory?mb=200&ms=1', 300_000);
    assert.equal(written.status, 200, written.body);
    assert.equal(written.server, 'vm01');
    assert.equal(written.corruptWords, 0);
    assert.ok(residentBytes(source.pid) >= 200 * MiB, `the source QEMU holds the written memory: ${residentBytes(source.pid)} bytes resident`);

    // A request that allocates and fills 200 MB, then holds it 10 s, sent before the migration starts.
    const inFlight = checkedGet(lb, '/vm/vm01/memory?mb=200&ms=10000', 300_000);
    const outcome = await platform.migrate({ vm: 'vm01', source: 'esx1', target: 'esx2' }, new AbortController().signal);
    const stats = outcome.details.qemu;
    const label = JSON.stringify({ ...outcome, details: { ...stats, progress: stats.progress.map((p) => `${p.pass}:${p.status}`) } });
    t.diagnostic(`512 MB VM: ${stats.status}, total ${stats.total_time_ms} ms, downtime ${stats.downtime_ms} ms, ${stats.transferred_bytes} bytes sent, ${stats.passes} passes`);
    assert.equal(outcome.status, 'succeeded', label);
    assert.equal(stats.status, 'completed', label);
    assert.ok(stats.ram_total_bytes !== null && stats.ram_total_bytes >= 512 * MiB, `QEMU migrated 512 MB of RAM: ${label}`);
    assert.ok(stats.transferred_bytes !== null && stats.transferred_bytes > 0, label);
    assert.ok(stats.total_time_ms !== null && stats.total_time_ms > 0, label);
    assert.ok(stats.probe?.settled === true, `the probe heard the VM on its new host: ${label}`);
    assert.deepEqual([outcome.details.integrity?.answered_after, outcome.details.integrity?.flagged], [true, false], label);

    const answer = await inFlight;
    assert.deepEqual([answer.status, answer.server, answer.body], [200, 'vm01', 'memory mb=200 ms=10000\n'], 'the request in flight was answered');
    assert.equal(answer.corruptWords, 0, 'its 200 MB (a quarter in the guest\'s tmpfs) came through the migration intact');

    // Landed: the VM runs on esx2 in the target QEMU, which holds its 200 MB; the source QEMU is gone.
    assert.deepEqual(lab.state.vms.map((vm) => [vm.name, vm.host]), [['vm01', 'esx2']]);
    const target = lab.processOf('vm01');
    assert.notEqual(target.pid, source.pid);
    assert.equal(stats.target_pid, target.pid);
    assert.equal(isRunning(source), false, 'the source QEMU is gone');
    assert.ok(isRunning(target));
    assert.equal((await (await lab.qmp(target.id)).execute<{ status: string }>('query-status')).status, 'running');
    assert.ok(residentBytes(target.pid) >= 200 * MiB, `the target QEMU holds the request's 200 MB: ${residentBytes(target.pid)} bytes resident`);

    // It answers, and its memory is there to use: 300 MB more on its new host.
    const ping = await lbGet(lb, '/vm/vm01/ping');
    assert.deepEqual([ping.status, ping.server], [200, 'vm01']);
    const more = await checkedGet(lb, '/vm/vm01/memory?mb=300&ms=10', 300_000);
    assert.deepEqual([more.status, more.server, more.corruptWords], [200, 'vm01', 0], more.body);
    const serial = fs.readFileSync(target.serial as string, 'utf8');
    assert.doesNotMatch(serial, /Kernel panic|Oops|BUG:|segfault/, 'the guest did not crash on its new host');

    await platform.close();
    platform = null;
    assert.equal(fs.existsSync(labDir), false, 'the lab the platform brought up is down');
  });
});
