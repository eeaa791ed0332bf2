/**
 * The qemu platform's parts that need no VM: the initramfs writer, module order, HAProxy's
 * configuration, the config file, the lab's layout and a few readings.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { parseScript } from '../../src/script/parse.ts';
import { checkAgainstInventory } from '../../src/script/validate.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { labLayout, loadQemuConfig, qemuConfigSchema } from '../../src/platforms/qemu/config.ts';
import { cpuMhzFromCpuinfo } from '../../src/platforms/qemu/counters.ts';
import { cpioArchive } from '../../src/platforms/qemu/cpio.ts';
import { exec, findExecutable } from '../../src/exec.ts';
import { moduleLoadOrder } from '../../src/platforms/qemu/guest-image.ts';
import { haproxyConfig } from '../../src/platforms/qemu/haproxy.ts';
import { guestMemoryArgument } from '../../src/platforms/qemu/lab.ts';
import { defaultLabDir, netnsNameFor } from '../../src/platforms/qemu/lab-state.ts';
import { guestAddress, guestMac } from '../../src/platforms/qemu/network.ts';
import { canonicalPath, makePrivateDir, writeExclusive } from '../../src/platforms/qemu/safe-paths.ts';

function withTemp<T>(body: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-parts-'));
  try {
    return body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads a newc archive back: name, mode, size and data of each entry. */
