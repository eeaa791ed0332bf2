/**
 * The issue's end-to-end test on real VMs: a lab of 2 hosts and 2 VMs brought up by the
 * platform from the script's placement line (the accelerator detected by trying), cpu and
 * memory2 clients through HAProxy, each VM migrated away and back, then the end, with every
 * answer's data checked intact across every migration. And the other ending: a migration
 * that cannot converge is cancelled and the VM stays where it was.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { COUNTERS } from '../../src/monitor/counters.ts';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { netnsNameFor } from '../../src/platforms/qemu/lab-state.ts';
import { lbGet } from '../../src/platforms/qemu/lb-request.ts';
import { netnsExists } from '../../src/platforms/qemu/network.ts';
import { isRunning } from '../../src/platforms/qemu/processes.ts';
import type { QemuPlatform } from '../../src/platforms/qemu/qemu-platform.ts';
import { labSkipReason } from './support/lab-requirements.ts';
import { assertIntact, assertMigrationDetails, openForScript, runOnQemu, type QemuRun } from './support/run-on-qemu.ts';

const skip = labSkipReason();
const { after, describe, it } = needing(skip);

const E2E_SCRIPT = [
  'esx1:vm01 esx2:vm02',
  '0 add-client cpu 1',
  '0 add-client memory2 1',
  '3 migrate vm01 esx2',
  '3 migrate vm02 esx1',
  '3 migrate vm01 esx1',
  '3 migrate vm02 esx2',
  '3 end',
].join('\n');

/** True when no process runs with this pid any more (a zombie waiting to be reaped counts as gone). */
function pidGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^\S+ \(.*\) [ZX] /.test(stat);
  } catch {
    return true;
  }
}

async function qmpStatus(platform: QemuPlatform, vm: string): Promise<string> {
  const qmp = await platform.lab.qmp(platform.lab.processOf(vm).id);
  return (await qmp.execute<{ status: string }>('query-status')).status;
}

