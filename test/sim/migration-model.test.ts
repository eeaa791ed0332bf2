import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PassProgress } from '../../src/platforms/sim/migration.ts';
import { mean, meanOfCounter, runOnSim } from './run-on-sim.ts';

const MIB = 1024 * 1024;
/** A profile with no fixed costs, so that durations are the transfer alone. */
const bareMigration = { setupSeconds: { min: 0, max: 0 }, switchoverSeconds: 0, linkEfficiency: 1, cpuMHzPerMBps: 0 };
const linkBytesPerSecond = 1000e6 / 8;

test('an idle VM whose memory is all touched migrates in about RAM / bandwidth', async () => {
  const run = await runOnSim('h1:vm1 h2:\n0 migrate vm1 h2\n', {
    migration: bareMigration,
    vms: { memoryMB: 512, guestOsMB: 512, guestOsDirtyMBps: 0 },
  });
  const [migration] = run.migrations;
  assert.ok(migration);
  assert.equal(migration.status, 'succeeded');
  const expectedMs = ((512 * MIB) / linkBytesPerSecond) * 1000;
  assert.ok(Math.abs(migration.duration_ms - expectedMs) / expectedMs < 0.02, `${migration.duration_ms} ms vs ${expectedMs} ms`);
  assert.equal(migration.passes, 2);
});

test('pages never written cost almost nothing to send', async () => {
  const run = await runOnSim('h1:vm1 h2:\n0 migrate vm1 h2\n', {
    migration: bareMigration,
    vms: { memoryMB: 512, guestOsMB: 64, guestOsDirtyMBps: 0 },
  });
  const [migration] = run.migrations;
  assert.ok(migration?.bytes);
  assert.ok(migration.bytes < 70 * MIB, `${migration.bytes} bytes`);
  assert.ok(migration.duration_ms < ((80 * MIB) / linkBytesPerSecond) * 1000);
});

test('more dirtying means longer migrations, more passes and more bytes', async () => {
  const durations: number[] = [];
  const bytes: number[] = [];
  for (const dirtyMBps of [5, 40, 80]) {
    const run = await runOnSim('h1:vm1 h2:\n0 add-client memory2 1\n10 migrate vm1 h2\n60 end\n', {
      migration: bareMigration,
      workloads: { memory2: { dirtyMBps } },
    });
    const [migration] = run.migrations;
    assert.equal(migration?.status, 'succeeded');
    durations.push(migration.duration_ms);
    bytes.push(migration.bytes ?? 0);
  }
  assert.ok(durations[0]! < durations[1]! && durations[1]! < durations[2]!, `durations ${durations}`);
  assert.ok(bytes[0]! < bytes[1]! && bytes[1]! < bytes[2]!, `bytes ${bytes}`);
});

test('two migrations sharing a link each take longer than one alone', async () => {
  const config = { migration: bareMigration };
  const alone = await runOnSim('h1:vm1,vm2 h2:\n0 migrate vm1 h2\n', config);
  const together = await runOnSim('h1:vm1,vm2 h2:\n0 migrate vm1 h2\n0 migrate vm2 h2\n', config);
  const aloneMs = alone.migrations[0]!.duration_ms;
  assert.equal(together.migrations.length, 2);
  for (const migration of together.migrations) assert.ok(migration.duration_ms > 1.5 * aloneMs, `${migration.duration_ms} vs ${aloneMs}`);
});

test('a VM that dirties faster than the link never converges under QEMU and is cancelled in place', async () => {
  const run = await runOnSim('h1:vm1 h2:\n0 add-client memory2 1\n5 migrate vm1 h2\n5 end\n', {
    profile: 'qemu',
    migration: { convergenceTimeoutSeconds: 30, maxBandwidthMBps: 10 },
    workloads: { memory2: { dirtyMBps: 100 } },
  });
  const [migration] = run.migrations;
  assert.equal(migration?.status, 'failed');
  assert.match(migration.reason, /did not converge within 30 s/);
  assert.equal(run.samples.filter((s) => s.host === 'h1' && s.counter === 'vm.count').at(-1)?.value, 1);
});

