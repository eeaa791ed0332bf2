/**
 * `vm-monitoring run --platform libvirt`, end to end on three real libvirt daemons of this
 * machine (support/libvirt-hosts.ts): two domains of the project's image behind HAProxy on the
 * hosts' bridge, a seed-format script with cpu and memory2 clients that migrates each VM away
 * and back, a migration libvirt refuses in the middle (host3 has no emulator) that the run
 * survives, a daemon restarted during a run (its counters pause and resume, a migration to it
 * succeeds), and a run interrupted by Ctrl-C during a migration, which libvirt aborts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { defaultCacheDir, guestImage } from '../../src/platforms/qemu/guest-image.ts';
import { staticBusybox } from '../../src/platforms/qemu/requirements.ts';
import { COUNTERS } from '../../src/monitor/counters.ts';
import { readCsvFile, runCli } from '../support/cli.ts';
import { needing } from '../support/needing.ts';
import { startBalancer, type Balancer } from './support/balancer.ts';
import { bootDomain, libvirtSkipReason, startLibvirtHosts, virsh, type LibvirtHosts } from './support/libvirt-hosts.ts';

const skip = libvirtSkipReason();
const { after, before, describe, it } = needing(skip);

const PLACEMENT = 'host1:vm1 host2:vm2 host3:';

/** The config a user would write for these hosts, with the fixture's sockets. */
function configYaml(lab: LibvirtHosts, balancer: Balancer, migration: string): string {
  return [
    'hosts:',
    ...lab.hosts.map((host) => `  - { name: ${host.name}, uri: "${host.uri}" }`),
    'load:',
    '  url: http://lb',
    `  socketPath: ${balancer.socket}`,
    `migration: ${migration}`,
    '',
  ].join('\n');
}

interface DetailsLine {
  vm: string;
  target: string;
  status: string;
  libvirt: { job: { raw: Record<string, string> } | null; progress: { iteration: number; job: Record<string, string> | null }[]; strategy: string; aborted: string | null };
  probe: { maxGapMs: number; maxGapAtS: number | null; answers: number; settled: boolean };
  integrity: { checked_requests: number; corrupt_words: number; flagged: boolean };
}