describe('qemu platform end to end', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-e2e-'));
  const dirs: string[] = [];
  const platforms: QemuPlatform[] = [];

  after(async () => {
    for (const platform of platforms) await platform.close().catch(() => undefined);
    for (const dir of dirs) await Lab.down(dir);
    fs.rmSync(base, { recursive: true, force: true });
  });

  function configFile(name: string, lines: string[]): { path: string; labDir: string } {
    const labDir = path.join(base, name);
    dirs.push(labDir);
    const file = path.join(base, `${name}.yaml`);
    fs.writeFileSync(file, [`labDir: ${labDir}`, ...lines, ''].join('\n'));
    return { path: file, labDir };
  }

  it('runs cpu and memory2 clients while each VM migrates away and back, and records it all', async (t) => {
    const config = configFile('e2e', ['load: { requestTimeoutSeconds: 60 }', 'probe: { settleSeconds: 10 }']);
    const platform = await openForScript(E2E_SCRIPT, config.path);
    platforms.push(platform);
    assert.equal(platform.ownsLab, true, 'no lab was up: the platform brought one up from the placement line');
    const state = platform.lab.state;
    assert.deepEqual(state.hosts.map((host) => host.name), ['esx1', 'esx2']);
    assert.ok(state.accelerator === 'kvm' || state.accelerator === 'tcg', `accelerator detected: ${state.accelerator_note}`);
    const firstPids = Object.fromEntries(state.vms.map((vm) => [vm.name, platform.lab.processOf(vm.name).pid]));

    const run: QemuRun = await runOnQemu(platform, E2E_SCRIPT, { out: path.join(base, 'run-e2e') });
    assert.equal(run.outcome.status, 'completed');
    for (const file of ['run.json', 'samples.csv', 'actions.csv', 'migrations.csv', 'requests.csv', 'migration-details.jsonl']) {
      assert.ok(fs.existsSync(path.join(run.dir, file)), `the run directory has ${file}`);
    }
    assert.equal((JSON.parse(fs.readFileSync(path.join(run.dir, 'run.json'), 'utf8')) as { status: string }).status, 'completed');
    const runLab = (run.runJson.platform as { lab: { accelerator: string; accelerator_note: string } }).lab;
    assert.equal(runLab.accelerator, state.accelerator, 'run.json records the accelerator');
    assert.ok(runLab.accelerator_note.length > 0);

    // Every migration recorded, with QEMU's statistics.
    assert.deepEqual(run.migrations.map((m) => `${m.vm} ${m.source}->${m.target} ${m.kind}`), [
      'vm01 esx1->esx2 script', 'vm02 esx2->esx1 script', 'vm01 esx2->esx1 script', 'vm02 esx1->esx2 script',
    ]);
    for (const migration of run.migrations) {
      const label = `${migration.vm} ${migration.source}->${migration.target}: ${JSON.stringify(migration)}`;
      assert.equal(migration.status, 'succeeded', label);
      assert.ok(migration.downtime_ms !== null && migration.downtime_ms >= 0, label);
      assert.ok(migration.bytes !== null && migration.bytes > 1_000_000, label);
      assert.ok(migration.passes !== null && migration.passes >= 2, label);
      assert.ok(migration.client_downtime_ms !== null && migration.client_downtime_ms > 0, `a probe downtime per migration: ${label}`);
      assert.ok(migration.duration_ms >= (migration.ended_s - migration.started_s) * 1000);
    }
    // QEMU's own account of each migration, in the run directory next to migrations.csv and agreeing with it.
    const details = assertMigrationDetails(run.dir);
    assert.equal(details.length, 4);
    for (const { qemu: stats } of details) {
      t.diagnostic(
        `${stats.vm} ${stats.source}->${stats.target}: total ${stats.total_time_ms} ms, setup ${stats.setup_time_ms} ms, downtime ${stats.downtime_ms} ms, ` +
          `${stats.transferred_bytes} bytes at ${stats.mbps?.toFixed(0)} Mbit/s, progress ${stats.progress.map((p) => `${p.pass}:${p.status}`).join(' ')}`,
      );
      const label = JSON.stringify({ ...stats, progress: stats.progress.length });
      assert.ok(stats.ram_total_bytes !== null && stats.ram_total_bytes >= 256 * 1024 * 1024, label);
      // Answers before, during and after: how many more depends on how long the migration took on a loaded machine.
      assert.ok(stats.probe !== null && stats.probe.settled && stats.probe.answers >= 3, `the probe heard the VM: ${label}`);
      assert.equal(stats.max_bandwidth_bytes_per_s, 125_000_000);
      assert.equal(stats.downtime_limit_ms, 300);
    }

    // Each VM runs on its last target: QMP says running on the new process; every old process is gone.
    assert.deepEqual(platform.lab.state.vms.map((vm) => [vm.name, vm.host]), [['vm01', 'esx1'], ['vm02', 'esx2']]);
    for (const vm of ['vm01', 'vm02']) {
      const now = platform.lab.processOf(vm);
      assert.ok(isRunning(now), `${vm}'s QEMU runs`);
      assert.notEqual(now.pid, firstPids[vm]);
      assert.equal(await qmpStatus(platform, vm), 'running');
      assert.equal((await lbGet(state.lb_socket, `/vm/${vm}/ping`)).server, vm);
    }
    for (const { qemu: stats } of details) assert.ok(pidGone(stats.source_pid), `the source QEMU ${stats.source_pid} of ${stats.vm} is gone`);
    assert.equal(platform.lab.state.processes.filter((p) => p.kind === 'qemu').length, 2, 'one QEMU per VM is left');

    // Client requests succeeded across the migrations: none lost, errors counted.
    const errors = run.requests.filter((request) => request.status !== 'ok');
    assert.deepEqual(errors, [], `${errors.length} requests failed`);
    for (const type of ['cpu', 'memory2']) {
      const requests = run.requests.filter((request) => request.client_type === type);
      assert.ok(requests.length >= 10, `${type}: ${requests.length} requests`);
      assert.deepEqual([...new Set(requests.map((request) => request.server))].sort(), ['vm01', 'vm02'], `${type} went to both VMs`);
      assert.ok(requests.every((request) => request.processing_ms !== null && request.processing_ms > 0));
    }
    for (const migration of run.migrations) {
      const during = run.requests.filter((r) => r.server === migration.vm && r.received_s >= migration.started_s && r.sent_s <= migration.ended_s);
      assert.ok(during.length > 0, `requests to ${migration.vm} were answered across its migration at ${migration.started_s.toFixed(1)} s`);
    }
    // Their data intact: zero corrupt words in every answer, every migration unflagged, each with checked answers across it.
    const intact = assertIntact(run.dir);
    t.diagnostic(`${intact.checkedRequests} answers checked, across the migrations: ${intact.checkedPerMigration.join(' ')}`);
    assert.equal(intact.checkedRequests, run.requests.length);
    assert.ok(intact.checkedPerMigration.every((checked) => checked > 0), `checked answers across each migration: ${intact.checkedPerMigration.join(' ')}`);

    // Counters sampled each second for both hosts.
    const endS = run.outcome.endedS;
    for (const host of ['esx1', 'esx2']) {
      for (const counter of [COUNTERS.cpuUsage, COUNTERS.memConsumed, COUNTERS.memActive, COUNTERS.memSwapUsed, COUNTERS.netUsage, COUNTERS.vmCount]) {
        const samples = run.samples.filter((s) => s.host === host && s.counter === counter.name);
        assert.ok(samples.length >= Math.floor(endS) - 2, `${host} ${counter.name}: ${samples.length} samples in ${endS.toFixed(1)} s`);
        assert.ok(samples.every((s) => s.unit === counter.unit && Number.isFinite(s.value) && s.value >= 0));
        const gaps = samples.slice(1).map((s, i) => s.time_s - (samples[i] as { time_s: number }).time_s);
        assert.ok(gaps.slice(0, -1).every((gap) => gap > 0.5 && gap < 2.5), `${host} ${counter.name} every second: ${gaps.map((g) => g.toFixed(2)).join(' ')}`);
      }
      const cpu = run.samples.filter((s) => s.host === host && s.counter === COUNTERS.cpuUsage.name);
      assert.ok(cpu.some((s) => s.value > 100), `${host} used CPU`);
      const consumed = run.samples.filter((s) => s.host === host && s.counter === COUNTERS.memConsumed.name);
      assert.ok(consumed.some((s) => s.value > 50_000), `${host} holds a VM's memory`);
      const count = run.samples.filter((s) => s.host === host && s.counter === COUNTERS.vmCount.name);
      assert.ok(count.some((s) => s.value === 0) || count.some((s) => s.value === 2), `${host}'s VM count changed with the migrations`);
    }
    const shared = run.samples.filter((s) => s.counter === COUNTERS.memShared.name);
    const unavailable = (run.runJson.platform as { unavailable_counters: string[] }).unavailable_counters;
    assert.ok(shared.length > 0 || unavailable.includes(COUNTERS.memShared.name), 'mem.shared is either measured or said to be unavailable');

    await platform.close();
    assert.equal(fs.existsSync(config.labDir), false, 'the lab the platform brought up is down');
    assert.equal(netnsExists(netnsNameFor(config.labDir)), false);
    for (const pid of Object.values(platform.lab.state.processes.map((p) => p.pid))) assert.ok(pidGone(pid));
  });

  it('cancels a migration that does not converge in time, or when the run is interrupted; the VM keeps running where it was', async () => {
    const script = ['esx1:vm01 esx2:', '0 add-client memory2 1', '1 migrate vm01 esx2', '1 end'].join('\n');
    const config = configFile('cancel', [
      'accelerator: tcg',
      'load: { requestTimeoutSeconds: 60 }',
      // 8 Mbit/s cannot move 256 MB in 3 s.
      'migration: { maxBandwidthMbps: 8, convergenceTimeoutSeconds: 3 }',
    ]);
    const platform = await openForScript(script, config.path);
    platforms.push(platform);
    const before = platform.lab.processOf('vm01');
    const run = await runOnQemu(platform, script, { out: path.join(base, 'run-cancel') });
    assert.equal(run.migrations.length, 1);
    const [migration] = run.migrations;
    assert.equal(migration?.status, 'failed');
    assert.match(migration?.reason ?? '', /^did not converge within 3 s \(\d+ passes\)$/);
    assert.ok((migration?.duration_ms ?? 0) >= 3000);
    const [line] = assertMigrationDetails(run.dir);
    const stats = line?.qemu;
    assert.equal(stats?.status, 'cancelled');
    assert.equal(stats?.reason, migration?.reason);
    assert.ok(stats?.target_pid !== null && pidGone(stats?.target_pid as number), 'the target QEMU is gone');

    assert.deepEqual(platform.lab.state.vms.map((vm) => [vm.name, vm.host]), [['vm01', 'esx1']]);
    assert.equal(platform.lab.processOf('vm01').pid, before.pid, 'the same QEMU still runs the VM');
    assert.equal(await qmpStatus(platform, 'vm01'), 'running');
    assert.equal((await lbGet(platform.lab.state.lb_socket, '/vm/vm01/ping')).status, 200);
    assert.deepEqual(run.requests.filter((r) => r.status !== 'ok'), [], 'the clients did not notice');
    assert.ok(assertIntact(run.dir).checkedPerMigration.every((checked) => checked > 0), 'the VM\'s data was checked across the cancelled migration, and intact');

    // Ctrl-C during a migration: it ends as interrupted, and the VM stays where it was too.
    const interrupt = new AbortController();
    const timer = setTimeout(() => interrupt.abort(), 2500);
    const interrupted = await runOnQemu(platform, ['esx1:vm01 esx2:', '0 add-client memory2 1', '1 migrate vm01 esx2', '30 end'].join('\n'), {
      out: path.join(base, 'run-interrupted'),
      signal: interrupt.signal,
    });
    clearTimeout(timer);
    assert.equal(interrupted.outcome.status, 'interrupted');
    assert.equal(interrupted.migrations[0]?.status, 'interrupted');
    assert.equal(interrupted.migrations[0]?.reason, 'the run was interrupted');
    const [interruptedLine] = assertMigrationDetails(interrupted.dir);
    assert.equal(interruptedLine?.qemu.status, 'cancelled', 'QEMU cancelled it');
    assert.deepEqual([interruptedLine?.integrity.flagged, interruptedLine?.integrity.corrupt_words, interruptedLine?.integrity.answered_after], [false, 0, null]);
    assert.deepEqual(interrupted.requests.filter((r) => r.status === 'corrupt'), []);
    assert.equal(platform.lab.processOf('vm01').pid, before.pid);
    assert.equal(await qmpStatus(platform, 'vm01'), 'running');
    assert.equal(platform.lab.state.processes.filter((p) => p.kind === 'qemu').length, 1, 'the target QEMU is gone');
    await platform.close();
    assert.equal(fs.existsSync(config.labDir), false);
  });
});
