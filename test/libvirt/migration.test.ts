/**
 * The libvirt platform's inventory and migrations, for real: two libvirt daemons on this
 * machine (support/libvirt-hosts.ts), a guest of the project's image on the first, migrated
 * live with the configured strategy and its completed job's statistics; a migration libvirt
 * fails, recorded with its reason while the VM stays put; and one interrupted mid-way, aborted
 * with the VM still running where libvirt says.
 */
import assert from 'node:assert/strict';
import { needing } from '../support/needing.ts';
import { defaultCacheDir, guestImage } from '../../src/platforms/qemu/guest-image.ts';
import { staticBusybox } from '../../src/platforms/qemu/requirements.ts';
import { libvirtConfigSchema } from '../../src/platforms/libvirt/config.ts';
import { domainsOn, inventoryOf } from '../../src/platforms/libvirt/inventory.ts';
import { migrateDomain, type LibvirtMigrationContext, type LibvirtMigrationDetails } from '../../src/platforms/libvirt/migration.ts';
import { Virsh } from '../../src/platforms/libvirt/virsh.ts';
import type { Inventory } from '../../src/platforms/platform.ts';
import { RealClock } from '../../src/run/real-clock.ts';
import {
  bootDomain, libvirtGuestAddress, libvirtSkipReason, startLibvirtHosts, waitForGuest, type LibvirtHosts,
} from './support/libvirt-hosts.ts';

const skip = libvirtSkipReason();
const { after, before, describe, it } = needing(skip);

const DOMAIN = 'web1';

describe('libvirt platform parts on two real daemons', () => {
  let lab: LibvirtHosts;
  let virsh: Virsh;
  let uris: Map<string, string>;

  const inventory = async (): Promise<Inventory> => {
    const domains = (await Promise.all(lab.hosts.map((host) => domainsOn(virsh, host.name, host.uri)))).flat();
    return inventoryOf(lab.hosts.map((host) => host.name), domains);
  };
  const context = (migration: object): LibvirtMigrationContext => ({
    virsh,
    clock: new RealClock(),
    uris,
    settings: libvirtConfigSchema.parse({ hosts: [...uris].map(([name, uri]) => ({ name, uri })), load: { url: 'http://lb' }, migration }).migration,
  });
  const libvirtDetails = (details: Record<string, unknown> | undefined): LibvirtMigrationDetails => details?.libvirt as LibvirtMigrationDetails;

  before(async () => {
    const image = await guestImage({ cacheDir: defaultCacheDir(), nic: 'virtio-net-pci', busybox: staticBusybox() ?? '/bin/busybox' });
    lab = await startLibvirtHosts({ count: 3, withoutEmulator: ['host3'] });
    virsh = Virsh.find(30_000)!;
    uris = new Map(lab.hosts.map((host) => [host.name, host.uri]));
    await bootDomain(lab, lab.hosts[0]!, { name: DOMAIN, index: 1, kernel: image.kernel, initrd: image.initrd });
  });

  after(async () => {
    await lab?.stop();
  });

  it('finds the domain on its host, and a migration libvirt refuses is recorded with its reason, the VM staying there', async (t) => {
    const [first, , without] = lab.hosts;
    assert.deepEqual((await inventory()).vms, [{ name: DOMAIN, host: first!.name }]);
    const outcome = await migrateDomain({ vm: DOMAIN, source: first!.name, target: without!.name }, context({}), new AbortController().signal);
    assert.equal(outcome.status, 'failed');
    t.diagnostic(`refused: ${outcome.reason}`);
    assert.match(outcome.reason, /qemu-system-x86_64|emulator/i, outcome.reason);
    assert.doesNotMatch(outcome.reason, /^virsh /, 'libvirt\'s words, not the command line');
    assert.deepEqual((await inventory()).vms, [{ name: DOMAIN, host: first!.name }]);
  });

  it('migrates it live with the configured bandwidth and downtime limit, with libvirt\'s completed job statistics', async (t) => {
    const [first, second] = lab.hosts;
    const outcome = await migrateDomain({ vm: DOMAIN, source: first!.name, target: second!.name }, context({ maxBandwidthMiBps: 200, downtimeLimitMs: 300 }), new AbortController().signal);
    assert.equal(outcome.status, 'succeeded', outcome.reason);
    const { job, command, strategy } = libvirtDetails(outcome.details);
    assert.deepEqual(command.slice(0, 5), ['migrate', '--live', '--p2p', '--bandwidth', '200']);
    assert.equal(strategy, 'p2p');
    assert.ok(job && job.totalMs! > 0 && job.bytes! > 1e6 && job.passes! >= 2, JSON.stringify(job));
    t.diagnostic(`job: ${job.totalMs} ms, downtime ${job.downtimeMs} ms, setup ${job.setupMs} ms, ${job.bytes} bytes, ${job.passes} iterations`);
    const { progress } = libvirtDetails(outcome.details);
    t.diagnostic(`passes: ${progress.map((pass) => `${pass.iteration}@${pass.at_s.toFixed(3)}s ${JSON.stringify(pass.job)}`).join('; ')}`);
    // A migration-iteration event per pass after the first (QEMU's dirty-sync count as libvirt reports it).
    assert.ok(progress.length >= 1, 'a progress record per pass');
    assert.deepEqual(progress.map((pass) => pass.iteration), [...progress.map((pass) => pass.iteration)].sort((a, b) => a - b));
    assert.ok(progress.at(-1)!.iteration <= job.passes!, `${progress.at(-1)!.iteration} <= ${job.passes}`);
    assert.ok(progress.every((pass) => pass.at_s > 0 && pass.at_s <= outcome.ended_s - outcome.started_s + 0.5));
    assert.equal(outcome.downtime_ms, job.downtimeMs);
    assert.ok(outcome.downtime_ms! >= 0 && outcome.downtime_ms! < 300, `downtime ${outcome.downtime_ms} ms`);
    assert.ok(outcome.ended_s > outcome.started_s);
    // Left defined, shut off, on its old host: the inventory has it where it runs.
    assert.deepEqual((await inventory()).vms, [{ name: DOMAIN, host: second!.name }]);
    await waitForGuest(lab.netns, libvirtGuestAddress(1), DOMAIN, 10_000);
  });

  it('an interruption aborts the running job: the VM runs on where libvirt says, its source', async () => {
    const [first, second] = lab.hosts;
    const interrupt = new AbortController();
    // 1 MiB/s: the 256 MiB guest takes minutes, long enough to look at the running job, then interrupt it.
    const running = migrateDomain({ vm: DOMAIN, source: second!.name, target: first!.name }, context({ maxBandwidthMiBps: 1, downtimeLimitMs: 123 }), interrupt.signal);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // The downtime limit set before the job is the running job's.
    const limit = await virsh.run(second!.uri, ['migrate-getmaxdowntime', DOMAIN]).catch((error: Error) => error.message);
    interrupt.abort();
    const outcome = await running;
    assert.equal(limit.trim(), '123', `the running migration's downtime limit: ${limit}`);
    assert.equal(outcome.status, 'interrupted', outcome.reason);
    assert.match(outcome.reason, /^aborted: the run was interrupted/);
    assert.ok(outcome.ended_s - outcome.started_s < 30, `${outcome.ended_s - outcome.started_s} s`);
    assert.deepEqual((await inventory()).vms, [{ name: DOMAIN, host: second!.name }]);
    assert.equal((await virsh.run(second!.uri, ['domstate', DOMAIN])).trim(), 'running');
  });
});