test('clients feel the stop: a request spanning the switchover waits at least the downtime', async () => {
  const run = await runOnSim('h1:vm1 h2:\n0 add-client cpu 1\n5 migrate vm1 h2\n30 end\n', {
    workloads: { cpu: { seconds: 0.1 } },
  });
  const [migration] = run.migrations;
  assert.ok(migration?.downtime_ms && migration.downtime_ms > 100);
  const slowest = Math.max(...run.requests.map((r) => r.latency_ms));
  assert.ok(slowest >= migration.downtime_ms, `slowest request ${slowest} ms, downtime ${migration.downtime_ms} ms`);
  assert.ok(run.requests.every((r) => r.status === 'ok'));
  assert.ok(new Set(run.requests.map((r) => r.server)).has('vm1'));
});

test('mem.shared is highest for the memory workload', async () => {
  const shared: Record<string, number> = {};
  for (const type of ['cpu', 'memory', 'memory2']) {
    const run = await runOnSim(`h1:vm1,vm2,vm3\n0 add-client ${type} 6\n1000 end\n`);
    shared[type] = meanOfCounter(run, 'h1', 'mem.shared.average');
  }
  assert.ok(shared.memory! > shared.cpu! && shared.memory! > shared.memory2!, JSON.stringify(shared));
});

test('an overcommitted host swaps and its VMs slow down', async () => {
  const script = 'h1:vm1,vm2,vm3,vm4\n0 add-client memory2 8\n1000 end\n';
  const roomy = await runOnSim(script, { hosts: { memoryMB: 8192 } });
  const tight = await runOnSim(script, { hosts: { memoryMB: 1200 } });
  assert.equal(meanOfCounter(roomy, 'h1', 'mem.swapused.average'), 0);
  assert.ok(meanOfCounter(tight, 'h1', 'mem.swapused.average') > 0);
  const latency = (run: typeof roomy): number => mean(run.requests.map((r) => r.latency_ms));
  assert.ok(latency(tight) > latency(roomy), `${latency(tight)} vs ${latency(roomy)}`);
});

test('cpu.usagemhz tracks busy vCPUs up to the host capacity', async () => {
  const one = await runOnSim('h1:vm1,vm2,vm3\n0 add-client cpu 1\n500 end\n');
  const three = await runOnSim('h1:vm1,vm2,vm3\n0 add-client cpu 3\n500 end\n');
  const usage = (run: typeof one): number => meanOfCounter(run, 'h1', 'cpu.usagemhz.average');
  assert.ok(usage(one) > 3500 && usage(one) < 4000, `one busy vCPU: ${usage(one)}`);
  assert.ok(usage(three) > 7000 && usage(three) <= 7600, `three busy vCPUs on 2 cores: ${usage(three)}`);
});

test('the same seed gives the same run, another seed another one', async () => {
  const script = 'h1:vm1 h2:vm2\n0 add-client memory 2\n30 migrate vm1 h2\n30 migrate vm2 h1\n300 end\n';
  const first = await runOnSim(script, {}, { seed: 7 });
  const again = await runOnSim(script, {}, { seed: 7 });
  const other = await runOnSim(script, {}, { seed: 8 });
  assert.deepEqual(again.migrations, first.migrations);
  assert.deepEqual(again.requests, first.requests);
  assert.notDeepEqual(other.migrations, first.migrations);
});

/** QEMU's rule with nothing else: no fixed costs, an idle guest whose memory is all data and never changes. */
const qemuBare = {
  profile: 'qemu',
  migration: { ...bareMigration, maxBandwidthMBps: 10, downtimeLimitSeconds: 1, stopAndCopyMBps: 1000, syncSecondsPerPage: 0 },
  vms: { memoryMB: 256, guestOsMB: 256, guestOsDirtyMBps: 0 },
  hosts: { linkMbps: 1e6 },
};

test('under QEMU\'s rule pre-copy switches over mid-pass, once what is left falls under the window rate x the limit', async () => {
  const run = await runOnSim('h1:vm1 h2:\n0 migrate vm1 h2\n', qemuBare);
  const [migration] = run.migrations;
  assert.equal(migration?.status, 'succeeded');
  // The first window's 10 MiB leave by 0.1 s; from then on each window's sets a 10 MiB threshold, and the check after the
  // window that leaves less finds the rest between 9 and 10 MiB: it goes with the VM stopped at 1000 MiB/s.
  assert.ok(migration.downtime_ms! > 8.9 && migration.downtime_ms! < 10.1, `downtime ${migration.downtime_ms} ms`);
  assert.ok(Math.abs(migration.duration_ms - (25.6 - 1) * 1000) < 110, `${migration.duration_ms} ms`);
  assert.equal(migration.bytes, 256 * MIB);
  assert.equal(migration.passes, 3, 'the setup sync, one live sync, the final one');
});

