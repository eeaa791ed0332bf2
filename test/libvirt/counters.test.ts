/**
 * The libvirt platform's host counters: the parsers and arithmetic on virsh output captured
 * from the test daemons (libvirt 9.0), the sampling's bookkeeping against a scripted virsh,
 * then for real on two daemons with a guest on the first: readings over a few samples, during
 * a migration, and with one daemon stopped, continued, then killed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { needing } from '../support/needing.ts';
import { COUNTERS } from '../../src/monitor/counters.ts';
import { LibvirtCounters } from '../../src/platforms/libvirt/counters.ts';
import {
  basePageKiB, canMeasureDirtyRate, countsOnHost, hostFigures, latestEstimates, parseNodeInfo, sampleCommands, snapshotOf, splitSections, virshQuote,
  type FiguresInput, type HostSnapshot,
} from '../../src/platforms/libvirt/node-stats.ts';
import { parseKeyValues, Virsh } from '../../src/platforms/libvirt/virsh.ts';
import type { CounterReading } from '../../src/platforms/platform.ts';
import { defaultCacheDir, guestImage } from '../../src/platforms/qemu/guest-image.ts';
import { isRunning } from '../../src/platforms/qemu/processes.ts';
import { staticBusybox } from '../../src/platforms/qemu/requirements.ts';
import {
  domainXml, getInNetns, guestCmdline, libvirtGuestAddress, libvirtGuestMac, libvirtSkipReason, startLibvirtHosts, waitForGuest, type LibvirtHosts,
} from './support/libvirt-hosts.ts';

/** start()'s call on host1 with web1 running (libvirt 9.0; capabilities cut to its CPU's page sizes) */
const START = `@@vmm:nodeinfo@@CPU model:           x86_64
CPU(s):              2
CPU frequency:       2000 MHz
CPU socket(s):       1
Core(s) per socket:  2
Thread(s) per core:  1
NUMA cell(s):        1
Memory size:         5990136 KiB
@@vmm:capabilities@@<capabilities>
  <host>
    <cpu>
      <arch>x86_64</arch>
      <topology sockets='1' dies='1' cores='2' threads='1'/>
      <pages unit='KiB' size='4'/>
      <pages unit='KiB' size='2048'/>
      <pages unit='KiB' size='1048576'/>
    </cpu>
@@vmm:cpu@@user:                 12875830000000
system:                1305390000000
idle:                129205980000000
iowait:                  30880000000
@@vmm:ksm@@Shared memory:
\tshm_pages_to_scan 100
\tshm_sleep_millisecs 20
\tshm_pages_shared 0
\tshm_pages_sharing 0
\tshm_pages_unshared 0
\tshm_pages_volatile 0
\tshm_full_scans  0
\tshm_merge_across_nodes 1
@@vmm:domains@@Domain: 'web1'
  state.state=1
  state.reason=2
  balloon.current=263168
  balloon.maximum=263168
  balloon.rss=195440
  net.count=1
  net.0.name=vnet2
  net.0.rx.bytes=1682
  net.0.rx.pkts=21
  net.0.rx.errs=0
  net.0.rx.drop=0
  net.0.tx.bytes=2022
  net.0.tx.pkts=27
  net.0.tx.errs=0
  net.0.tx.drop=0
  dirtyrate.calc_status=2
  dirtyrate.calc_start_time=72064
  dirtyrate.calc_period=1
  dirtyrate.calc_mode=page-sampling
  dirtyrate.megabytes_per_second=56
`;

/** A sample of host1 (web1 running, no job) */
const SAMPLE_1 = `@@vmm:cpu@@user:                 12875860000000
system:                1305390000000
idle:                129206010000000
iowait:                  30880000000
@@vmm:ksm@@Shared memory:
\tshm_pages_to_scan 100
\tshm_sleep_millisecs 20
\tshm_pages_shared 0
\tshm_pages_sharing 0
\tshm_pages_unshared 0
\tshm_pages_volatile 0
\tshm_full_scans  0
\tshm_merge_across_nodes 1
@@vmm:job0@@Job type: 0

@@vmm:domains@@Domain: 'web1'
  state.state=1
  state.reason=2
  balloon.current=263168
  balloon.maximum=263168
  balloon.rss=195440
  net.count=1
  net.0.name=vnet2
  net.0.rx.bytes=1682
  net.0.rx.pkts=21
  net.0.rx.errs=0
  net.0.rx.drop=0
  net.0.tx.bytes=2022
  net.0.tx.pkts=27
  net.0.tx.errs=0
  net.0.tx.drop=0
  dirtyrate.calc_status=2
  dirtyrate.calc_start_time=72064
  dirtyrate.calc_period=1
  dirtyrate.calc_mode=page-sampling
  dirtyrate.megabytes_per_second=56
`;

