/** The libvirt platform's pure parts: its config, virsh migrate's arguments, the inventory's checks, the job statistics. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { libvirtConfigSchema, loadLibvirtConfig } from '../../src/platforms/libvirt/config.ts';
import { inventoryOf } from '../../src/platforms/libvirt/inventory.ts';
import { jobStatsOf } from '../../src/platforms/libvirt/job-stats.ts';
import { migrateArgs, strategyOf } from '../../src/platforms/libvirt/migrate-command.ts';
import { iterationOf } from '../../src/platforms/libvirt/migration.ts';
import { libvirtReason } from '../../src/platforms/libvirt/virsh.ts';

const HOSTS = [{ name: 'kvm1', uri: 'qemu+ssh://root@kvm1/system' }, { name: 'kvm2', uri: 'qemu+tcp://kvm2/system' }];
const LOAD = { url: 'http://lb.example:8080' };
const settings = (migration: object) => libvirtConfigSchema.parse({ hosts: HOSTS, load: LOAD, migration }).migration;

function configError(text: string): InputError {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-libvirt-config-'));
  try {
    const file = path.join(dir, 'libvirt.yaml');
    fs.writeFileSync(file, text);
    try {
      loadLibvirtConfig(file);
    } catch (error) {
      assert.ok(error instanceof InputError, String(error));
      return error;
    }
    throw new Error('no error');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the config: hosts with URIs, defaults for the rest; mistakes at their line and column', () => {
  const config = libvirtConfigSchema.parse({ hosts: HOSTS, load: LOAD });
  assert.deepEqual(config.migration, { mode: 'p2p', autoConverge: false, cancelAfterSeconds: 600 });
  assert.equal(config.timeouts.callSeconds, 30);
  assert.deepEqual(config.probe, { path: '/vm/{vm}/ping', intervalMs: 1, settleSeconds: 15 });
  assert.equal(config.load.paths.memory2, '/memory2?mb=16&ms=200', 'the project\'s guest server by default');
  assert.match(configError('hosts: [{ name: kvm1, uri: "qemu:///system" }]\n').message, /load/, 'the balancer is the user\'s to name');
  const probe = configError('hosts: [{ name: kvm1, uri: "qemu:///system" }]\nload: { url: "http://lb" }\nprobe: { path: /ping }\n');
  assert.match(probe.message, /names the VM as \{vm\}/);
  assert.equal(probe.at?.line, 3);
  const twice = configError('load: { url: "http://lb" }\nhosts:\n  - { name: kvm1, uri: "qemu+ssh://kvm1/system" }\n  - { name: kvm1, uri: "qemu+ssh://kvm2/system" }\n');
  assert.match(twice.message, /host kvm1 is named twice/);
  assert.deepEqual([twice.at?.line, twice.at?.column], [4, 13]);
  const password = configError('load: { url: "http://lb" }\nhosts:\n  - name: kvm1\n    uri: "qemu+tcp://root:secret@kvm1/system"\n');
  assert.match(password.message, /must not carry a password/);
  assert.doesNotMatch(password.message, /secret/, 'the password is not repeated');
  assert.equal(password.at?.line, 4);
  const postcopy = configError('hosts: [{ name: kvm1, uri: "qemu:///system" }]\nload: { url: "http://lb" }\nmigration:\n  postcopy: { switchOver: after-timeout }\n');
  assert.match(postcopy.message, /afterSeconds goes with switchOver: after-timeout/);
  assert.equal(configError('hosts: [{ name: kvm1, uri: "qemu:///system" }]\nload: { url: "http://lb" }\nmigration: { bandwidth: 10 }\n').at?.line, 3);
});

test('the sample config for a two-host cluster over ssh reads, with what it says', () => {
  const config = loadLibvirtConfig(path.join(import.meta.dirname, '..', '..', 'samples', 'libvirt', 'config.yaml'));
  assert.deepEqual(config.hosts.map((host) => host.uri), ['qemu+ssh://root@kvm1.example.org/system', 'qemu+ssh://root@kvm2.example.org/system']);
  assert.equal(config.load.url, 'http://lb.example.org:8080');
  assert.equal(strategyOf(config.migration), 'p2p');
});

test('virsh migrate\'s arguments follow the strategy, the domain and URI after --', () => {
  assert.deepEqual(migrateArgs('web1', 'qemu+ssh://kvm2/system', 'kvm2', settings({})), ['migrate', '--live', '--p2p', '--', 'web1', 'qemu+ssh://kvm2/system']);
  const everything = settings({
    mode: 'direct', migrateUri: 'tcp://{target}-mig', maxBandwidthMiBps: 100, autoConverge: true, postcopy: { switchOver: 'after-timeout', afterSeconds: 30 },
    parallelConnections: 4, compression: ['xbzrle', 'zstd'], copyStorage: 'all',
  });
  assert.deepEqual(migrateArgs('-web1', 'qemu+tcp://kvm2/system', 'kvm2', everything), [
    'migrate', '--live', '--migrateuri', 'tcp://kvm2-mig', '--bandwidth', '100', '--auto-converge', '--postcopy', '--timeout', '30', '--timeout-postcopy',
    '--parallel', '--parallel-connections', '4', '--compressed', '--comp-methods', 'xbzrle,zstd', '--copy-storage-all', '--', '-web1', 'qemu+tcp://kvm2/system',
  ]);
  assert.equal(strategyOf(everything), 'direct, auto-converge, post-copy after 30 s, 4 connections, compressed (xbzrle, zstd), storage copied (whole disks)');
  assert.deepEqual(migrateArgs('web1', 'u', 'kvm2', settings({ postcopy: { switchOver: 'after-precopy' } })).slice(3, 5), ['--postcopy', '--postcopy-after-precopy']);
});

test('the inventory: each active domain where it runs; one running twice or a name for two domains refused', () => {
  const domain = (host: string, name: string, uuid: string, active: boolean) => ({ host, name, uuid, active });
  assert.deepEqual(inventoryOf(['kvm1', 'kvm2'], [domain('kvm1', 'web1', 'u1', false), domain('kvm2', 'web1', 'u1', true), domain('kvm1', 'db', 'u2', true), domain('kvm2', 'old', 'u3', false)]), {
    hosts: ['kvm1', 'kvm2'],
    vms: [{ name: 'web1', host: 'kvm2' }, { name: 'db', host: 'kvm1' }],
  });
  assert.throws(() => inventoryOf(['kvm1', 'kvm2'], [domain('kvm1', 'web1', 'u1', true), domain('kvm2', 'web1', 'u1', true)]), /web1 is running on 2 hosts at once \(kvm1, kvm2\)/);
  assert.throws(() => inventoryOf(['kvm1', 'kvm2'], [domain('kvm1', 'web1', 'u1', true), domain('kvm2', 'web1', 'u9', false)]), /the name web1 is used by 2 different domains/);
});

test('the completed job\'s statistics, and libvirt\'s reason out of a failed virsh call', () => {
  const stats = jobStatsOf('Job type:         Completed\noperation: 8\ntime_elapsed: 799\ndowntime: 16\nsetup_time: 12\nmemory_processed: 60123456\nmemory_iteration: 3\n');
  assert.deepEqual([stats.totalMs, stats.downtimeMs, stats.setupMs, stats.bytes, stats.passes], [799, 16, 12, 60123456, 3]);
  assert.equal(stats.raw['Job type'], 'Completed');
  assert.equal(jobStatsOf('time_elapsed: soon\n').totalMs, null);
  assert.equal(libvirtReason('virsh --quiet -c qemu:///system migrate web1: error: operation failed: migration out job: unexpectedly failed\nerror: Connection refused\n'),
    'operation failed: migration out job: unexpectedly failed; Connection refused');
});

test('a pass from virsh event\'s migration-iteration line, nothing from its other lines', () => {
  assert.equal(iterationOf("event 'migration-iteration' for domain 'web1': iteration: '3'"), 3);
  assert.equal(iterationOf("2026-12-03 12:00:00.000+0000: event 'migration-iteration' for domain 'web1': iteration: '12'"), 12);
  assert.equal(iterationOf("event 'lifecycle' for domain 'web1': Suspended Migrated"), null);
  assert.equal(iterationOf('events received: 2'), null);
});
