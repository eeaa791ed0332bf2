/**
 * The fixture a libvirt platform's tests stand on, tried for real: two libvirt daemons on this
 * machine (support/libvirt-hosts.ts), a guest of the project's own image started on the first,
 * its workload server answering on the bridge, migrated live to the second with
 * `virsh migrate --live --p2p`, still answering there; then everything taken down.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { defaultCacheDir, guestImage, type GuestImage } from '../../src/platforms/qemu/guest-image.ts';
import { netnsExists, netnsPath } from '../../src/platforms/qemu/network.ts';
import { commandLine, isRunning, processesInNetns, processStartTime, type ProcessIdentity } from '../../src/platforms/qemu/processes.ts';
import { staticBusybox } from '../../src/platforms/qemu/requirements.ts';
import {
  domainXml, EXACT_RAM_ID, guestCmdline, libvirtGuestAddress, libvirtGuestMac, libvirtSkipReason, parseKeyValues, ramBlocks, startLibvirtHosts, virsh, waitForGuest,
  type LibvirtHosts,
} from './support/libvirt-hosts.ts';

const skip = libvirtSkipReason();
const { after, before, describe, it } = needing(skip);

const DOMAIN = 'web1';
const ADDRESS = libvirtGuestAddress(1);

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

function allowedCpus(pid: number | 'self'): string {
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
}

/** The QEMU processes running in `netns`. */
function qemuPids(netns: string): number[] {
  return processesInNetns(netnsPath(netns)).filter((pid) => path.basename(commandLine(pid)?.[0] ?? '').startsWith('qemu-system-'));
}

async function domainState(uri: string): Promise<string> {
  return (await virsh(uri, ['domstate', DOMAIN])).trim();
}

async function runningDomains(uri: string): Promise<string[]> {
  return (await virsh(uri, ['list', '--name'])).split('\n').map((line) => line.trim()).filter(Boolean);
}