/** The next one, about 1 s later */
const SAMPLE_2 = `@@vmm:cpu@@user:                 12875900000000
system:                1305400000000
idle:                129208020000000
iowait:                  30880000000
@@vmm:ksm@@Shared memory:
\tshm_pages_to_scan 100
\tshm_sleep_millisecs 20
\tshm_pages_shared 0
\tshm_pages_sharing 0
\tshm_pages_unshared 0
\tshm_pages_volatile 0
\tshm_full_scans  0
\tshm_merge_across_nodes 1
@@vmm:job0@@Job type: 0

@@vmm:domains@@Domain: 'web1'
  state.state=1
  state.reason=2
  balloon.current=263168
  balloon.maximum=263168
  balloon.rss=195440
  net.count=1
  net.0.name=vnet2
  net.0.rx.bytes=1682
  net.0.rx.pkts=21
  net.0.rx.errs=0
  net.0.rx.drop=0
  net.0.tx.bytes=2022
  net.0.tx.pkts=27
  net.0.tx.errs=0
  net.0.tx.drop=0
  dirtyrate.calc_status=2
  dirtyrate.calc_start_time=72064
  dirtyrate.calc_period=1
  dirtyrate.calc_mode=page-sampling
  dirtyrate.megabytes_per_second=56
`;

/** A sample of host2 without domains and without KSM's section */
const EMPTY_HOST = `@@vmm:cpu@@user:                 12875910000000
system:                1305410000000
idle:                129208040000000
iowait:                  30880000000
@@vmm:domains@@`;

/** host1 while web1 migrates to host2 (virsh migrate --bandwidth 1, 2.5 s in) */
const MIGRATION_SOURCE = `@@vmm:cpu@@user:                 12876170000000
system:                1305670000000
idle:                129212610000000
iowait:                  30880000000
@@vmm:job0@@Job type: 2

operation: 5
time_elapsed: 2525
downtime: 300
setup_time: 62
data_total: 269099008
data_processed: 2348482
data_remaining: 249614336
memory_total: 269099008
memory_processed: 2348482
memory_remaining: 249614336
memory_bps: 1067220
memory_constant: 4194
memory_normal: 563
memory_normal_bytes: 2306048
memory_dirty_rate: 0
memory_iteration: 1
memory_postcopy_requests: 0
memory_page_size: 4096
disk_total: 0
disk_processed: 0
disk_remaining: 0
@@vmm:domains@@Domain: 'web1'
  state.state=1
  state.reason=2
  balloon.current=263168
  balloon.maximum=263168
  balloon.rss=195824
  net.count=1
  net.0.name=vnet2
  net.0.rx.bytes=1682
  net.0.rx.pkts=21
  net.0.rx.errs=0
  net.0.rx.drop=0
  net.0.tx.bytes=2022
  net.0.tx.pkts=27
  net.0.tx.errs=0
  net.0.tx.drop=0
  dirtyrate.calc_status=2
  dirtyrate.calc_start_time=72064
  dirtyrate.calc_period=1
  dirtyrate.calc_mode=page-sampling
  dirtyrate.megabytes_per_second=56
`;

/** host2 at the same time: the incoming side, its job refused (section empty), no rss or dirty rate (--nowait) */
const MIGRATION_TARGET = `@@vmm:cpu@@user:                 12876190000000
system:                1305690000000
idle:                129212630000000
iowait:                  30880000000
@@vmm:job0@@@@vmm:domains@@Domain: 'web1'
  state.state=3
  state.reason=2
  balloon.current=263168
  balloon.maximum=263168
  net.count=1
  net.0.name=vnet4
  net.0.rx.bytes=90
  net.0.rx.pkts=1
  net.0.rx.errs=0
  net.0.rx.drop=0
  net.0.tx.bytes=0
  net.0.tx.pkts=0
  net.0.tx.errs=0
  net.0.tx.drop=0
`;

