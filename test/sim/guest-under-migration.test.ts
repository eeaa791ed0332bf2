/**
 * What a migration does to the guest's own time under the QEMU profiles: the setup's sync
 * stalls it, costs more once the guest freed memory on its QEMU process, its clock stands still while it is
 * stopped, and it runs on the target only once the target has started; and the lab's memory2,
 * which rewrites for a span of the guest's clock rather than for an amount of work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MigrationOutcome } from '../../src/platforms/platform.ts';
import { simConfigSchema } from '../../src/platforms/sim/config.ts';
import type { PassProgress } from '../../src/platforms/sim/migration.ts';
import { SimPlatform } from '../../src/platforms/sim/sim-platform.ts';
import { runOnSim, type CollectedRun } from './run-on-sim.ts';

/** QEMU's rule with no fixed costs, nothing slowing the guest but what a test turns on; RAM synced page by page. */
const quiet = { setupSeconds: { min: 0, max: 0 }, switchoverSeconds: 0, cpuMHzPerMBps: 0, tracingSlowdown: 0, syncSecondsPerPage: 1e-6, maxBandwidthMBps: 100 };
const PAGE_BY_PAGE_RAM_MB = 512 + 8 / 1024;
const RAM_PAGES = PAGE_BY_PAGE_RAM_MB * 256;

async function run(script: string, migration: object, workloads: object = {}): Promise<CollectedRun> {
  return runOnSim(script, { profile: 'qemu', migration: { ...quiet, ...migration }, vms: { memoryMB: PAGE_BY_PAGE_RAM_MB, guestOsDirtyMBps: 0 }, workloads: { jitter: 0, ...workloads } });
}

const firstPassAtS = (result: CollectedRun): number => (result.migrations[0]!.details!.sim as { progress: PassProgress[] }).progress.find((p) => p.pass === 1)!.at_s;

test('the setup\'s sync stalls the guest under QEMU: a request computing across it takes that much longer', async () => {
  const script = 'h1:vm1 h2:\n0 add-client cpu 1\n0.5 migrate vm1 h2\n5 end\n';
  const workloads = { cpu: { seconds: 1 } };
  const stalled = await run(script, { setupStallsGuest: true }, workloads);
  const running = await run(script, { setupStallsGuest: false }, workloads);
  const syncMs = RAM_PAGES * 1e-6 * 1000;
  assert.ok(Math.abs(firstPassAtS(stalled) * 1000 - syncMs) < 1, `setup sync ${firstPassAtS(stalled)} s`);
  const first = (result: CollectedRun): number => result.requests[0]!.latency_ms;
  const longerMs = first(stalled) - first(running);
  assert.ok(Math.abs(longerMs - syncMs) < 2, `${first(stalled)} against ${first(running)} ms: +${longerMs}, the sync ${syncMs} ms`);
});

test('the setup\'s sync costs more per page when the guest freed memory on its QEMU process: its TLB grew; a new process starts anew', async () => {
  const perEntry = 1e-9;
  // One 64 MB memory request filled and freed, then migrations there and back: the first from the process that saw the free, the second from a new one.
  const script = 'h1:vm1 h2:\n0 add-client memory 1\n0.5 remove-client memory 1\n3 migrate vm1 h2\n6 migrate vm1 h1\n9 end\n';
  const workloads = { memory: { bufferMB: 64, fillMBps: 1e4, sleepSeconds: 1 } };
  const result = await run(script, { tlbEntrySyncSeconds: perEntry, bootTlbEntries: 256 }, workloads);
  const setupS = (index: number): number => (result.migrations[index]!.details!.sim as { progress: PassProgress[] }).progress.find((p) => p.pass === 1)!.at_s;
  // A 64 MB free: two of Linux's gather batches, a flush before each and one after: 256 -> 512 -> 1,024 entries, 768 more walked per page.
  const expectedExtraS = RAM_PAGES * perEntry * 768;
  assert.ok(Math.abs(setupS(0) - setupS(1) - expectedExtraS) < 0.02 * expectedExtraS, `setups ${setupS(0)} and ${setupS(1)} s, expected ${expectedExtraS} s apart`);
  assert.ok(Math.abs(setupS(1) - RAM_PAGES * 1e-6) < 1e-3, `the new process's setup ${setupS(1)} s`);
});

