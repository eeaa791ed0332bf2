import fs from 'node:fs';
import { COUNTERS } from '../../monitor/counters.ts';
import type { CounterReading } from '../platform.ts';
import type { Lab } from './lab.ts';
import type { ProcessRecord } from './lab-state.ts';
import { interfaceBytes } from './network.ts';

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
    [COUNTERS.cpuUsage.name]: `CPU time of the host's QEMU processes (utime+stime of /proc/PID/stat, 10 ms resolution) per second × ${cpuMhz} MHz (cpu MHz of /proc/cpuinfo)`,
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

/**
 * The hosts' counters of a lab, computed from its QEMU processes: rates (CPU, network)
 * averaged over the time since the previous sample, the rest read at the sample time. A
 * process ended between two samples is read one last time before it goes (`finalRead`).
 */
export class LabCounters {
  private readonly previous = new Map<string, { cpuTicks: number; netBytes: number }>();
  private readonly carriedTicks = new Map<string, number>();
  private readonly carriedNetBytes = new Map<string, number>();
  private readonly activeKB = new Map<string, number>();
  private lastSampleMs: number;

  constructor(
    private readonly lab: Lab,
    readonly cpuMhz: number,
    readonly ksm: boolean,
  ) {
    const net = this.netBytes();
    for (const record of this.qemuProcesses()) {
      const reading = readProcess(record.pid);
      if (reading) this.previous.set(record.id, { cpuTicks: reading.cpuTicks, netBytes: net?.get(record.tap ?? '') ?? 0 });
    }
    this.lastSampleMs = performance.now();
  }

  /** Traffic of a migration stream: counted on both its hosts. */
  addMigrationBytes(source: string, target: string, bytes: number): void {
    for (const host of [source, target]) this.carriedNetBytes.set(host, (this.carriedNetBytes.get(host) ?? 0) + bytes);
  }

  /** The latest estimate of the memory `vm` writes per second, in KB; null when none. */
  setActive(vm: string, kb: number | null): void {
    if (kb === null) this.activeKB.delete(vm);
    else this.activeKB.set(vm, kb);
  }

  /** Reads a process about to end, so that the CPU and traffic it had since the last sample are counted. */
  finalRead(record: ProcessRecord): void {
    if (record.kind !== 'qemu' || !record.host) return;
    const reading = readProcess(record.pid);
    const net = this.netBytes()?.get(record.tap ?? '');
    const before = this.previous.get(record.id) ?? { cpuTicks: 0, netBytes: 0 };
    if (reading) this.carriedTicks.set(record.host, (this.carriedTicks.get(record.host) ?? 0) + Math.max(0, reading.cpuTicks - before.cpuTicks));
    if (net !== undefined) this.carriedNetBytes.set(record.host, (this.carriedNetBytes.get(record.host) ?? 0) + Math.max(0, net - before.netBytes));
    this.previous.delete(record.id);
  }

  sample(): CounterReading[] {
    const nowMs = performance.now();
    const seconds = Math.max(1e-3, (nowMs - this.lastSampleMs) / 1000);
    this.lastSampleMs = nowMs;
    const net = this.netBytes();
    const hosts = new Map(this.lab.state.hosts.map((host) => [host.name, { ticks: 0, netBytes: 0, rssKB: 0, swapKB: 0, ksmPages: 0, activeKB: 0, vms: 0 }]));
    const processes = this.qemuProcesses();
    // A process that left the lab without a final read (it died on its own) is forgotten.
    for (const id of this.previous.keys()) if (!processes.some((record) => record.id === id)) this.previous.delete(id);
    for (const record of processes) {
      const host = hosts.get(record.host ?? '');
      const reading = readProcess(record.pid);
      if (!host || !reading) continue;
      const before = this.previous.get(record.id) ?? { cpuTicks: 0, netBytes: 0 };
      const netNow = net?.get(record.tap ?? '') ?? before.netBytes;
      host.ticks += Math.max(0, reading.cpuTicks - before.cpuTicks);
      host.netBytes += Math.max(0, netNow - before.netBytes);
      host.rssKB += reading.rssKB;
      host.swapKB += reading.swapKB;
      host.ksmPages += reading.ksmPages ?? 0;
      this.previous.set(record.id, { cpuTicks: reading.cpuTicks, netBytes: netNow });
    }
    for (const vm of this.lab.state.vms) {
      const host = hosts.get(vm.host);
      if (!host) continue;
      host.vms++;
      host.activeKB += this.activeKB.get(vm.name) ?? 0;
    }
    const readings: CounterReading[] = [];
    for (const [name, host] of hosts) {
      const ticks = host.ticks + (this.carriedTicks.get(name) ?? 0);
      const netBytes = host.netBytes + (this.carriedNetBytes.get(name) ?? 0);
      const reading = (counter: { name: string; unit: string }, value: number): CounterReading => ({
        host: name, counter: counter.name, instance: '', value, unit: counter.unit,
      });
      readings.push(
        reading(COUNTERS.cpuUsage, (ticks / CLOCK_TICKS_PER_SECOND / seconds) * this.cpuMhz),
        reading(COUNTERS.memConsumed, host.rssKB),
        reading(COUNTERS.memActive, host.activeKB),
        ...(this.ksm ? [reading(COUNTERS.memShared, host.ksmPages * PAGE_KB)] : []),
        reading(COUNTERS.memSwapUsed, host.swapKB),
        reading(COUNTERS.netUsage, netBytes / 1024 / seconds),
        reading(COUNTERS.vmCount, host.vms),
      );
    }
    this.carriedTicks.clear();
    this.carriedNetBytes.clear();
    return readings;
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
