/**
 * The lab runs as root, so it trusts nothing it did not make: a lab directory someone else
 * owns, one open to others, or a link, is refused before anything in it is read; a state
 * file's pids are signalled only when they are the lab's own processes, its QEMU is run only
 * when only root can change it, and no file is read or written through a planted link. No VM
 * is booted: the state files here are planted, and the "processes" in them are `sleep`s.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needing, rootSkipReason } from '../support/needing.ts';
import { guestImage } from '../../src/platforms/qemu/guest-image.ts';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { netnsNameFor, readState, writeState, type LabState } from '../../src/platforms/qemu/lab-state.ts';
import { isRunning, processStartTime, type ProcessIdentity } from '../../src/platforms/qemu/processes.ts';
import { runCli } from '../support/cli.ts';

const NOBODY = 65534;
const skip = rootSkipReason('to plant directories of another user');
const { after, describe, it } = needing(skip);

/** A state file as `lab up` writes it for `dir`, its HAProxy being `haproxy`. */
function plantedState(dir: string, haproxy: ProcessIdentity, qemu = '/usr/bin/qemu-system-x86_64'): LabState {
  return {
    version: 1, dir, netns: netnsNameFor(dir), status: 'up', created_at: new Date().toISOString(),
    accelerator: 'tcg', accelerator_note: 'configured', qemu, qemu_version: 'QEMU emulator version 7.2', image: null,
    memory_mb: 256, vcpus: 1, nic: 'virtio-net-pci', lb_socket: path.join(dir, 'lb.sock'), admin_socket: path.join(dir, 'haproxy-admin.sock'),
    hosts: [{ name: 'esx1', cpus: null }], vms: [],
    processes: [{ id: 'haproxy', kind: 'haproxy', ...haproxy, log: path.join(dir, 'haproxy.log') }],
    next_process: 1, boot_seconds: {},
  };
}