test('at the end of a pass instead, the same migration stops with nothing left to send', async () => {
  const run = await runOnSim('h1:vm1 h2:\n0 migrate vm1 h2\n', { ...qemuBare, migration: { ...qemuBare.migration, resync: 'end-of-pass' } });
  const [migration] = run.migrations;
  assert.equal(migration?.downtime_ms, 0);
  assert.equal(migration.passes, 2);
});

/** The qemu lab's TCG guests: 8 KiB more than whole MiB, so that QEMU syncs page by page. */
const PAGE_BY_PAGE_MB = 8 / 1024;

test('setup under QEMU grows with RAM: its sync walks every page', async () => {
  const durations: number[] = [];
  for (const memoryMB of [256 + PAGE_BY_PAGE_MB, 512 + PAGE_BY_PAGE_MB]) {
    const run = await runOnSim('h1:vm1 h2:\n0 migrate vm1 h2\n', {
      profile: 'qemu',
      migration: { ...bareMigration, maxBandwidthMBps: null, stopAndCopyMBps: 1000, syncSecondsPerPage: 1e-6 },
      vms: { memoryMB, guestOsMB: 64, guestOsDirtyMBps: 0 },
      hosts: { linkMbps: 1e6 },
    });
    durations.push(run.migrations[0]!.duration_ms);
  }
  const setupDifferenceMs = 256 * 256 * 1e-6 * 1000;
  const zeroPagesMs = ((256 * 256 * 9) / (1000 * MIB)) * 1000;
  const grew = durations[1]! - durations[0]!;
  assert.ok(Math.abs(grew - setupDifferenceMs - zeroPagesMs) < 1, `${durations}: +${grew} ms`);
});

test('RAM a multiple of 256 KiB takes the word-wise sync: its cost is per page of RAM, whatever is dirty', async () => {
  const durations = new Map<string, number>();
  const downtimes = new Map<string, number>();
  const firstPassAt = new Map<string, number>();
  for (const [name, memoryMB, wordSyncSecondsPerPage] of [['aligned', 512, 0], ['aligned, costly words', 512, 1e-7], ['page by page', 512 + PAGE_BY_PAGE_MB, 0]] as const) {
    const run = await runOnSim('h1:vm1 h2:\n0 add-client memory2 1\n5 migrate vm1 h2\n60 end\n', {
      profile: 'qemu',
      migration: { ...bareMigration, maxBandwidthMBps: 40, syncSecondsPerPage: 1e-6, syncSecondsPerPagePerDirtyMBps: 1e-7, wordSyncSecondsPerPage },
      vms: { memoryMB },
      workloads: { memory2: { dirtyMBps: 20, bufferMB: 64 } },
    });
    assert.equal(run.migrations[0]?.status, 'succeeded');
    durations.set(name, run.migrations[0].duration_ms);
    downtimes.set(name, run.migrations[0].downtime_ms!);
    firstPassAt.set(name, (run.migrations[0].details?.sim as { progress: PassProgress[] }).progress.find((p) => p.pass === 1)!.at_s);
  }
  const aligned = durations.get('aligned')!;
  // The setup's sync, page by page over 512 MB at 1 µs a page, takes 131 ms; word-wise at 0.1 µs, 13.1 ms.
  assert.ok(Math.abs(firstPassAt.get('page by page')! - 0.131) < 0.001, `${[...firstPassAt]}`);
  assert.ok(Math.abs(firstPassAt.get('aligned, costly words')! - 0.0131) < 0.0005, `${[...firstPassAt]}`);
  assert.ok(firstPassAt.get('aligned')! < 1e-6, `${[...firstPassAt]}`);
  assert.ok(durations.get('page by page')! > aligned, `${[...durations]}`);
  // A word-wise sync over 512 MB at 0.1 µs a page takes 13.1 ms: the last, with the VM stopped, is all downtime
  // (a little more: the syncs before it shift when the VM stops, and what is pending then).
  const wordSyncMs = 512 * 256 * 1e-7 * 1000;
  const longerDowntime = downtimes.get('aligned, costly words')! - downtimes.get('aligned')!;
  assert.ok(longerDowntime > wordSyncMs - 0.5 && longerDowntime < wordSyncMs + 3, `downtimes ${[...downtimes]}`);
  assert.ok(durations.get('aligned, costly words')! - aligned >= wordSyncMs, `${[...durations]}`);
});