describe('libvirt fixture: two hosts on one machine, one live migration', () => {
  let image: GuestImage;
  let lab: LibvirtHosts | undefined;
  const startLog: string[] = [];
  /** Every process seen in the namespace (daemons, each host's QEMU), to check that stop() ended them all. */
  const seen = new Map<string, ProcessIdentity>();
  const noteProcesses = (): void => {
    if (!lab) return;
    for (const pid of processesInNetns(netnsPath(lab.netns))) {
      const starttime = processStartTime(pid);
      if (starttime !== null) seen.set(`${pid}/${starttime}`, { pid, starttime });
    }
  };

  before(async () => {
    image = await guestImage({ cacheDir: defaultCacheDir(), nic: 'virtio-net-pci', busybox: staticBusybox() ?? '/bin/busybox' });
    lab = await startLibvirtHosts({ count: 2, log: (line) => startLog.push(line) });
  });

  after(async () => {
    await lab?.stop();
  });

  it('runs a guest on host1, migrates it live to host2, and it answers on both', async (t) => {
    for (const line of startLog) t.diagnostic(line);
    const [a, b] = lab!.hosts as [LibvirtHosts['hosts'][0], LibvirtHosts['hosts'][0]];
    for (const host of lab!.hosts) {
      // Each step of the start execs the next: the pid stop() signals is libvirtd's own, the one it wrote.
      assert.equal(path.basename(commandLine(host.pid)?.[0] ?? ''), 'libvirtd', `pid ${host.pid} of ${host.name} is libvirtd`);
      assert.equal(fs.readFileSync(path.join(host.dir, 'libvirtd.pid'), 'utf8').trim(), String(host.pid));
    }
    const xmlFile = path.join(lab!.dir, `${DOMAIN}.xml`);
    const serialLog = path.join(lab!.dir, `${DOMAIN}.serial`);
    fs.writeFileSync(xmlFile, domainXml({
      name: DOMAIN, kernel: image.kernel, initrd: image.initrd, cmdline: guestCmdline(DOMAIN, ADDRESS),
      mac: libvirtGuestMac(1), bridge: lab!.bridge, serialLog,
    }), { flag: 'wx' });

    let since = performance.now();
    await virsh(a.uri, ['define', xmlFile]);
    await virsh(a.uri, ['start', DOMAIN], 60_000);
    t.diagnostic(`define + start on ${a.name}: ${seconds(since)} s`);
    since = performance.now();
    try {
      await waitForGuest(lab!.netns, ADDRESS, DOMAIN, 90_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}; serial console: ${fs.existsSync(serialLog) ? fs.readFileSync(serialLog, 'utf8').slice(-1500) : '(none)'}`, { cause: error });
    }
    t.diagnostic(`guest's server answering ${seconds(since)} s after start`);
    noteProcesses();
    const [qemu] = qemuPids(lab!.netns);
    assert.ok(qemu, 'the guest runs in a QEMU in the namespace');
    // The daemons run on one CPU (libvirt-hosts.ts, daemonCpu); their guests must not.
    assert.equal(allowedCpus(qemu), allowedCpus('self'), 'QEMU may use every CPU this process may');

    const ramOnA = await ramBlocks(a.uri, DOMAIN);
    assert.equal(ramOnA.get(EXACT_RAM_ID), 262152 * 1024, `RAM blocks on ${a.name}: ${[...ramOnA].join(' ')}`);

    since = performance.now();
    await virsh(a.uri, ['migrate', '--live', '--p2p', DOMAIN, b.uri], 120_000);
    t.diagnostic(`virsh migrate --live --p2p: ${seconds(since)} s wall`);
    noteProcesses();

    assert.equal(await domainState(b.uri), 'running');
    const ramOnB = await ramBlocks(b.uri, DOMAIN);
    assert.deepEqual(await runningDomains(b.uri), [DOMAIN]);
    // libvirt rounds the size up to whole MiB; the guest's RAM is still the exact one, not a
    // multiple of 256 KiB, on both sides (domainXml, exactMemoryArgs).
    assert.match(await virsh(b.uri, ['dumpxml', DOMAIN]), /<memory unit='KiB'>263168<\/memory>/);
    assert.equal(ramOnB.get(EXACT_RAM_ID), 262152 * 1024, `RAM blocks on ${b.name}: ${[...ramOnB].join(' ')}`);
    assert.deepEqual(await runningDomains(a.uri), []);
    // Defined on host1, migrated without --undefinesource: its definition stays there, shut off.
    assert.equal(await domainState(a.uri), 'shut off');

    const job = parseKeyValues(await virsh(a.uri, ['domjobinfo', DOMAIN, '--completed', '--rawstats']));
    for (const key of ['time_elapsed', 'downtime', 'memory_iteration', 'memory_processed']) {
      assert.match(job.get(key) ?? '', /^\d+$/, `domjobinfo has ${key}: ${[...job].map(([k, v]) => `${k}=${v}`).join(' ')}`);
    }
    t.diagnostic(`completed job on ${a.name}: time_elapsed ${job.get('time_elapsed')} ms, downtime ${job.get('downtime')} ms, memory_iteration ${job.get('memory_iteration')}, memory_processed ${job.get('memory_processed')} B`);

    since = performance.now();
    await waitForGuest(lab!.netns, ADDRESS, DOMAIN, 10_000);
    t.diagnostic(`server answering on ${b.name} ${seconds(since)} s after the migration returned`);
  });

  it('stop() takes down domains, daemons, QEMU processes, the namespace and the directory', async () => {
    noteProcesses();
    const { netns, dir, hosts } = lab!;
    for (const host of hosts) seen.set(`${host.identity.pid}/${host.identity.starttime}`, host.identity);
    assert.ok(seen.size >= hosts.length, 'the daemons were seen');
    await lab!.stop();
    for (const identity of seen.values()) assert.equal(isRunning(identity), false, `process ${identity.pid} is gone`);
    assert.equal(netnsExists(netns), false, `namespace ${netns} deleted`);
    assert.deepEqual(processesInNetns(netnsPath(netns)), []);
    assert.equal(fs.existsSync(dir), false, `${dir} removed`);
  });
});