const readDetails = (dir: string): DetailsLine[] =>
  fs.readFileSync(path.join(dir, 'migration-details.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as DetailsLine);

/** Where libvirt says each domain runs now. */
async function runningWhere(lab: LibvirtHosts): Promise<Record<string, string[]>> {
  const where: Record<string, string[]> = {};
  for (const host of lab.hosts) {
    for (const name of (await virsh(host.uri, ['list', '--name'])).split('\n').map((line) => line.trim()).filter(Boolean)) {
      (where[name] ??= []).push(host.name);
    }
  }
  return where;
}

describe('vm-monitoring run --platform libvirt on three real daemons', () => {
  let lab: LibvirtHosts | undefined;
  let balancer: Balancer | undefined;
  let dir: string;

  before(async () => {
    const image = await guestImage({ cacheDir: defaultCacheDir(), nic: 'virtio-net-pci', busybox: staticBusybox() ?? '/bin/busybox' });
    lab = await startLibvirtHosts({ count: 3, withoutEmulator: ['host3'] });
    const [host1, host2] = lab.hosts;
    const vms = await Promise.all([
      bootDomain(lab, host1!, { name: 'vm1', index: 1, kernel: image.kernel, initrd: image.initrd }),
      bootDomain(lab, host2!, { name: 'vm2', index: 2, kernel: image.kernel, initrd: image.initrd }),
    ]);
    balancer = await startBalancer(lab, vms);
    dir = fs.mkdtempSync(path.join(lab.dir, 'runs-'));
  });

  after(async () => {
    await balancer?.stop();
    await lab?.stop();
  });

  it('runs a seed-format script: each VM away and back with libvirt\'s figures and the probe\'s, a refused migration recorded, counters every second', async (t) => {
    const config = path.join(dir, 'libvirt.yaml');
    fs.writeFileSync(config, configYaml(lab!, balancer!, '{ maxBandwidthMiBps: 200, downtimeLimitMs: 300 }'));
    const script = path.join(dir, 'away-and-back.txt');
    fs.writeFileSync(script, [
      PLACEMENT,
      '0 add-client cpu 1',
      '0 add-client memory2 1',
      '5 migrate vm1 host2',
      '0 migrate vm2 host1',
      '8 migrate vm1 host3',
      '2 migrate vm1 host1',
      '0 migrate vm2 host2',
      '8 end',
      '',
    ].join('\n'));
    const out = path.join(dir, 'run1');
    const result = await runCli(['run', script, '--platform', 'libvirt', '--config', config, '--out', out], { timeoutMs: 300_000 });
    assert.equal(result.code, 0, result.stderr);

    const runInfo = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { status: string; platform: { name: string; hosts: { versions: Record<string, string> | null }[] } };
    assert.equal(runInfo.status, 'completed');
    assert.equal(runInfo.platform.name, 'libvirt');
    assert.match(runInfo.platform.hosts[0]?.versions?.['Running against daemon'] ?? '', /\d+\.\d+/, JSON.stringify(runInfo.platform.hosts));

    assert.deepEqual(await runningWhere(lab!), { vm1: ['host1'], vm2: ['host2'] }, 'each VM back where it started, as libvirt says');

    const migrations = readCsvFile(path.join(out, 'migrations.csv')).rows;
    // Concurrent migrations end in either order: by VM, then time.
    const byVm = [...migrations].sort((a, b) => a.vm!.localeCompare(b.vm!) || Number(a.requested_s) - Number(b.requested_s));
    assert.deepEqual(byVm.map((m) => `${m.vm}>${m.target}:${m.status}`), ['vm1>host2:succeeded', 'vm1>host3:failed', 'vm1>host1:succeeded', 'vm2>host1:succeeded', 'vm2>host2:succeeded']);
    const refused = byVm[1]!;
    t.diagnostic(`refused: ${refused.reason}`);
    assert.match(refused.reason ?? '', /qemu-system-x86_64|emulator/i);
    const details = readDetails(out);
    for (const [index, migration] of migrations.entries()) {
      if (migration.status !== 'succeeded') continue;
      const line = details[index]!;
      assert.deepEqual([line.vm, line.target], [migration.vm, migration.target], 'migration-details.jsonl in the order of migrations.csv');
      t.diagnostic(`${migration.vm}>${migration.target}: ${migration.ended_s} - ${migration.started_s} s, downtime ${migration.downtime_ms} ms, felt ${migration.client_downtime_ms} ms, ${migration.bytes} bytes, ${migration.passes} passes, ${line.libvirt.progress.length} pass records, ${line.integrity.checked_requests} requests checked`);
      t.diagnostic(`  longest probe gap from ${((line.probe.maxGapAtS ?? Number.NaN) - Number(migration.started_s)).toFixed(3)} s after the start; libvirt: ${JSON.stringify(line.libvirt.job?.raw)}`);
      assert.ok(Number(migration.downtime_ms) >= 0 && Number(migration.bytes) > 1e6 && Number(migration.passes) >= 1, `libvirt's statistics: ${JSON.stringify(migration)}`);
      assert.equal(line.libvirt.job?.raw.downtime, migration.downtime_ms);
      assert.ok(line.libvirt.progress.length >= 1 && line.libvirt.progress.every((pass) => pass.iteration >= 1), 'a progress record per pass');
      assert.ok(line.probe.answers > 0 && line.probe.settled, 'the probe answered through the balancer, and after the move');
      assert.ok(Number(migration.client_downtime_ms) >= Number(migration.downtime_ms), 'a client feels at least the stop');
      assert.equal(line.integrity.corrupt_words, 0);
      assert.equal(line.integrity.flagged, false);
    }

    const requests = readCsvFile(path.join(out, 'requests.csv')).rows;
    const types = new Set(requests.map((r) => r.client_type));
    assert.deepEqual([...types].sort(), ['cpu', 'memory2']);
    assert.deepEqual(requests.filter((r) => r.status !== 'ok'), [], 'every request succeeded');
    assert.ok(requests.filter((r) => r.client_type === 'memory2').every((r) => r.corrupt_words === '0'), 'memory2 answers checked clean');

    const samples = readCsvFile(path.join(out, 'samples.csv')).rows;
    for (const host of ['host1', 'host2']) {
      const times = [...new Set(samples.filter((s) => s.host === host && s.counter === COUNTERS.cpuUsage.name).map((s) => Number(s.time_s)))];
      const gaps = times.slice(1).map((time, i) => time - times[i]!);
      // Every second, as far as the daemons answer: under two TCG migrations on two cores a sample can take seconds (that tick is then lost), never more than its 5 s timeout.
      const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
      assert.ok(times.length >= 15 && median > 0.8 && median < 1.2 && Math.max(...gaps) < 6, `${host}: cpu every second (${times.length} samples, median gap ${median} s, gaps ${Math.min(...gaps)}-${Math.max(...gaps)})`);
      for (const counter of [COUNTERS.memConsumed.name, COUNTERS.netUsage.name, COUNTERS.vmCount.name]) {
        assert.ok(samples.some((s) => s.host === host && s.counter === counter), `${host}: ${counter}`);
      }
    }
  });

  it('a daemon restarted during the run: its counters pause and resume, a later migration to it succeeds', async (t) => {
    const config = path.join(dir, 'restart.yaml');
    fs.writeFileSync(config, configYaml(lab!, balancer!, '{ maxBandwidthMiBps: 200 }'));
    const script = path.join(dir, 'restart.txt');
    fs.writeFileSync(script, `${PLACEMENT}\n0 add-client cpu 1\n2 migrate vm1 host2\n16 migrate vm1 host1\n6 end\n`);
    const out = path.join(dir, 'run-restart');
    const before = lab!.hosts[0]!.pid;
    const run = runCli(['run', script, '--platform', 'libvirt', '--config', config, '--out', out], { timeoutMs: 180_000 });
    // Once vm1 has left host1, its daemon goes down for 3 s: several counter ticks.
    const restart = (async () => {
      const deadline = Date.now() + 60_000;
      while ((await runningWhere(lab!)).vm1?.join() !== 'host2') {
        if (Date.now() > deadline) throw new Error('vm1 never ran on host2 alone');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return lab!.restart('host1', 3000);
    })();
    const [result, again] = await Promise.all([run, restart]);
    assert.equal(result.code, 0, result.stderr);
    assert.notEqual(again.pid, before, 'a new daemon');
    t.diagnostic(result.stderr.split('\n').filter((line) => /host1/.test(line)).join(' | '));
    assert.match(result.stderr, /libvirt host host1 did not answer a sample/);
    assert.match(result.stderr, /libvirt host host1 answers again/);

    const migrations = readCsvFile(path.join(out, 'migrations.csv')).rows;
    assert.deepEqual(migrations.map((m) => `${m.vm}>${m.target}:${m.status}`), ['vm1>host2:succeeded', 'vm1>host1:succeeded']);
    assert.deepEqual(await runningWhere(lab!), { vm1: ['host1'], vm2: ['host2'] });
    const host1 = readCsvFile(path.join(out, 'samples.csv')).rows.filter((s) => s.host === 'host1' && s.counter === COUNTERS.vmCount.name);
    const back = Number(migrations[1]!.ended_s);
    assert.ok(host1.some((s) => Number(s.time_s) > back && s.value === '1'), `host1's counters after vm1 came back: ${host1.map((s) => `${s.time_s}:${s.value}`).join(' ')}`);
  });

  it('Ctrl-C during a migration aborts libvirt\'s job: the run ends interrupted, the VM still runs on its source', async () => {
    const config = path.join(dir, 'slow.yaml');
    fs.writeFileSync(config, configYaml(lab!, balancer!, '{ maxBandwidthMiBps: 1 }'));
    const script = path.join(dir, 'slow.txt');
    fs.writeFileSync(script, `${PLACEMENT}\n0 add-client cpu 1\n2 migrate vm1 host2\n120 end\n`);
    const out = path.join(dir, 'run2');
    let interrupted = false;
    const result = await runCli(['run', script, '--platform', 'libvirt', '--config', config, '--out', out], {
      timeoutMs: 120_000,
      onStdout: (child, soFar) => {
        // The migrate action's record: the migration has begun; let libvirt's job get going first.
        if (!interrupted && /\bmigrate\b.*vm1/.test(soFar)) {
          interrupted = true;
          setTimeout(() => child.kill('SIGINT'), 4000);
        }
      },
    });
    assert.ok(interrupted, `the migration began; stderr: ${result.stderr}`);
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /1 migrations \(1 interrupted\)/);
    const runInfo = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { status: string };
    assert.equal(runInfo.status, 'interrupted');
    const [migration] = readCsvFile(path.join(out, 'migrations.csv')).rows;
    assert.equal(migration?.status, 'interrupted');
    assert.match(migration?.reason ?? '', /aborted/);
    assert.deepEqual(await runningWhere(lab!), { vm1: ['host1'], vm2: ['host2'] }, 'vm1 runs on its source only');
    assert.equal((await virsh(lab!.hosts[0]!.uri, ['domstate', 'vm1'])).trim(), 'running');
  });
});