const JOBS = ['web1'];
const at = (text: string, atMs: number, jobs: readonly string[] = JOBS): HostSnapshot => snapshotOf(text, jobs, atMs);
const NODE = parseNodeInfo(splitSections(START).get('nodeinfo'));
const figuresOf = (input: Partial<FiguresInput> & Pick<FiguresInput, 'current'>) =>
  hostFigures({ previous: null, node: NODE, ksmPageKiB: null, activeKB: latestEstimates(new Map(), input.current), migrationBytes: 0, ...input });

test('parsing: the node, its page sizes and KSM, each domain\'s fields; echo\'s markers split the outputs', () => {
  assert.deepEqual(NODE, { cpus: 2, mhz: 2000 });
  assert.equal(basePageKiB(splitSections(START).get('capabilities')), 4);
  const start = at(START, 0, []);
  assert.deepEqual(start.cpu, { userNs: 12875830000000, systemNs: 1305390000000, idleNs: 129205980000000, iowaitNs: 30880000000 });
  assert.deepEqual(start.ksm, { shared: 0, sharing: 0, fullScans: 0 });
  assert.deepEqual(start.domains.get('web1'), {
    state: 1, reason: 2, rssKiB: 195440, interfaces: new Map([['vnet2', 1682 + 2022]]), dirtyRate: { status: 2, startTime: 72064, mibPerSecond: 56 },
  });
  assert.deepEqual(at(SAMPLE_1, 0).jobs.get('web1'), { type: 0, operation: null });
  assert.deepEqual(at(MIGRATION_SOURCE, 0).jobs.get('web1'), { type: 2, operation: 5 });
  assert.equal(at(MIGRATION_TARGET, 0).jobs.has('web1'), false, 'libvirt refuses the incoming side\'s job statistics');
  assert.deepEqual(at(MIGRATION_TARGET, 0).domains.get('web1'), {
    state: 3, reason: 2, rssKiB: null, interfaces: new Map([['vnet4', 90]]), dirtyRate: null,
  });
  assert.equal(at(EMPTY_HOST, 0, []).domains.size, 0);
  assert.equal(at(EMPTY_HOST, 0, []).ksm, null);
});

test('the commands: one virsh argument, domstats last, names quoted for virsh\'s parser', () => {
  const commands = sampleCommands(['web1', 'a "b";\\c'], true);
  assert.equal(commands, [
    'echo @@vmm:cpu@@', 'nodecpustats', 'echo @@vmm:ksm@@', 'node-memory-tune',
    'echo @@vmm:job0@@', 'domjobinfo --rawstats -- "web1"', 'echo @@vmm:job1@@', 'domjobinfo --rawstats -- "a \\"b\\";\\\\c"',
    'echo @@vmm:domains@@', 'domstats --list-active --nowait --state --balloon --interface --dirtyrate',
  ].join(' ; '));
  assert.equal(virshQuote('x'), '"x"');
});

