/**
 * The sim's memory2 options for random-order rewrites of a filled buffer (the guest's /rewrite):
 * `writeOrder: random` (distinct dirty pages B (1 - e^(-W/B)) of W MB written into B MB) and
 * `prefilled` (the buffer filled whole first, then data to a migration).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../../src/run/virtual-clock.ts';
import { migrationProfileOf, simConfigSchema } from '../../src/platforms/sim/config.ts';
import { Datacenter } from '../../src/platforms/sim/datacenter.ts';
import type { SimVm } from '../../src/platforms/sim/vm.ts';
import { requestWorkFactory } from '../../src/platforms/sim/workloads.ts';
import { SeededRandom } from '../../src/seeded-random.ts';
import { runOnSim } from './run-on-sim.ts';

const MIB = 1024 * 1024;
const BUFFER_MB = 64;
const RATE_MBPS = 40;

/** One VM alone on its host, running one memory2 request of `memory2` from time 0; its clock moves with `until`. */
function vmWithOneWriter(memory2: Record<string, unknown>, vms: Record<string, unknown> = {}): { vm: SimVm; until: (s: number) => Promise<void> } {
  const config = simConfigSchema.parse({
    vms: { guestOsDirtyMBps: 0, ...vms },
    workloads: { jitter: 0, memory2: { bufferMB: BUFFER_MB, dirtyMBps: RATE_MBPS, seconds: 1000, ...memory2 } },
  });
  const clock = new VirtualClock();
  const datacenter = new Datacenter(clock, config, migrationProfileOf(config), [['vm1', 'h1']], ['h1']);
  const vm = datacenter.vms.get('vm1') as SimVm;
  const work = requestWorkFactory(config.workloads, config.hosts.mhzPerCore, null, new SeededRandom(1))('memory2');
  vm.deliver({ work, phaseIndex: 0, finishServed: 0, dueGuestS: 0, arrivedS: 0, untouchedMB: 0, onDone: () => {} });
  return { vm, until: (s) => clock.drive(clock.sleepUntil(s)) };
}

/** MB of distinct pages among `writtenMB` written at random pages of `bufferMB`. */
const distinctOfRandom = (writtenMB: number, bufferMB: number): number => bufferMB * (1 - Math.exp(-writtenMB / bufferMB));

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, expected), `${what}: ${actual} vs ${expected}`);
}

describe('memory2 writing random pages', () => {
  it('keeps the seed\'s memory2 by default: sweeps, not prefilled; other values are refused', () => {
    assert.deepEqual(simConfigSchema.parse({}).workloads.memory2, { bufferMB: 100, seconds: 200, dirtyMBps: 80, writeOrder: 'sweep', prefilled: false, lasts: 'cpu', checkSeconds: 0 });
    const chosen = simConfigSchema.parse({ workloads: { memory2: { writeOrder: 'random', prefilled: true } } }).workloads.memory2;
    assert.equal(chosen.writeOrder, 'random');
    assert.equal(chosen.prefilled, true);
    assert.throws(() => simConfigSchema.parse({ workloads: { memory2: { writeOrder: 'shuffled' } } }));
    assert.throws(() => simConfigSchema.parse({ workloads: { memory2: { prefilled: 'yes' } } }));
  });

  it('logs B (1 - e^(-W/B)) MB of distinct pages for W MB written at random into B MB since the mark', async () => {
    const { vm, until } = vmWithOneWriter({ writeOrder: 'random', prefilled: true });
    await until(1); // filled long before
    for (const [from, to] of [[1, 1.5], [1.5, 3.5], [3.5, 11.5]] as const) {
      vm.startDirtyLog();
      await until(to);
      const writtenMB = RATE_MBPS * (to - from);
      assertClose(vm.collectDirty(), distinctOfRandom(writtenMB, BUFFER_MB), `${writtenMB} MB written`);
    }
  });

  it('adds the guest OS\'s own dirtying, distinct pages up to its hot part', async () => {
    const { vm, until } = vmWithOneWriter({ writeOrder: 'random', prefilled: true }, { guestOsDirtyMBps: 0.5, guestOsActiveMB: 16 });
    await until(1);
    for (const [from, to] of [[1, 9], [9, 49]] as const) {
      vm.startDirtyLog();
      await until(to);
      const osMB = Math.min(0.5 * (to - from), 16);
      assertClose(vm.collectDirty(), osMB + distinctOfRandom(RATE_MBPS * (to - from), BUFFER_MB), `${to - from} s`);
    }
  });

  it('still logs a sweep as every page it wrote, up to its buffer', async () => {
    const { vm, until } = vmWithOneWriter({}, { guestOsActiveMB: 0 });
    for (const [from, to] of [[0, 0.5], [0.5, 2.5]] as const) {
      vm.startDirtyLog();
      await until(to);
      assertClose(vm.collectDirty(), Math.min(RATE_MBPS * (to - from), BUFFER_MB), `${to - from} s`);
    }
  });

  it('touches a buffer it never filled as its random writes reach its pages, a prefilled one whole', async () => {
    const zeroed = vmWithOneWriter({ writeOrder: 'random' });
    const guestOsMB = zeroed.vm.touchedMB;
    await zeroed.until(2);
    zeroed.vm.advance(2);
    assertClose(zeroed.vm.touchedMB - guestOsMB, distinctOfRandom(RATE_MBPS * 2, BUFFER_MB), 'touched after 80 MB written');
    const filled = vmWithOneWriter({ writeOrder: 'random', prefilled: true, dirtyMBps: 0 });
    await filled.until(1);
    filled.vm.advance(1);
    assertClose(filled.vm.touchedMB - guestOsMB, BUFFER_MB, 'touched once filled');
  });
});