test('a zero page holds the sender for zeroPageSeconds, whatever the rate', async () => {
  const durations: number[] = [];
  for (const zeroPageSeconds of [0, 2e-6]) {
    const run = await runOnSim('h1:vm1 h2:\n0 migrate vm1 h2\n', {
      profile: 'qemu',
      migration: { ...bareMigration, maxBandwidthMBps: null, stopAndCopyMBps: 1000, zeroPageSeconds },
      vms: { memoryMB: 512, guestOsMB: 64, guestOsDirtyMBps: 0 },
      hosts: { linkMbps: 1e6 },
    });
    durations.push(run.migrations[0]!.duration_ms);
  }
  const zeroPagesMs = (512 - 64) * 256 * 2e-6 * 1000;
  assert.ok(Math.abs(durations[1]! - durations[0]! - zeroPagesMs) < 1, `${durations}: expected +${zeroPagesMs} ms`);
});

test('a guest writing faster makes each live sync cost more, and pre-copy last longer', async () => {
  const durations: number[] = [];
  for (const syncSecondsPerPagePerDirtyMBps of [0, 1e-7]) {
    const run = await runOnSim('h1:vm1 h2:\n0 add-client memory2 1\n5 migrate vm1 h2\n60 end\n', {
      profile: 'qemu',
      migration: { ...bareMigration, maxBandwidthMBps: 40, syncSecondsPerPage: 1e-6, syncSecondsPerPagePerDirtyMBps },
      vms: { memoryMB: 512 + PAGE_BY_PAGE_MB },
      workloads: { memory2: { dirtyMBps: 20, bufferMB: 64 } },
    });
    assert.equal(run.migrations[0]?.status, 'succeeded');
    durations.push(run.migrations[0].duration_ms);
  }
  assert.ok(durations[1]! > durations[0]!, `${durations}`);
});

test('a zero page the guest writes before the first pass reaches it goes as data in that pass, and again in the next', async () => {
  const firstPassBytes = async (dirtyMBps: number): Promise<{ bytes: number; seconds: number }> => {
    const run = await runOnSim('h1:vm1 h2:\n0 add-client memory2 1\n0.1 migrate vm1 h2\n60 end\n', {
      profile: 'qemu',
      migration: { ...bareMigration, maxBandwidthMBps: 40, syncSecondsPerPage: 0, zeroPageSeconds: 0 },
      vms: { memoryMB: 512, guestOsMB: 64, guestOsDirtyMBps: 0 },
      workloads: { memory2: { dirtyMBps, bufferMB: 256 } },
    });
    const progress = (run.migrations[0]?.details?.sim as { progress: PassProgress[] }).progress;
    const second = progress.find((p) => p.pass === 2) as PassProgress;
    return { bytes: second.transferred, seconds: second.at_s };
  };
  const untouched = await firstPassBytes(0.001);
  const written = await firstPassBytes(20);
  // 20 MB/s over the first pass's seconds touches that much of the buffer, at random places ahead of or behind the scan: about half goes as data.
  const touchedMB = 20 * written.seconds;
  const extraMB = (written.bytes - untouched.bytes) / MIB;
  assert.ok(extraMB > 0.35 * touchedMB && extraMB < 0.65 * touchedMB, `${extraMB.toFixed(1)} MB more in the first pass, ${touchedMB.toFixed(1)} MB touched during it`);
});

/** Each pass's duration and bytes (from its progress record to the next one's). */
function passesOf(migration: { details?: Record<string, unknown> | null }): { seconds: number; bytes: number }[] {
  const progress = (migration.details?.sim as { progress: PassProgress[] }).progress.filter((p) => p.status !== 'setup');
  return progress.slice(1).map((p, i) => ({ seconds: p.at_s - progress[i]!.at_s, bytes: p.transferred - progress[i]!.transferred }));
}

/** Seconds a 4 KiB page of the pass took. */
const perPage = (pass: { seconds: number; bytes: number }): number => pass.seconds / (pass.bytes / 4096);

type Pass = { seconds: number; bytes: number };