function readCpio(archive: Buffer): { name: string; mode: number; data: Buffer; rdev: [number, number] }[] {
  const entries = [];
  let at = 0;
  for (;;) {
    assert.equal(archive.toString('ascii', at, at + 6), '070701', `magic at ${at}`);
    const field = (i: number): number => parseInt(archive.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = archive.toString('utf8', at + 110, at + 110 + nameSize - 1);
    const dataAt = Math.ceil((at + 110 + nameSize) / 4) * 4;
    if (name === 'TRAILER!!!') break;
    entries.push({ name, mode, data: archive.subarray(dataAt, dataAt + size), rdev: [field(9), field(10)] as [number, number] });
    at = Math.ceil((dataAt + size) / 4) * 4;
  }
  return entries;
}

describe('qemu platform parts', () => {
  it('writes a newc cpio archive the kernel can unpack: directories, files, symlinks, device nodes, 4-byte aligned', () => {
    const archive = cpioArchive([
      { kind: 'directory', path: 'bin' },
      { kind: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'char-device', path: 'dev/console', major: 5, minor: 1 },
      { kind: 'file', path: 'etc/odd', data: Buffer.from('abc') },
    ]);
    assert.equal(archive.length % 4, 0);
    const entries = readCpio(archive);
    assert.deepEqual(entries.map((entry) => entry.name), ['bin', 'init', 'bin/sh', 'dev/console', 'etc/odd']);
    assert.equal(entries[0]!.mode, 0o040755);
    assert.equal(entries[1]!.mode, 0o100755);
    assert.equal(entries[1]!.data.toString(), '#!/bin/sh\n');
    assert.equal(entries[2]!.mode, 0o120777);
    assert.equal(entries[2]!.data.toString(), 'busybox');
    assert.equal(entries[3]!.mode, 0o020600);
    assert.deepEqual(entries[3]!.rdev, [5, 1]);
    assert.equal(entries[4]!.data.toString(), 'abc');
    assert.deepEqual(cpioArchive([{ kind: 'file', path: 'a', data: Buffer.from('x') }]), cpioArchive([{ kind: 'file', path: 'a', data: Buffer.from('x') }]));
    assert.throws(() => cpioArchive([{ kind: 'file', path: '../etc/passwd', data: Buffer.alloc(0) }]), /bad cpio path/);
  });

  it('orders kernel modules dependencies first, each once, from modules.dep', () =>
    withTemp((dir) => {
      fs.writeFileSync(
        path.join(dir, 'modules.dep'),
        [
          'kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz kernel/drivers/virtio/virtio.ko.xz',
          'kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz',
          'kernel/net/core/failover.ko.xz:',
          'kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio.ko.xz',
          'kernel/drivers/virtio/virtio.ko.xz:',
          '',
        ].join('\n'),
      );
      fs.writeFileSync(path.join(dir, 'modules.builtin'), 'kernel/drivers/net/e1000.ko\n');
      assert.deepEqual(moduleLoadOrder(dir, ['virtio_pci', 'virtio_net']), [
        'kernel/drivers/virtio/virtio.ko.xz',
        'kernel/drivers/virtio/virtio_pci.ko.xz',
        'kernel/net/core/failover.ko.xz',
        'kernel/drivers/net/net_failover.ko.xz',
        'kernel/drivers/net/virtio_net.ko.xz',
      ]);
      assert.deepEqual(moduleLoadOrder(dir, ['e1000']), [], 'a built-in module needs no file');
      assert.throws(() => moduleLoadOrder(dir, ['nope']), /kernel module nope not found/);
    }));

  it('configures HAProxy with a unix listener, round-robin over the VMs and a path per VM', async () => {
    const text = haproxyConfig({
      listenSocket: '/tmp/lab/lb.sock', adminSocket: '/tmp/lab/admin.sock', serverTimeoutSeconds: 600,
      vms: [{ name: 'vm01', address: '10.77.0.11' }, { name: 'vm.2', address: '10.77.0.12' }],
    });
    assert.match(text, /bind unix@\/tmp\/lab\/lb\.sock mode 600/);
    assert.match(text, /backend all\n {2}balance roundrobin\n {2}server vm01 10\.77\.0\.11:80\n {2}server vm\.2 10\.77\.0\.12:80/);
    assert.match(text, /use_backend vm_vm01 if \{ path_beg \/vm\/vm01\/ \}/);
    assert.match(text, /http-request replace-path \^\/vm\/vm\\\.2\(\/\.\*\)\$ \\1/);
    assert.doesNotMatch(text, / check/, 'no health checks: a stopped VM stays in rotation');
    const haproxy = findExecutable('haproxy');
    if (haproxy) {
      await withTempAsync(async (dir) => {
        const file = path.join(dir, 'haproxy.cfg');
        fs.writeFileSync(file, text.replaceAll('/tmp/lab/', `${dir}/`));
        await exec(haproxy, ['-c', '-q', '-f', file]);
      });
    }
  });

  it('reads the platform config with defaults and reports a bad key at its line and column', () =>
    withTemp((dir) => {
      const defaults = qemuConfigSchema.parse({});
      assert.equal(defaults.migration.maxBandwidthMbps, 1000);
      assert.equal(defaults.migration.downtimeLimitMs, 300);
      assert.equal(defaults.migration.pollMs, 50);
      assert.equal(defaults.probe.intervalMs, 1);
      assert.equal(defaults.accelerator, 'auto');
      const good = path.join(dir, 'good.yaml');
      fs.writeFileSync(good, 'hosts:\n  - esx1\n  - { name: esx2, cpus: [1] }\nvms: [a, b, c]\nmigration: { downtimeLimitMs: 100 }\n');
      const config = loadQemuConfig(good);
      assert.deepEqual(labLayout(config), {
        hosts: [{ name: 'esx1', cpus: null }, { name: 'esx2', cpus: [1] }],
        vms: [{ name: 'a', host: 'esx1' }, { name: 'b', host: 'esx2' }, { name: 'c', host: 'esx1' }],
      });
      assert.equal(config.migration.downtimeLimitMs, 100);
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, 'migration:\n  maxBandwidthMbps: 1000\n  speed: 3\n');
      assert.throws(() => loadQemuConfig(bad), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.toOneLine(), `${bad}:3:3: unknown key 'speed' in migration`);
        return true;
      });
    }));

  it('lays out esx1..N and vm01..NN round-robin by default', () => {
    const layout = labLayout(qemuConfigSchema.parse({}), { hosts: 2, vms: 3 });
    assert.deepEqual(layout.hosts.map((host) => host.name), ['esx1', 'esx2']);
    assert.deepEqual(layout.vms, [{ name: 'vm01', host: 'esx1' }, { name: 'vm02', host: 'esx2' }, { name: 'vm03', host: 'esx1' }]);
  });

  it('gives each VM a fixed address and MAC, each lab its own namespace, and TCG guests RAM off the 64-page multiple', () => {
    assert.equal(guestAddress(1), '10.77.0.11');
    assert.equal(guestMac(258), '52:54:00:4d:01:02');
    assert.throws(() => guestAddress(0));
    assert.equal(netnsNameFor('/tmp/a'), netnsNameFor('/tmp/a/'));
    assert.notEqual(netnsNameFor('/tmp/a'), netnsNameFor('/tmp/b'));
    assert.equal(guestMemoryArgument(256, 'tcg'), '262152K');
    assert.equal((262152 * 1024) % (64 * 4096) !== 0, true);
    assert.equal(guestMemoryArgument(512, 'kvm'), '512');
  });

  it('ships a lab config and the seed\'s 3.3 scripts sized for the lab: 3 hosts, 1 VM, 20 migrations', () => {
    const config = loadQemuConfig(path.join(REPO_ROOT, 'samples', 'qemu', 'lab.yaml'));
    const layout = labLayout(config);
    assert.deepEqual(layout.hosts.map((host) => host.name), ['esx1', 'esx2', 'esx3']);
    assert.deepEqual(layout.vms, [{ name: 'vm01', host: 'esx1' }]);
    for (const type of ['cpu', 'memory', 'memory2']) {
      const file = path.join(REPO_ROOT, 'samples', 'qemu', `3.3-${type}.txt`);
      const experiment = parseScript(fs.readFileSync(file, 'utf8'), file);
      checkAgainstInventory(experiment, { hosts: ['esx1', 'esx2', 'esx3'], vms: [{ name: 'vm01', host: 'esx1' }] });
      assert.equal(experiment.steps.filter((step) => step.action.kind === 'migrate').length, 20, file);
    }
  });

  it('puts the default lab in a runtime directory of the user\'s own, makes lab directories 0700, refuses one under someone else\'s', () =>
    withTemp((dir) => {
      assert.equal(defaultLabDir(0, {}), '/run/vm-monitoring/lab');
      assert.equal(defaultLabDir(1000, { XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/vm-monitoring/lab');
      assert.equal(defaultLabDir(1000, {}), path.join(os.tmpdir(), 'vm-monitoring-1000', 'lab'));
      const runtime = path.join(dir, 'run', 'vm-monitoring');
      makePrivateDir('the lab directory', path.join(runtime, 'lab'));
      for (const made of [path.dirname(runtime), runtime, path.join(runtime, 'lab')]) assert.equal(fs.statSync(made).mode & 0o7777, 0o700, made);
      fs.symlinkSync(runtime, path.join(dir, 'link'));
      assert.equal(canonicalPath(path.join(dir, 'link', 'lab')), path.join(fs.realpathSync(runtime), 'lab'), 'links on the way are resolved');
      assert.equal(canonicalPath(path.join(dir, 'link')), path.join(fs.realpathSync(dir), 'link'), 'the directory itself is kept, to be refused if a link');
      if (process.getuid?.() === 0) {
        const planted = path.join(dir, 'planted');
        fs.mkdirSync(planted);
        fs.chownSync(planted, 65534, 65534);
        assert.throws(() => makePrivateDir('the lab directory', path.join(planted, 'lab')), /^InputError: refusing the lab directory .*planted: it is on the way and belongs to uid 65534/);
        assert.equal(fs.existsSync(path.join(planted, 'lab')), false);
      }
    }));

  it('creates a file only where nothing is, a planted link included', () =>
    withTemp((dir) => {
      const victim = path.join(dir, 'victim');
      fs.writeFileSync(victim, 'precious');
      fs.symlinkSync(victim, path.join(dir, 'haproxy.cfg'));
      assert.throws(() => writeExclusive(path.join(dir, 'haproxy.cfg'), 'global\n'), /EEXIST/);
      fs.symlinkSync(path.join(dir, 'missing'), path.join(dir, 'dangling'));
      assert.throws(() => writeExclusive(path.join(dir, 'dangling'), 'x'), /EEXIST/);
      assert.equal(fs.existsSync(path.join(dir, 'missing')), false, 'a dangling link is not followed either');
      assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
      writeExclusive(path.join(dir, 'new'), 'x');
      assert.equal(fs.statSync(path.join(dir, 'new')).mode & 0o777, 0o600);
    }));

  it('reads the CPU clock from /proc/cpuinfo', () => {
    assert.equal(cpuMhzFromCpuinfo('processor\t: 0\ncpu MHz\t\t: 2299.998\n'), 2299.998);
    assert.equal(cpuMhzFromCpuinfo('processor\t: 0\n'), null);
  });
});

async function withTempAsync<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-parts-'));
  try {
    return await body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