test('the guest\'s clock stands still while the VM is stopped under QEMU: a sleep spanning the stop lasts the downtime longer', async () => {
  // A long stop: the last copy at 10 MB/s. One memory request, its 16 MB filled at once, then asleep for longer than the migration.
  const script = 'h1:vm1 h2:\n0 add-client memory 1\n0.5 migrate vm1 h2\n39 remove-client memory 1\n50 end\n';
  const workloads = { memory: { bufferMB: 16, fillMBps: 1e6, sleepSeconds: 40 } };
  const migration = { stopAndCopyMBps: 10, downtimeLimitSeconds: 2, setupStallsGuest: false };
  const stopping = await run(script, { ...migration, guestClockStopsWhilePaused: true }, workloads);
  const running = await run(script, { ...migration, guestClockStopsWhilePaused: false }, workloads);
  const downtimeMs = stopping.migrations[0]!.downtime_ms!;
  assert.ok(downtimeMs > 200, `downtime ${downtimeMs} ms`);
  assert.equal(running.migrations[0]!.downtime_ms, downtimeMs);
  const first = (result: CollectedRun): number => result.requests[0]!.latency_ms;
  assert.ok(stopping.migrations[0]!.ended_s < 40, `the migration ends within the sleep: ${stopping.migrations[0]!.ended_s} s`);
  assert.ok(Math.abs(first(running) - 40_000) < 5, `host clock: ${first(running)} ms`);
  assert.ok(Math.abs(first(stopping) - 40_000 - downtimeMs) < 5, `guest clock: ${first(stopping)} ms, downtime ${downtimeMs} ms`);
});

test('the guest runs on the target targetStartSeconds after the source ends: QEMU\'s downtime leaves it out, clients feel it', async () => {
  const script = 'h1:vm1 h2:\n0 add-client cpu 1\n1 migrate vm1 h2\n5 end\n';
  const workloads = { cpu: { seconds: 0.05 } };
  const at = await run(script, { targetStartSeconds: 0 }, workloads);
  const later = await run(script, { targetStartSeconds: 0.3 }, workloads);
  const [a, b] = [at.migrations[0]!, later.migrations[0]!];
  assert.equal(b.ended_s, a.ended_s);
  assert.equal(b.downtime_ms, a.downtime_ms);
  assert.ok(b.client_downtime_ms! >= a.client_downtime_ms! + 300 - 1, `client downtime ${a.client_downtime_ms} then ${b.client_downtime_ms} ms`);
  const acrossEnd = (result: CollectedRun, endS: number) => result.requests.find((r) => r.sent_s < endS && r.received_s > endS)!;
  assert.ok(acrossEnd(later, b.ended_s).received_s - b.ended_s >= 0.3, 'the request in flight is answered after the target starts');
});

test('memory2 lasting a span of the guest\'s clock takes that span whatever CPU it gets; checkSeconds adds work after it', async () => {
  // Two clients on one VM: each request gets half the vCPU.
  const script = 'h1:vm1\n0 add-client memory2 2\n20 end\n';
  const latency = async (memory2: object): Promise<number> => {
    const result = await runOnSim(script, { workloads: { jitter: 0, memory2: { bufferMB: 16, seconds: 0.2, ...memory2 } } });
    return result.requests[5]!.latency_ms;
  };
  const overhead = await latency({ seconds: 1e-6 });
  const work = await latency({});
  const wall = await latency({ lasts: 'wall' });
  const checked = await latency({ lasts: 'wall', checkSeconds: 0.05 });
  assert.ok(Math.abs(work - overhead - 400) < 5, `0.2 s of work at half a vCPU: ${work} ms`);
  assert.ok(Math.abs(wall - overhead - 200) < 5, `0.2 s of the guest's clock: ${wall} ms`);
  assert.ok(Math.abs(checked - wall - 100) < 5, `then 0.05 s of work at half a vCPU: ${checked} ms`);
});

test('an interruption while the target starts lets the guest run there at once: the switchover happened', async () => {
  const config = simConfigSchema.parse({ profile: 'qemu', migration: { ...quiet, targetStartSeconds: 10 } });
  const placement = [{ host: 'h1', vms: ['vm1'] }, { host: 'h2', vms: [] }];
  const migrateOnce = async (abortAtS: number | null): Promise<{ outcome: MigrationOutcome; settledS: number }> => {
    const platform = new SimPlatform(config, { configPath: undefined, seed: 1, placement, caFile: undefined, insecure: false });
    const interrupt = new AbortController();
    if (abortAtS !== null) platform.clock.at(abortAtS, () => interrupt.abort());
    const outcome = await platform.clock.drive(platform.migrate({ vm: 'vm1', source: 'h1', target: 'h2' }, interrupt.signal));
    return { outcome, settledS: platform.clock.now() };
  };
  const alone = await migrateOnce(null);
  assert.ok(alone.settledS >= alone.outcome.ended_s + 10, `settled at ${alone.settledS} s, ended ${alone.outcome.ended_s}`);
  const cut = await migrateOnce(alone.outcome.ended_s + 1);
  assert.equal(cut.outcome.status, 'succeeded');
  assert.equal(cut.outcome.ended_s, alone.outcome.ended_s);
  assert.ok(Math.abs(cut.settledS - (alone.outcome.ended_s + 1)) < 1e-6, `settled at ${cut.settledS} s`);
});
