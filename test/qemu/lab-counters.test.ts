/**
 * The qemu platform's counters stay possible: no cpu.usagemhz sample above what the host has
 * (its CPUs × their MHz), no memory counter above the machine's memory. A QEMU process that
 * departs (a migration's source) or arrives (its target) is where a lifetime of CPU time used
 * to land in one sample. First with real processes standing in for QEMU in a lab's state,
 * then across migrations on a real lab.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { COUNTERS } from '../../src/monitor/counters.ts';
import type { CounterReading } from '../../src/platforms/platform.ts';
import { boundedCpuMhz, cpuMhzFromCpuinfo, LabCounters } from '../../src/platforms/qemu/counters.ts';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import type { LabState, ProcessRecord } from '../../src/platforms/qemu/lab-state.ts';
import { processStartTime } from '../../src/platforms/qemu/processes.ts';
import type { QemuPlatform } from '../../src/platforms/qemu/qemu-platform.ts';
import { needing } from '../support/needing.ts';
import { labSkipReason } from './support/lab-requirements.ts';
import { openForScript, runOnQemu } from './support/run-on-qemu.ts';

const onLab = needing(labSkipReason());

/**
 * Two VMs moved back and forth under cpu and memory2 load: 12 departures, 12 arrivals.
 */
const ROUNDS = 6;
const SCRIPT = [
  'esx1:vm01 esx2:vm02',
  '0 add-client cpu 1',
  '0 add-client memory2 2',
  ...Array.from({ length: ROUNDS }, (_, i) => [`2 migrate vm01 ${i % 2 === 0 ? 'esx2' : 'esx1'}`, `0 migrate vm02 ${i % 2 === 0 ? 'esx1' : 'esx2'}`]).flat(),
  '2 end',
].join('\n');

/** A line `NAME: N kB` of /proc/meminfo, in KB. */
function meminfoKB(name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  assert.ok(match, `${name} in /proc/meminfo`);
  return Number(match[1]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A process that burns `threads` CPUs for `burnMs`, then idles until killed. */
function burner(threads: number, burnMs: number): ChildProcess {
  const body = `const end = Date.now() + ${burnMs}; while (Date.now() < end); setInterval(() => {}, 1e6);`;
  const script = `const { Worker } = require('node:worker_threads'); for (let i = 1; i < ${threads}; i++) new Worker(${JSON.stringify(body)}, { eval: true }); ${body}`;
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

/** A lab's state with one host (pinned to `cpus`) whose QEMU processes are `children`. */
function fakeLab(cpus: number[], children: ChildProcess[]): { lab: Lab; state: LabState } {
  const record = (child: ChildProcess, i: number): ProcessRecord => ({
    id: `p${i + 1}`, kind: 'qemu', pid: child.pid as number, starttime: processStartTime(child.pid as number) as string, log: '', host: 'esx1',
  });
  const state = { hosts: [{ name: 'esx1', cpus }], vms: [], processes: children.map(record) } as unknown as LabState;
  const lab = { state, assertStillUp: () => {} } as unknown as Lab;
  return { lab, state };
}

const cpuMhz = (readings: CounterReading[]): number => readings.find((r) => r.counter === COUNTERS.cpuUsage.name)?.value as number;

describe('qemu counters of arriving and departing processes', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) child.kill('SIGKILL');
  });
  const start = (threads: number, burnMs: number): ChildProcess => {
    const child = burner(threads, burnMs);
    children.push(child);
    return child;
  };

  it('counts a departing process up to its last reading, never its lifetime, and an arriving one from its start', async () => {
    const old = start(1, 1500);
    await sleep(1700);
    const { lab, state } = fakeLab([0], [old]);
    const counters = new LabCounters(lab, 1000, false);
    await sleep(200);
    // A migration's source is read one last time, then stays in the lab's state while it ends.
    counters.finalRead(state.processes[0] as ProcessRecord);
    const whileEnding = cpuMhz(counters.sample());
    assert.ok(whileEnding <= 1000, `the ending process's 1.5 s of CPU is not counted again: ${whileEnding.toFixed(0)} MHz on a 1000 MHz host`);

    // A process the previous sample did not see, started before it: counted from now on only.
    const unseen = start(1, 600);
    await sleep(800);
    counters.sample();
    state.processes = [...state.processes, { ...(fakeLab([0], [unseen]).state.processes[0] as ProcessRecord), id: 'p2' }];
    await sleep(200);
    const afterUnseen = cpuMhz(counters.sample());
    assert.ok(afterUnseen <= 1000, `the unseen process's earlier CPU is not counted: ${afterUnseen.toFixed(0)} MHz`);

    // A process started since the previous sample: all its CPU time is in this interval.
    const arriving = start(1, 400);
    state.processes = [...state.processes, { ...(fakeLab([0], [arriving]).state.processes[0] as ProcessRecord), id: 'p3' }];
    await sleep(700);
    const withArrival = cpuMhz(counters.sample());
    assert.ok(withArrival > 200 && withArrival <= 1000, `the arriving process's 0.4 s of CPU in 0.7 s: ${withArrival.toFixed(0)} MHz`);
  });

  it('fails loudly rather than record more CPU than the host has; the 10 ms resolution alone is recorded as the capacity', () => {
    const usage = { hostName: 'esx1', processes: 2, seconds: 1, windowSeconds: 1.01, cpus: 1, cpuMhz: 1000 };
    assert.equal(boundedCpuMhz({ ...usage, ticks: 60 }), 600);
    assert.equal(boundedCpuMhz({ ...usage, ticks: 100 }), 1000);
    assert.equal(boundedCpuMhz({ ...usage, ticks: 103 }), 1000, 'one tick a process over a window of 1.01 s');
    assert.throws(() => boundedCpuMhz({ ...usage, ticks: 104 }), /^Error: cpu\.usagemhz of esx1 would be 1040 MHz, more than its capacity of 1000 MHz \(1 CPU × 1000 MHz\)/);
    assert.throws(() => boundedCpuMhz({ ...usage, ticks: 3175, cpus: 2 }), /more than its capacity of 2000 MHz \(2 CPUs × 1000 MHz\)/);
  });
});