/** The passes of one migration of a guest running memory2 over `bufferMB`, without and with a first copy costing 10 µs more a page. */
async function passesWithoutAndWithFirstCopyCost(script: string, bufferMB: number): Promise<[Pass[], Pass[]]> {
  const runs: Pass[][] = [];
  for (const firstCopySecondsPerPage of [0, 1e-5]) {
    const run = await runOnSim(script, {
      migration: { ...bareMigration, maxBandwidthMBps: 40, maxStreamMBps: 40, resync: 'end-of-pass', maxPasses: 3, firstCopySecondsPerPage },
      vms: { memoryMB: 512, guestOsMB: 64, guestOsDirtyMBps: 0 },
      workloads: { memory2: { dirtyMBps: 4, bufferMB } },
    });
    assert.equal(run.migrations[0]?.status, 'succeeded');
    runs.push(passesOf(run.migrations[0]));
  }
  return runs as [Pass[], Pass[]];
}

test('a data page the target does not hold yet costs firstCopySecondsPerPage more; a resend of a page it holds does not', async () => {
  // A guest rewriting a 64 MB buffer it filled long before: the first pass copies it (and the OS's 64 MB) first, the next ones resend its pages.
  const [plain, costly] = await passesWithoutAndWithFirstCopyCost('h1:vm1 h2:\n0 add-client memory2 1\n20 migrate vm1 h2\n60 end\n', 64);
  // The first pass: 128 MB of first copies, 32,768 pages at 10 µs more each.
  const firstPassMore = costly[0]!.seconds - plain[0]!.seconds;
  assert.ok(Math.abs(firstPassMore - 128 * 256 * 1e-5) < 0.02, `first pass ${plain[0]!.seconds} s against ${costly[0]!.seconds} s`);
  // The second: the buffer's pages dirtied meanwhile, all held by the target, at the stream's rate alone.
  assert.ok(costly[1]!.bytes > 4 * MIB, `${costly[1]!.bytes} bytes resent`);
  assert.ok(Math.abs(perPage(costly[1]!) - perPage(plain[1]!)) < 1e-7, `second pass ${perPage(plain[1]!)} s a page against ${perPage(costly[1]!)}`);
});

test('a zero page sent to a page never written does not make the target hold it: written after, it goes as a first copy', async () => {
  // The guest writes a fresh buffer in page order as the first pass goes: what it writes behind the scan went as zero pages, and goes as data next.
  const [plainPasses, costlyPasses] = await passesWithoutAndWithFirstCopyCost('h1:vm1 h2:\n0 add-client memory2 1\n0.1 migrate vm1 h2\n60 end\n', 256);
  const [plain, costly] = [plainPasses[1]!, costlyPasses[1]!];
  assert.ok(costly.bytes > 4 * MIB, `${costly.bytes} bytes`);
  const more = perPage(costly) - perPage(plain);
  assert.ok(Math.abs(more - 1e-5) < 1e-6, `second pass ${perPage(plain)} s a page against ${perPage(costly)}`);
});

test('the guest\'s data at the top of RAM goes last: under QEMU\'s rule it is what is left when the VM stops', async () => {
  const downtimes = [];
  for (const guestOsTopOfRamMB of [0, 16]) {
    const run = await runOnSim('h1:vm1 h2:\n0 migrate vm1 h2\n', {
      profile: 'qemu',
      migration: { ...bareMigration, maxBandwidthMBps: null, stopAndCopyMBps: 1000, syncSecondsPerPage: 0, zeroPageSeconds: 3e-7, firstCopySecondsPerPage: 1e-5, downtimeLimitSeconds: 0.3 },
      vms: { memoryMB: 1024, guestOsMB: 64, guestOsDirtyMBps: 0, guestOsTopOfRamMB },
      hosts: { linkMbps: 1e6 },
    });
    assert.equal(run.migrations[0]?.status, 'succeeded');
    assert.ok(Math.abs(run.migrations[0].bytes! - 64 * MIB - (1024 - 64) * 256 * 9) < 0.01 * MIB, 'every page once, whatever the order');
    downtimes.push(run.migrations[0].downtime_ms!);
  }
  const [spread, atTop] = downtimes as [number, number];
  // 16 MB of first copies at the end of the scan, 4,096 pages at 10 µs and their bytes at 1000 MiB/s: most of it left at the stop.
  const topMs = (16 * 256 * 1e-5 + 16 / 1000) * 1000;
  assert.ok(atTop > 0.75 * topMs && atTop < topMs + 5, `downtime ${atTop} ms with the data at the top (${topMs} ms for all of it)`);
  assert.ok(spread < atTop / 2, `downtime ${spread} ms with it spread`);
});