/** QEMU's rule without fixed costs, as in migration-model.test.ts. */
const qemuBare = {
  profile: 'qemu',
  migration: { setupSeconds: { min: 0, max: 0 }, switchoverSeconds: 0, linkEfficiency: 1, cpuMHzPerMBps: 0, maxBandwidthMBps: 100, syncSecondsPerPage: 0 },
};

async function migrationWith(memory2: Record<string, unknown>): Promise<{ bytes: number; status: string }> {
  const run = await runOnSim('h1:vm1 h2:\n0 add-client memory2 1\n5 migrate vm1 h2\n60 end\n', {
    ...qemuBare,
    workloads: { jitter: 0, memory2: { bufferMB: BUFFER_MB, seconds: 1000, ...memory2 } },
  });
  const [migration] = run.migrations;
  assert.ok(migration?.bytes != null, 'one migration with its bytes');
  return { bytes: migration.bytes, status: migration.status };
}

describe('migrating a VM with a random writer', () => {
  it('sends a prefilled buffer as data: about its size more than the same buffer never written', async () => {
    const untouched = await migrationWith({ writeOrder: 'random', dirtyMBps: 0 });
    const prefilled = await migrationWith({ writeOrder: 'random', dirtyMBps: 0, prefilled: true });
    assert.equal(prefilled.status, 'succeeded');
    const moreMB = (prefilled.bytes - untouched.bytes) / MIB;
    // Less the zero pages' 9 bytes each (0.14 MiB), plus what the guest OS dirties in the longer first pass (0.64 s at 0.5 MB/s).
    assert.ok(Math.abs(moreMB - BUFFER_MB) < 1, `${moreMB.toFixed(3)} MiB more`);
  });

  it('sends fewer bytes than a sweep at the same rate once a pass lasts longer than the buffer takes to write', async () => {
    /** MiB a sweep sends more than a random writer at `dirtyMBps`. */
    const sweepSendsMoreMB = async (dirtyMBps: number): Promise<number> => {
      const sweep = await migrationWith({ writeOrder: 'sweep', prefilled: true, dirtyMBps });
      const random = await migrationWith({ writeOrder: 'random', prefilled: true, dirtyMBps });
      assert.equal(sweep.status, 'succeeded');
      assert.equal(random.status, 'succeeded');
      return (sweep.bytes - random.bytes) / MIB;
    };
    // The first pass (the guest OS's 140 MB and the buffer, at 100 MB/s) lasts about 2 s: at 40 MB/s, 80 MB written into 64 MB.
    const fast = await sweepSendsMoreMB(RATE_MBPS);
    assert.ok(fast > 0.2 * BUFFER_MB, `at ${RATE_MBPS} MB/s random sent ${fast.toFixed(1)} MiB fewer`);
    // At 5 MB/s a pass writes a sixth of the buffer: few pages are hit twice.
    const slow = await sweepSendsMoreMB(5);
    assert.ok(slow >= 0 && slow < 0.05 * BUFFER_MB, `at 5 MB/s random sent ${slow.toFixed(1)} MiB fewer`);
  });
});