test('two samples: CPU from nodecpustats\' own totals, network from the deltas plus the migration bytes, the rest read at the sample', () => {
  // 20 KiB more on web1's tap than the captured second sample had.
  const busier = SAMPLE_2.replace('net.0.rx.bytes=1682', `net.0.rx.bytes=${1682 + 20480}`);
  const current = at(busier, 1000);
  const figures = figuresOf({ previous: at(SAMPLE_1, 0), current, migrationBytes: 10240 });
  // busy: user +0.04 s, system +0.01 s; of all: +2.06 s over both CPUs; × 2 CPUs × 2000 MHz.
  assert.ok(Math.abs(figures.cpuUsage! - (0.05 / 2.06) * 2 * 2000) < 1e-9, String(figures.cpuUsage));
  assert.equal(figures.netUsage, 30, '20 KiB on the tap + 10 KiB of migration in 1 s');
  assert.equal(figures.memConsumed, 195440);
  assert.equal(figures.memActive, 56 * 1024);
  assert.equal(figures.vmCount, 1);
  assert.equal(figures.memShared, undefined, 'no KSM');
  assert.deepEqual(figures.missing, []);
  const withKsm = figuresOf({ previous: at(SAMPLE_1, 0), current: at(SAMPLE_2.replace('shm_pages_sharing 0', 'shm_pages_sharing 100'), 1000), ksmPageKiB: 4 });
  assert.equal(withKsm.memShared, 400);
  // No previous snapshot (start, or after a failed sample): no rates, the rest.
  const first = figuresOf({ current });
  assert.deepEqual([first.cpuUsage, first.netUsage, first.vmCount], [undefined, undefined, 1]);
  // Counters that went back (the node rebooted, a tap was replaced): no reading rather than a negative one.
  const back = figuresOf({ previous: at(SAMPLE_2, 0), current: at(SAMPLE_1, 1000) });
  assert.deepEqual([back.cpuUsage, back.netUsage, back.missing], [undefined, 0, []]);
});

test('a domain that appears between samples adds none of its lifetime counters; the incoming side of a migration is no VM of its target', () => {
  const target = figuresOf({ previous: at(EMPTY_HOST, 0, []), current: at(MIGRATION_TARGET, 500), migrationBytes: 512 * 1024 });
  assert.equal(target.netUsage, 1024, 'only the migration stream: 512 KiB in 0.5 s, not web1\'s 90 bytes');
  assert.equal(target.vmCount, 0);
  assert.equal(target.memConsumed, 0, 'the incoming side\'s memory is not its target\'s yet (libvirt gives none)');
  assert.deepEqual(target.missing, []);
  const source = figuresOf({ previous: at(SAMPLE_2, 0), current: at(MIGRATION_SOURCE, 1000) });
  assert.equal(source.vmCount, 1, 'the VM counts on its source until it switches over');
  assert.equal(source.memConsumed, 195824);
  assert.equal(source.memActive, 56 * 1024, 'the last measurement before the migration');
  // The source paused for the switchover still counts; after a post-copy switchover it does not.
  const web1 = at(MIGRATION_SOURCE, 0).domains.get('web1')!;
  const job = at(MIGRATION_SOURCE, 0).jobs.get('web1');
  assert.equal(countsOnHost({ ...web1, state: 3, reason: 2 }, job), true);
  assert.equal(countsOnHost({ ...web1, state: 3, reason: 12 }, job), false);
  assert.equal(countsOnHost({ ...web1, state: 3, reason: 1 }, undefined), true, 'paused by its user: still a VM of the host');
  assert.equal(countsOnHost({ ...web1, state: 1, reason: 10 }, undefined), true, 'running in post-copy on its target');
  // A dirty-rate measurement takes the job lock: only for a running domain without a job, none under way.
  assert.equal(canMeasureDirtyRate(at(SAMPLE_2, 0).domains.get('web1')!, at(SAMPLE_2, 0).jobs.get('web1')), true);
  assert.equal(canMeasureDirtyRate(web1, job), false);
  assert.equal(canMeasureDirtyRate(at(MIGRATION_TARGET, 0).domains.get('web1')!, undefined), false);
  const measuring = at(SAMPLE_2.replace('calc_status=2', 'calc_status=1'), 0);
  assert.equal(canMeasureDirtyRate(measuring.domains.get('web1')!, measuring.jobs.get('web1')), false);
});