function writeJson(file: string, state: LabState): void {
  fs.writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

describe('the lab directory and what is in it', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-lab-dir-'));
  const sleepers: ChildProcess[] = [];
  after(() => {
    for (const child of sleepers) child.kill('SIGKILL');
    fs.rmSync(base, { recursive: true, force: true });
  });

  /** A process of this test's own that a planted state file names (as the lab's HAProxy). */
  const sleeper = (): ProcessIdentity => {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    sleepers.push(child);
    return { pid: child.pid as number, starttime: processStartTime(child.pid as number) as string };
  };

  it('refuses a directory another user owns, one open to others, or a link, and signals no pid in it', async () => {
    const victim = sleeper();
    const owned = path.join(base, 'owned');
    fs.mkdirSync(owned, { mode: 0o700 });
    writeJson(path.join(owned, 'lab.json'), plantedState(owned, victim));
    fs.chownSync(owned, NOBODY, NOBODY);
    const open = path.join(base, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    writeJson(path.join(open, 'lab.json'), plantedState(open, victim));
    const link = path.join(base, 'link');
    fs.symlinkSync(open, link);
    const unsafeParent = path.join(base, 'shared');
    fs.mkdirSync(unsafeParent);
    fs.chmodSync(unsafeParent, 0o777);
    const underShared = path.join(unsafeParent, 'lab');
    fs.mkdirSync(underShared, { mode: 0o700 });
    writeJson(path.join(underShared, 'lab.json'), plantedState(underShared, victim));

    for (const [dir, why] of [
      [owned, `belongs to uid ${NOBODY}, not to you \\(uid 0\\)`],
      [open, 'is open to others \\(mode 777\\)'],
      [link, 'is a symbolic link'],
      [underShared, 'is on the way and others may write to it \\(mode 777\\)'],
    ] as const) {
      for (const command of ['down', 'status', 'up']) {
        const result = await runCli(['lab', command, '--dir', dir]);
        assert.equal(result.code, 2, `lab ${command} --dir ${dir}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`^vm-monitoring: refusing the lab directory [^\\n]+: it ${why}\\n$`), `lab ${command} --dir ${dir}`);
      }
      assert.ok(isRunning(victim), `the process the state file in ${dir} names was not signalled`);
      assert.ok(fs.existsSync(path.join(dir, 'lab.json')), 'nothing in it was removed');
    }
  });

  it('takes down a lab of its own without signalling a pid of its state file that is not the lab\'s process', async () => {
    const stranger = sleeper();
    const dir = fs.mkdtempSync(path.join(base, 'own-'));
    writeJson(path.join(dir, 'lab.json'), plantedState(dir, stranger));
    const down = await runCli(['lab', 'down', '--dir', dir]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, new RegExp(`not signalling pid ${stranger.pid} of haproxy: it is not the lab's haproxy any more`));
    assert.ok(isRunning(stranger), 'a pid reused by another process is left alone');
    assert.equal(fs.existsSync(dir), false, 'the lab\'s files are removed');
  });

  it('attaches only to a lab whose QEMU only root can change and whose processes are its own', () => {
    const stranger = sleeper();
    const writable = fs.mkdtempSync(path.join(base, 'bin-'));
    fs.chmodSync(writable, 0o777);
    const fakeQemu = path.join(writable, 'qemu-system-x86_64');
    fs.writeFileSync(fakeQemu, '#!/bin/sh\n', { mode: 0o755 });
    const dir = fs.mkdtempSync(path.join(base, 'attach-'));
    writeJson(path.join(dir, 'lab.json'), plantedState(dir, stranger, fakeQemu));
    assert.throws(() => Lab.attach(dir), /refusing the lab's QEMU .*: it is on the way and others may write to it/);
    writeJson(path.join(dir, 'lab.json'), plantedState(dir, stranger, '/bin/sh'));
    assert.throws(() => Lab.attach(dir), /the lab's QEMU \/bin\/sh is not a qemu-system-x86_64/);
    if (fs.existsSync('/usr/bin/qemu-system-x86_64')) {
      writeJson(path.join(dir, 'lab.json'), plantedState(dir, stranger));
      assert.throws(() => Lab.attach(dir), new RegExp(`lists processes that are not its own \\(haproxy: pid ${stranger.pid}\\)`));
    }
    assert.ok(isRunning(stranger));
    assert.equal(fs.existsSync(path.join(dir, 'lab.lock')), false, 'a refused attach lets go of the lock');
  });

  it('builds no guest image in a cache others can write to', async () => {
    const shared = fs.mkdtempSync(path.join(base, 'cache-'));
    fs.chmodSync(shared, 0o777);
    await assert.rejects(guestImage({ cacheDir: shared, nic: 'virtio-net-pci', busybox: '/bin/busybox' }), /^InputError: refusing the guest image cache .*: it is open to others \(mode 777\)/);
    assert.deepEqual(fs.readdirSync(shared), []);
  });

  it('reads no state file that puts the lab\'s files elsewhere, or through a link, and writes none through a link', async () => {
    const victimFile = path.join(base, 'victim.txt');
    fs.writeFileSync(victimFile, 'precious\n');
    const dir = fs.mkdtempSync(path.join(base, 'files-'));
    const state = plantedState(dir, { pid: 1, starttime: '0' });
    writeJson(path.join(dir, 'lab.json'), { ...state, lb_socket: '/etc/lb.sock' });
    assert.throws(() => readState(dir), /lab\.json is not a lab state file this tool wrote \(a socket outside the directory\)/);
    writeJson(path.join(dir, 'lab.json'), { ...state, processes: [{ id: 'haproxy', kind: 'haproxy', pid: 1, starttime: '0', log: victimFile }] });
    assert.throws(() => readState(dir), /\(process haproxy's log is .*victim\.txt\)/);

    fs.rmSync(path.join(dir, 'lab.json'));
    const elsewhere = path.join(base, 'elsewhere.json');
    writeJson(elsewhere, state);
    fs.symlinkSync(elsewhere, path.join(dir, 'lab.json'));
    assert.throws(() => readState(dir), /cannot read .*lab\.json/);
    fs.rmSync(path.join(dir, 'lab.json'));

    // The state file's temporary file, planted as a link: written afresh, the link's target untouched.
    fs.symlinkSync(victimFile, path.join(dir, `lab.json.${process.pid}.tmp`));
    writeState(state);
    assert.equal(fs.readFileSync(victimFile, 'utf8'), 'precious\n');
    assert.equal(fs.lstatSync(path.join(dir, 'lab.json')).isFile(), true);
    fs.rmSync(path.join(dir, 'lab.json'));

    // A lab is not brought up over a planted haproxy.cfg (or any file a lab makes).
    fs.symlinkSync(victimFile, path.join(dir, 'haproxy.cfg'));
    await assert.rejects(
      Lab.up({
        dir, cacheDir: path.join(base, 'cache'), hosts: [{ name: 'esx1', cpus: null }], vms: [{ name: 'vm01', host: 'esx1' }], memoryMB: 256, vcpus: 1,
        nic: 'virtio-net-pci', accelerator: 'tcg', kvmProbeSeconds: 1, bootTimeoutSeconds: 1, serverTimeoutSeconds: 1,
      }),
      /a lab is already there \(maybe half made\)/,
    );
    assert.equal(fs.readFileSync(victimFile, 'utf8'), 'precious\n');
  });
});
