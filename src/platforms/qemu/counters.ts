import fs from 'node:fs';
import os from 'node:os';
import { COUNTERS } from '../../monitor/counters.ts';
import type { CounterReading } from '../platform.ts';
import type { Lab } from './lab.ts';
import type { ProcessRecord } from './lab-state.ts';
import { interfaceBytes } from './network.ts';
import { processStartTime } from './processes.ts';

/** Linux's USER_HZ on x86-64: /proc/PID/stat counts CPU time in 1/100 s. */
const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_KB = 4;

/** The CPU's clock in MHz, as /proc/cpuinfo says (`cpu MHz` of the first CPU); null when it does not. */
export function cpuMhzFromCpuinfo(text = readOrEmpty('/proc/cpuinfo')): number | null {
  const match = /^cpu MHz\s*:\s*([\d.]+)/m.exec(text);
  const mhz = match ? Number(match[1]) : Number.NaN;
  return Number.isFinite(mhz) && mhz > 0 ? mhz : null;
}

/** KSM merges pages only while /sys/kernel/mm/ksm/run is 1. */
export function ksmRunning(): boolean {
  return readOrEmpty('/sys/kernel/mm/ksm/run').trim() === '1';
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

interface ProcessReading {
  cpuTicks: number;
  rssKB: number;
  swapKB: number;
  ksmPages: number | null;
}

/** Seconds since boot (/proc/uptime), the clock of a process's start time. */
function uptimeSeconds(): number {
  return Number(readOrEmpty('/proc/uptime').split(' ')[0]);
}

/** When the process started, in seconds since boot; null when there is no such process. */
function startedAtSeconds(pid: number): number | null {
  const ticks = processStartTime(pid);
  return ticks === null ? null : Number(ticks) / CLOCK_TICKS_PER_SECOND;
}

/**
 * The CPUs a host's processes may run on: its pinned CPUs, or else the machine's. Not this
 * tool's own affinity: the lab's QEMUs may have been started by an earlier `lab up` with a
 * wider one.
 */
export function hostCpuCount(cpus: readonly number[] | null): number {
  return cpus ? new Set(cpus).size : os.cpus().length;
}

function readProcess(pid: number): ProcessReading | null {
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  const status = readOrEmpty(`/proc/${pid}/status`);
  if (stat === '' || status === '') return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  const ksm = readOrEmpty(`/proc/${pid}/ksm_merging_pages`).trim();
  return {
    cpuTicks: Number(fields[11] ?? 0) + Number(fields[12] ?? 0),
    rssKB: kb('VmRSS'),
    swapKB: kb('VmSwap'),
    ksmPages: ksm === '' ? null : Number(ksm),
  };
}

/** How each counter is measured here; goes into run.json. */
export function counterSources(cpuMhz: number, ksm: boolean): Record<string, string> {
  return {
    [COUNTERS.cpuUsage.name]:
      `CPU time of the host's QEMU processes (utime+stime of /proc/PID/stat, 10 ms resolution) per second × ${cpuMhz} MHz (cpu MHz of /proc/cpuinfo); ` +
      'a process counts from the sample before it or from its start, to the sample after it or its last reading before it is ended; ' +
      'at most the host\'s capacity (its CPUs × the MHz): a reading above it by no more than the 10 ms resolution (one tick a process) is recorded as the capacity, a reading above that fails the run',
    [COUNTERS.memConsumed.name]: 'resident memory (VmRSS) of the host\'s QEMU processes at the sample time',
    [COUNTERS.memActive.name]: 'memory the host\'s VMs wrote in the last second: QEMU\'s page-sampling dirty-rate estimate (calc-dirty-rate over 1 s, query-dirty-rate), MB/s × 1 s; memory only read is not seen',
    [COUNTERS.memShared.name]: ksm
      ? 'pages KSM merged in the host\'s QEMU processes (/proc/PID/ksm_merging_pages) at the sample time'
      : 'unavailable: KSM is not running on this machine (/sys/kernel/mm/ksm/run is not 1), so no reading is recorded',
    [COUNTERS.memSwapUsed.name]: 'swapped-out memory (VmSwap) of the host\'s QEMU processes at the sample time',
    [COUNTERS.netUsage.name]: 'bytes received and sent on the taps of the host\'s QEMU processes, plus the migration streams the host sent or received (over unix sockets, counted from query-migrate), per second',
    [COUNTERS.vmCount.name]: 'VMs whose running QEMU process is on the host at the sample time (a migrating VM counts on its source until it switches over)',
  };
}

/** A process's CPU and tap counters at the previous sample (or its start). */
interface Baseline {
  cpuTicks: number;
  netBytes: number;
}

/** What a host's processes used since the previous sample. */
interface Usage {
  ticks: number;
  netBytes: number;
  /** Processes whose CPU time is in `ticks`: each may add up to one tick of rounding. */
  processes: number;
}

/**
 * The hosts' counters of a lab, computed from its QEMU processes: rates (CPU, network)
 * averaged over the time since the previous sample, the rest read at the sample time.
 *
 * A rate counts only what a process used between two readings of it: the previous sample
 * (or, for a process that started since, its start) and this sample (or, for a process
 * being ended, its last reading, `finalRead`, after which it is not counted again). So a
 * process that arrives or departs adds its share of the interval, never its whole lifetime.
 */
export class LabCounters {
  private readonly baselines = new Map<string, Baseline>();
  /** Processes read for the last time: not counted again while they end. */
  private readonly departed = new Set<string>();
  /** What departed processes used since the previous sample, per host. */
  private readonly carried = new Map<string, Usage>();
  private readonly carriedMigrationBytes = new Map<string, number>();
  private readonly activeKB = new Map<string, number>();
  private lastSampleMs: number;
  /** Uptime at the previous sample: a process started after it arrived since. */
  private lastSampleUptimeS: number;

  constructor(
    private readonly lab: Lab,
    readonly cpuMhz: number,
    readonly ksm: boolean,
  ) {
    this.lastSampleUptimeS = uptimeSeconds();
    this.lastSampleMs = performance.now();
    const net = this.netBytes();
    for (const record of this.qemuProcesses()) {
      const reading = readProcess(record.pid);
      if (reading) this.baselines.set(record.id, { cpuTicks: reading.cpuTicks, netBytes: net?.get(record.tap ?? '') ?? 0 });
    }
  }

  /** Traffic of a migration stream: counted on both its hosts. */
  addMigrationBytes(source: string, target: string, bytes: number): void {
    for (const host of [source, target]) this.carriedMigrationBytes.set(host, (this.carriedMigrationBytes.get(host) ?? 0) + bytes);
  }

  /** The latest estimate of the memory `vm` writes per second, in KB; null when none. */
  setActive(vm: string, kb: number | null): void {
    if (kb === null) this.activeKB.delete(vm);
    else this.activeKB.set(vm, kb);
  }

  /** Reads a process about to end, so that the CPU and traffic it had since the last sample are counted, and only those. */
  finalRead(record: ProcessRecord): void {
    if (record.kind !== 'qemu' || !record.host || this.departed.has(record.id)) return;
    this.departed.add(record.id);
    const usage = this.usageSince(record, readProcess(record.pid), this.netBytes());
    this.baselines.delete(record.id);
    if (!usage) return;
    const carried = this.carried.get(record.host) ?? { ticks: 0, netBytes: 0, processes: 0 };
    this.carried.set(record.host, { ticks: carried.ticks + usage.ticks, netBytes: carried.netBytes + usage.netBytes, processes: carried.processes + 1 });
  }

  /** Throws when the lab was taken down (see Lab.assertStillUp), or when a reading would be impossible. */
  sample(): CounterReading[] {
    this.lab.assertStillUp();
    const startedMs = this.lastSampleMs;
    const nowMs = performance.now();
    const seconds = Math.max(1e-3, (nowMs - startedMs) / 1000);
    const net = this.netBytes();
    const hosts = new Map(this.lab.state.hosts.map((host) => [host.name, {
      usage: this.carried.get(host.name) ?? { ticks: 0, netBytes: 0, processes: 0 }, rssKB: 0, swapKB: 0, ksmPages: 0, activeKB: 0, vms: 0,
    }]));
    const processes = this.qemuProcesses();
    // A process that left the lab without a final read (it died on its own) is forgotten.
    const present = new Set(processes.map((record) => record.id));
    for (const id of [...this.baselines.keys(), ...this.departed]) {
      if (!present.has(id)) {
        this.baselines.delete(id);
        this.departed.delete(id);
      }
    }
    for (const record of processes) {
      const host = hosts.get(record.host ?? '');
      const reading = readProcess(record.pid);
      if (!host || !reading) continue;
      host.rssKB += reading.rssKB;
      host.swapKB += reading.swapKB;
      host.ksmPages += reading.ksmPages ?? 0;
      if (this.departed.has(record.id)) continue;
      const usage = this.usageSince(record, reading, net);
      if (usage) host.usage = { ticks: host.usage.ticks + usage.ticks, netBytes: host.usage.netBytes + usage.netBytes, processes: host.usage.processes + 1 };
      this.baselines.set(record.id, { cpuTicks: reading.cpuTicks, netBytes: net?.get(record.tap ?? '') ?? 0 });
    }
    const endedMs = performance.now();
    for (const vm of this.lab.state.vms) {
      const host = hosts.get(vm.host);
      if (!host) continue;
      host.vms++;
      host.activeKB += this.activeKB.get(vm.name) ?? 0;
    }
    const readings: CounterReading[] = [];
    for (const [name, host] of hosts) {
      const netBytes = host.usage.netBytes + (this.carriedMigrationBytes.get(name) ?? 0);
      const reading = (counter: { name: string; unit: string }, value: number): CounterReading => ({
        host: name, counter: counter.name, instance: '', value, unit: counter.unit,
      });
      readings.push(
        reading(COUNTERS.cpuUsage, this.cpuUsageMhz(name, host.usage, seconds, (endedMs - startedMs) / 1000)),
        reading(COUNTERS.memConsumed, host.rssKB),
        reading(COUNTERS.memActive, host.activeKB),
        ...(this.ksm ? [reading(COUNTERS.memShared, host.ksmPages * PAGE_KB)] : []),
        reading(COUNTERS.memSwapUsed, host.swapKB),
        reading(COUNTERS.netUsage, netBytes / 1024 / seconds),
        reading(COUNTERS.vmCount, host.vms),
      );
    }
    this.carried.clear();
    this.carriedMigrationBytes.clear();
    this.lastSampleMs = nowMs;
    this.lastSampleUptimeS = uptimeSeconds();
    return readings;
  }

  /**
   * What the process used since its baseline; a process without one counts from its start
   * when it started since the previous sample, else (it was not read then) from now on.
   */
  private usageSince(record: ProcessRecord, reading: ProcessReading | null, net: Map<string, number> | null): { ticks: number; netBytes: number } | null {
    if (!reading) return null;
    const netNow = net?.get(record.tap ?? '');
    const baseline = this.baselines.get(record.id) ?? (this.arrivedSinceLastSample(record) ? { cpuTicks: 0, netBytes: 0 } : null);
    if (!baseline) return null;
    return { ticks: Math.max(0, reading.cpuTicks - baseline.cpuTicks), netBytes: netNow === undefined ? 0 : Math.max(0, netNow - baseline.netBytes) };
  }

  /** Both clocks tick in 1/100 s: a start in the previous sample's last tick counts as after it (that sample did not see the process). */
  private arrivedSinceLastSample(record: ProcessRecord): boolean {
    const started = startedAtSeconds(record.pid);
    return started !== null && started >= this.lastSampleUptimeS - 1 / CLOCK_TICKS_PER_SECOND;
  }

  private cpuUsageMhz(hostName: string, usage: Usage, seconds: number, windowSeconds: number): number {
    const cpus = hostCpuCount(this.lab.state.hosts.find((host) => host.name === hostName)?.cpus ?? null);
    return boundedCpuMhz({ hostName, ticks: usage.ticks, processes: usage.processes, seconds, windowSeconds, cpus, cpuMhz: this.cpuMhz });
  }

  private qemuProcesses(): ProcessRecord[] {
    return this.lab.state.processes.filter((record) => record.kind === 'qemu');
  }

  /** Bytes per interface of the lab's namespace, read through HAProxy's /proc entry (it lives there). */
  private netBytes(): Map<string, number> | null {
    const balancer = this.lab.state.processes.find((record) => record.kind === 'haproxy');
    return balancer ? interfaceBytes(balancer.pid) : null;
  }
}

/**
 * A host's CPU use in MHz: `ticks` of CPU time (1/100 s) of `processes` over `seconds`. It
 * cannot be more than the host's CPUs give over the whole time the processes were read in
 * (`windowSeconds`, a little longer), plus one tick of rounding a process: within that, a
 * reading above the capacity is the resolution's and is recorded as the capacity; beyond it,
 * it is a counting error and throws, which fails the run.
 */
export function boundedCpuMhz(usage: {
  hostName: string;
  ticks: number;
  processes: number;
  seconds: number;
  windowSeconds: number;
  cpus: number;
  cpuMhz: number;
}): number {
  const { hostName, ticks, processes, seconds, windowSeconds, cpus, cpuMhz } = usage;
  const capacityMhz = cpus * cpuMhz;
  const mhz = (ticks / CLOCK_TICKS_PER_SECOND / seconds) * cpuMhz;
  if (mhz <= capacityMhz) return mhz;
  const possibleTicks = cpus * CLOCK_TICKS_PER_SECOND * Math.max(seconds, windowSeconds) + processes;
  if (ticks <= possibleTicks) return capacityMhz;
  throw new Error(
    `cpu.usagemhz of ${hostName} would be ${mhz.toFixed(0)} MHz, more than its capacity of ${capacityMhz.toFixed(0)} MHz (${cpus} CPU${cpus === 1 ? '' : 's'} × ${cpuMhz} MHz): ` +
      `${ticks} ticks of CPU time in ${seconds.toFixed(3)} s from ${processes} processes`,
  );
}