test('a missing field: no reading for that counter, and why', () => {
  const noRss = figuresOf({ previous: at(SAMPLE_1, 0), current: at(SAMPLE_2.replace(/ {2}balloon\.rss=\d+\n/, ''), 1000) });
  assert.equal(noRss.memConsumed, undefined);
  assert.deepEqual(noRss.missing, ['domstats gave no balloon.rss for domain web1']);
  assert.equal(noRss.vmCount, 1);
  const noCpu = figuresOf({ previous: at(SAMPLE_1, 0), current: at(SAMPLE_2.replace(/user: +\d+\n/, ''), 1000) });
  assert.equal(noCpu.cpuUsage, undefined);
  assert.deepEqual(noCpu.missing, ['nodecpustats gave no user/system/idle/iowait times']);
  // A domain not measured yet waits for its measurement: no mem.active reading, and no warning.
  const unmeasured = at(SAMPLE_2.replace(/ {2}dirtyrate\.megabytes_per_second=\d+\n/, '').replace('calc_status=2', 'calc_status=1'), 1000);
  const waiting = figuresOf({ previous: at(SAMPLE_1, 0), current: unmeasured });
  assert.deepEqual([waiting.memActive, waiting.missing], [undefined, []]);
  assert.equal(figuresOf({ current: unmeasured, activeKB: latestEstimates(new Map([['web1', 7]]), unmeasured) }).memActive, 7, 'a measurement under way: the last one');
});

/** A virsh that answers from `answers` by host URI: text, or an Error to reject with. */
function scriptedVirsh(answers: Record<string, (commands: string) => string | Error>): { virsh: Virsh; calls: string[] } {
  const calls: string[] = [];
  const run = async (uri: string, args: readonly string[]): Promise<string> => {
    const commands = args.join(' ');
    calls.push(`${uri}: ${commands}`);
    const answer = answers[uri]!(commands);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { virsh: { run } as unknown as Virsh, calls };
}

const byName = (readings: readonly CounterReading[], host: string): Record<string, number> =>
  Object.fromEntries(readings.filter((reading) => reading.host === host).map((reading) => [reading.counter, reading.value]));

test('sampling: one call per host, migration bytes in both hosts\' interval, a failing host warned of once and restarted from a fresh baseline', async () => {
  const emptyStart = START.replace(/@@vmm:domains@@[\s\S]*$/, '@@vmm:domains@@');
  let kvm1 = SAMPLE_2;
  let kvm2: string | Error = EMPTY_HOST;
  const { virsh, calls } = scriptedVirsh({
    'qemu:///kvm1': (commands) => (commands.includes('nodeinfo') ? START : commands.startsWith('domdirtyrate-calc') ? '' : kvm1),
    'qemu:///kvm2': (commands) => (commands.includes('nodeinfo') ? emptyStart : kvm2),
  });
  const warnings: string[] = [];
  const counters = new LibvirtCounters(virsh, [{ name: 'kvm1', uri: 'qemu:///kvm1' }, { name: 'kvm2', uri: 'qemu:///kvm2' }], (message) => warnings.push(message));
  await counters.start();
  assert.deepEqual(counters.capacitiesMHz(), { kvm1: 4000, kvm2: 4000 }, 'CPU(s) 2 × 2000 MHz, what DRS weighs a host by');
  assert.deepEqual(counters.unavailable(), [COUNTERS.memSwapUsed.name, COUNTERS.memShared.name]);
  assert.match(counters.sources()[COUNTERS.memShared.name]!, /kvm1: KSM has neither scanned nor merged anything/);
  assert.equal(calls.length, 2, 'start: one call a host');

  calls.length = 0;
  counters.addMigrationBytes('kvm1', 'kvm2', 100 * 1024);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const first = await counters.sample();
  assert.ok(byName(first, 'kvm2')[COUNTERS.netUsage.name]! > 0, 'the migration bytes on the target');
  assert.ok(byName(first, 'kvm1')[COUNTERS.netUsage.name]! > 0, 'and on the source');
  assert.equal(byName(first, 'kvm1')[COUNTERS.vmCount.name], 1);
  assert.match(calls[0]!, /^qemu:\/\/\/kvm1: .*domjobinfo --rawstats -- "web1" ; .*domstats/, 'the jobs of the domains of the previous answer');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(calls.filter((call) => call.includes('domdirtyrate-calc')), ['qemu:///kvm1: domdirtyrate-calc --seconds 1 -- "web1"'], 'a measurement for the running domain without a job');
  assert.equal(calls.length, 3, 'two samples and one measurement');
  const second = await counters.sample();
  assert.equal(byName(second, 'kvm2')[COUNTERS.netUsage.name], 0, 'the bytes counted once');

  kvm1 = MIGRATION_SOURCE;
  calls.length = 0;
  await counters.sample();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls.filter((call) => call.includes('domdirtyrate-calc')).length, 0, 'no measurement while the domain migrates');

  kvm2 = new Error('Failed to connect socket: Connection refused');
  const down = await counters.sample();
  assert.deepEqual(byName(down, 'kvm2'), {});
  assert.equal(byName(down, 'kvm1')[COUNTERS.vmCount.name], 1, 'the other host\'s readings');
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /kvm2 did not answer a sample: Failed to connect socket: Connection refused/);
  await counters.sample();
  assert.equal(warnings.length, 1, 'one warning for the whole outage');

  kvm2 = EMPTY_HOST.replace('user:                 12875910000000', 'user:                 12999910000000');
  const back = byName(await counters.sample(), 'kvm2');
  assert.match(warnings[1]!, /kvm2 answers again, after 2 samples without readings/);
  assert.equal(back[COUNTERS.cpuUsage.name], undefined, 'no rate spanning the outage');
  assert.equal(back[COUNTERS.netUsage.name], undefined);
  assert.equal(back[COUNTERS.vmCount.name], 0);
  kvm2 = kvm2.replace('idle:                129208040000000', 'idle:                129210040000000');
  const after = byName(await counters.sample(), 'kvm2');
  assert.equal(after[COUNTERS.cpuUsage.name], 0, 'rates again from the first answer after it');
  assert.equal(after[COUNTERS.netUsage.name], 0);
  assert.equal(warnings.length, 2);
});