onLab.describe('qemu counters across migrations', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-lab-counters-'));
  const labDir = path.join(base, 'lab');
  let platform: QemuPlatform | null = null;

  onLab.after(async () => {
    await platform?.close().catch(() => undefined);
    await Lab.down(labDir);
    fs.rmSync(base, { recursive: true, force: true });
  });

  onLab.it('never reads more CPU than the host has, nor more memory than the machine has', async (t) => {
    const config = path.join(base, 'lab.yaml');
    fs.writeFileSync(config, `labDir: ${labDir}\naccelerator: tcg\nload: { requestTimeoutSeconds: 60 }\nprobe: { settleSeconds: 10 }\n`);
    platform = await openForScript(SCRIPT, config);
    // Besides the run's own samples (every second), one in each departure's last moments: right
    // after the source QEMU's last reading, while it is still in the lab's state, ending.
    const open = platform;
    const departures: Promise<CounterReading[]>[] = [];
    const readLast = open.lab.beforeRetire;
    open.lab.beforeRetire = (record) => {
      readLast?.(record);
      departures.push(new Promise((resolve, reject) => setImmediate(() => open.sample().then(resolve, reject))));
    };
    const run = await runOnQemu(platform, SCRIPT, { out: path.join(base, 'run') });
    const atDepartures = (await Promise.all(departures)).flat();
    assert.equal(run.outcome.status, 'completed');
    assert.equal(run.migrations.filter((m) => m.status === 'succeeded').length, 2 * ROUNDS, JSON.stringify(run.migrations.map((m) => [m.vm, m.status, m.reason])));

    // The hosts are not pinned: each may use every CPU of the machine.
    const capacityMhz = os.cpus().length * (cpuMhzFromCpuinfo() as number);
    const memoryKB = meminfoKB('MemTotal');
    const swapKB = meminfoKB('SwapTotal');
    const readings = [...run.samples, ...atDepartures];
    assert.ok(atDepartures.length >= 2 * ROUNDS, `${atDepartures.length} readings at departures`);
    const cpu = readings.filter((s) => s.counter === COUNTERS.cpuUsage.name);
    assert.ok(cpu.length >= 2 * 10, `${cpu.length} cpu samples`);
    const highest = Math.max(...cpu.map((s) => s.value));
    t.diagnostic(`highest cpu.usagemhz ${highest.toFixed(0)} MHz of ${capacityMhz.toFixed(0)} MHz over ${cpu.length} samples`);
    assert.ok(highest > 100, 'the hosts used CPU');
    const impossible = cpu.filter((s) => !(s.value >= 0 && s.value <= capacityMhz));
    assert.deepEqual(impossible, [], `cpu.usagemhz within 0..${capacityMhz.toFixed(0)} MHz`);

    for (const [counter, limitKB] of [[COUNTERS.memConsumed, memoryKB], [COUNTERS.memActive, memoryKB], [COUNTERS.memShared, memoryKB], [COUNTERS.memSwapUsed, swapKB]] as const) {
      const over = readings.filter((s) => s.counter === counter.name && !(s.value >= 0 && s.value <= limitKB));
      assert.deepEqual(over, [], `${counter.name} within 0..${limitKB} KB`);
    }
  });
});