test('start rejects when a host does not answer', async () => {
  const { virsh } = scriptedVirsh({ 'qemu:///kvm1': () => START, 'qemu:///kvm2': () => new Error('Cannot recv data: Connection reset by peer') });
  const counters = new LibvirtCounters(virsh, [{ name: 'kvm1', uri: 'qemu:///kvm1' }, { name: 'kvm2', uri: 'qemu:///kvm2' }], () => {});
  await assert.rejects(counters.start(), /libvirt host kvm2 \(qemu:\/\/\/kvm2\) does not answer: Cannot recv data/);
});

const skip = libvirtSkipReason();
const real = needing(skip);
const DOMAIN = 'web1';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const shown = (readings: readonly CounterReading[]): string =>
  readings.map((reading) => `${reading.host} ${reading.counter}=${Number.isInteger(reading.value) ? reading.value : reading.value.toFixed(1)}`).join(', ');
const ksmFile = (name: string): string => fs.readFileSync(`/sys/kernel/mm/ksm/${name}`, 'utf8').trim();

real.describe('libvirt counters on two real daemons, a guest on the first', () => {
  let lab: LibvirtHosts | undefined;
  let virsh: Virsh;
  let counters: LibvirtCounters;
  const warnings: string[] = [];
  /** libvirtd pids this suite stopped (SIGSTOP): continued before the hosts are taken down. */
  const stopped = new Set<number>();
  const host = (index: number) => lab!.hosts[index]!;

  real.before(async () => {
    const image = await guestImage({ cacheDir: defaultCacheDir(), nic: 'virtio-net-pci', busybox: staticBusybox() ?? '/bin/busybox' });
    lab = await startLibvirtHosts({ count: 2 });
    virsh = Virsh.find(30_000)!;
    const xmlFile = path.join(lab.dir, `${DOMAIN}.xml`);
    fs.writeFileSync(xmlFile, domainXml({
      name: DOMAIN, kernel: image.kernel, initrd: image.initrd, cmdline: guestCmdline(DOMAIN, libvirtGuestAddress(1)),
      mac: libvirtGuestMac(1), bridge: lab.bridge, serialLog: path.join(lab.dir, `${DOMAIN}.serial`),
    }), { flag: 'wx' });
    await virsh.run(host(0).uri, ['define', xmlFile]);
    await virsh.run(host(0).uri, ['start', DOMAIN], 60_000);
    await waitForGuest(lab.netns, libvirtGuestAddress(1), DOMAIN, 90_000);
    counters = new LibvirtCounters(virsh, lab.hosts.map(({ name, uri }) => ({ name, uri })), (message) => warnings.push(message));
    await counters.start();
  });

  real.after(async () => {
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
    await lab?.stop();
  });

  real.it('every counter but swap on both hosts over four samples 1 s apart, the guest writing memory and answering pings', async (t) => {
    const info = parseKeyValues(await virsh.run(host(0).uri, ['nodeinfo']));
    const capacityMhz = Number(info.get('CPU(s)')) * Number(/^\d+/.exec(info.get('CPU frequency') ?? '')?.[0]);
    assert.ok(capacityMhz > 0, JSON.stringify([...info]));
    const weird = 'a "b";\\c \'d\'';
    assert.equal((await virsh.run(host(0).uri, [`echo ${virshQuote(weird)}`])).trim(), weird, 'virsh\'s parser reads a quoted name back');
    const address = libvirtGuestAddress(1);
    const dirtying = getInNetns(lab!.netns, `http://${address}/dirty?mb=64&rate=32&ms=5000`, 30_000);
    const samples: CounterReading[][] = [];
    for (let i = 0; i < 4; i++) {
      await sleep(1000);
      await getInNetns(lab!.netns, `http://${address}/ping`);
      samples.push(await counters.sample());
      t.diagnostic(`sample ${i + 1}: ${shown(samples.at(-1)!)}`);
    }
    t.diagnostic(`dirtying: ${(await dirtying).body.trim()}`);
    for (const readings of samples) {
      const [first, second] = [byName(readings, 'host1'), byName(readings, 'host2')];
      for (const figures of [first, second]) {
        const mhz = figures[COUNTERS.cpuUsage.name]!;
        assert.ok(mhz > 0 && mhz <= capacityMhz, `${mhz} MHz of ${capacityMhz}`);
        assert.ok(figures[COUNTERS.netUsage.name]! >= 0);
        assert.equal(figures[COUNTERS.memSwapUsed.name], undefined);
      }
      assert.deepEqual([first[COUNTERS.vmCount.name], second[COUNTERS.vmCount.name]], [1, 0]);
      const consumed = first[COUNTERS.memConsumed.name]!;
      assert.ok(consumed > 50 * 1024 && consumed < 1024 * 1024, `${consumed} KB for a 256 MiB guest`);
      assert.equal(second[COUNTERS.memConsumed.name], 0);
      assert.equal(second[COUNTERS.memActive.name], 0);
    }
    const host1 = samples.map((readings) => byName(readings, 'host1'));
    assert.ok(host1.some((figures) => figures[COUNTERS.netUsage.name]! > 0), 'the pings on web1\'s tap');
    assert.notEqual(host1.at(-1)![COUNTERS.memActive.name], undefined, 'measured by the last sample');
    assert.ok(host1.some((figures) => figures[COUNTERS.memActive.name]! > 0), 'the guest writes 32 MB/s');
    // Both daemons read this one machine's KSM.
    const ksmInUse = Number(ksmFile('full_scans')) > 0 || Number(ksmFile('pages_shared')) > 0;
    t.diagnostic(`KSM: run=${ksmFile('run')} full_scans=${ksmFile('full_scans')} pages_shared=${ksmFile('pages_shared')}; unavailable: ${counters.unavailable().join(', ')}`);
    assert.equal(counters.unavailable().includes(COUNTERS.memShared.name), !ksmInUse);
    assert.equal(samples.every((readings) => readings.some((reading) => reading.counter === COUNTERS.memShared.name)), ksmInUse);
    if (ksmFile('run') !== '1') assert.equal(ksmInUse || !counters.unavailable().includes(COUNTERS.memShared.name), ksmInUse);
    assert.ok(counters.unavailable().includes(COUNTERS.memSwapUsed.name));
    assert.deepEqual(warnings, []);
  });

  real.it('while the VM migrates it counts on its source only, and a sample does not wait for the migration\'s job lock', async (t) => {
    // The last sample's dirty-rate measurement holds the job lock for a moment: let it end first.
    await sleep(500);
    const migration = virsh.run(host(0).uri, ['migrate', '--live', '--p2p', '--bandwidth', '1', '--', DOMAIN, host(1).uri], 120_000)
      .then(() => 'completed', (error: Error) => error.message);
    await sleep(1500);
    assert.match(await virsh.run(host(1).uri, ['domstate', '--reason', DOMAIN]), /paused \(migrating\)|paused \(migration\)/, 'the incoming side is up on host2');
    for (let i = 0; i < 3; i++) {
      const began = performance.now();
      const readings = await counters.sample();
      const ms = performance.now() - began;
      t.diagnostic(`migrating, sample ${i + 1} in ${ms.toFixed(0)} ms: ${shown(readings)}`);
      assert.ok(ms < 3000, `${ms} ms`);
      const [first, second] = [byName(readings, 'host1'), byName(readings, 'host2')];
      assert.deepEqual([first[COUNTERS.vmCount.name], second[COUNTERS.vmCount.name]], [1, 0]);
      assert.ok(first[COUNTERS.memConsumed.name]! > 50 * 1024);
      assert.equal(second[COUNTERS.memConsumed.name], 0, 'the incoming side is not host2\'s yet');
      await sleep(1000);
    }
    await virsh.run(host(0).uri, ['domjobabort', DOMAIN]);
    const outcome = await migration;
    t.diagnostic(`migration: ${outcome}`);
    assert.notEqual(outcome, 'completed');
    await sleep(500);
    const readings = await counters.sample();
    t.diagnostic(`after the abort: ${shown(readings)}`);
    assert.deepEqual([byName(readings, 'host1')[COUNTERS.vmCount.name], byName(readings, 'host2')[COUNTERS.vmCount.name]], [1, 0]);
    assert.deepEqual(warnings, []);
  });

  real.it('a daemon that stops answering: the other host\'s readings and one warning; answering again, its rates from a fresh baseline', async (t) => {
    const pid = host(1).pid;
    // A second since the last sample: over a shorter interval the CPU figure is mostly the sampling's own burst.
    await sleep(1000);
    process.kill(pid, 'SIGSTOP');
    stopped.add(pid);
    for (let i = 0; i < 2; i++) {
      const readings = await counters.sample();
      t.diagnostic(`host2 stopped, sample ${i + 1}: ${shown(readings)}`);
      assert.deepEqual(byName(readings, 'host2'), {});
      assert.equal(byName(readings, 'host1')[COUNTERS.vmCount.name], 1);
      assert.equal(warnings.length, 1, warnings.join('\n'));
    }
    t.diagnostic(`warning: ${warnings[0]}`);
    assert.match(warnings[0]!, /^libvirt host host2 did not answer a sample: no answer within 5 s;/);
    process.kill(pid, 'SIGCONT');
    stopped.delete(pid);
    const back = byName(await counters.sample(), 'host2');
    assert.match(warnings[1] ?? '', /^libvirt host host2 answers again, after 2 samples without readings/);
    assert.deepEqual([back[COUNTERS.cpuUsage.name], back[COUNTERS.netUsage.name], back[COUNTERS.vmCount.name]], [undefined, undefined, 0]);
    await sleep(1000);
    const next = await counters.sample();
    t.diagnostic(`host2 continued, the sample after its first answer: ${shown(next)}`);
    assert.ok(byName(next, 'host2')[COUNTERS.cpuUsage.name]! > 0);
    assert.equal(byName(next, 'host2')[COUNTERS.netUsage.name], 0);
    assert.equal(warnings.length, 2);
  });

  real.it('a daemon killed: sample() resolves with the other host\'s readings and one warning with libvirt\'s reason', async (t) => {
    process.kill(host(1).pid, 'SIGTERM');
    for (let waited = 0; isRunning(host(1).identity) && waited < 10_000; waited += 100) await sleep(100);
    assert.equal(isRunning(host(1).identity), false);
    const readings = await counters.sample();
    t.diagnostic(`host2 killed: ${shown(readings)}; warning: ${warnings.at(-1)}`);
    assert.deepEqual(byName(readings, 'host2'), {});
    assert.equal(byName(readings, 'host1')[COUNTERS.vmCount.name], 1);
    assert.equal(warnings.length, 3);
    assert.match(warnings[2]!, /^libvirt host host2 did not answer a sample: .*(connect|No such file)/i);
  });
});
