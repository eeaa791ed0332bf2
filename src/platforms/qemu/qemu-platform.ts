import { HttpLoad } from '../../load/http-load.ts';
import type { Load } from '../../load/load.ts';
import type { RequestRecord } from '../../record/records.ts';
import { RealClock } from '../../run/real-clock.ts';
import type { ClientType } from '../../script/experiment.ts';
import type { CounterReading, Inventory, MigrationOrder, Platform, PlatformOptions } from '../platform.ts';
import { ActiveMemoryMonitor } from './active-memory.ts';
import { cacheDirOf, hostSpecsFor, labDirOf, loadQemuConfig, type QemuConfig } from './config.ts';
import { counterSources, cpuMhzFromCpuinfo, hostCpuCount, ksmRunning, LabCounters } from './counters.ts';
import { setRotation } from './haproxy.ts';
import { RequestIntegrity } from '../../load/integrity.ts';
import { Lab, type LabLog } from './lab.ts';
import { migrateVm, type QemuMigrationOutcome } from './migration.ts';
import { Probe } from '../../load/probe.ts';
import { describeMissing } from './requirements.ts';

/** When /proc/cpuinfo has no clock: the seed's hosts' 3800 MHz would be a guess, so say so in run.json. */
const FALLBACK_CPU_MHZ = 1000;

/**
 * Real VMs under QEMU on this machine: the lab that is up (`vm-monitoring lab up`), or one
 * brought up from the script's placement line and taken down at the end.
 */
export class QemuPlatform implements Platform {
  readonly name = 'qemu';
  readonly clock = new RealClock();
  readonly refreshSeconds = 1;
  readonly minIntervalSeconds = 1;
  private readonly counters: LabCounters;
  private readonly activeMemory: ActiveMemoryMonitor;
  private readonly loads: Load[] = [];
  private readonly integrity = new RequestIntegrity(this.clock);
  private readonly cpuMhzNote: string;
  private closed = false;
  private readonly removeExitHook: () => void;

  constructor(
    readonly lab: Lab,
    private readonly config: QemuConfig,
    private readonly options: PlatformOptions,
    /** True when this platform brought the lab up, and so takes it down on close. */
    readonly ownsLab: boolean,
  ) {
    const mhz = cpuMhzFromCpuinfo();
    this.cpuMhzNote = mhz === null ? `no cpu MHz in /proc/cpuinfo: ${FALLBACK_CPU_MHZ} MHz assumed` : 'cpu MHz of /proc/cpuinfo';
    this.counters = new LabCounters(lab, mhz ?? FALLBACK_CPU_MHZ, ksmRunning());
    lab.beforeRetire = (record) => this.counters.finalRead(record);
    this.activeMemory = new ActiveMemoryMonitor(lab, this.counters);
    // An owned lab must not outlive a tool that exits without closing the platform (a second Ctrl-C).
    const onExit = (): void => {
      if (this.ownsLab && !this.closed) Lab.downSync(lab.dir);
    };
    process.on('exit', onExit);
    this.removeExitHook = () => process.off('exit', onExit);
  }

  async inventory(): Promise<Inventory> {
    return {
      hosts: this.lab.state.hosts.map((host) => host.name),
      vms: this.lab.state.vms.map((vm) => ({ name: vm.name, host: vm.host })),
      // What the host's cpu.usagemhz.average can reach: its CPUs (those it is pinned to, else the machine's) × their MHz.
      hostCpuMHz: Object.fromEntries(this.lab.state.hosts.map((host) => [host.name, Math.round(hostCpuCount(host.cpus) * this.counters.cpuMhz)])),
    };
  }

  /**
   * The outcome's `details.qemu` holds QEMU's statistics, `details.integrity` what the VM's
   * answers said of its memory over the migration (see integrity.ts); the run directory keeps
   * them in migration-details.jsonl.
   */
  async migrate(order: MigrationOrder, signal: AbortSignal): Promise<QemuMigrationOutcome> {
    const watch = this.integrity.watch(order.vm);
    try {
      const outcome = await migrateVm(
        {
          lab: this.lab, clock: this.clock, migration: this.config.migration, probe: this.config.probe,
          onBytes: (source, target, bytes) => this.counters.addMigrationBytes(source, target, bytes),
        },
        order,
        signal,
      );
      const answeredAfter = await this.answeredAfter(order.vm, outcome);
      outcome.details.integrity = await watch.settle(outcome, answeredAfter, this.config.probe.settleSeconds, signal);
      return outcome;
    } finally {
      watch.close();
    }
  }

  /** Whether the VM answered after the migration: its probe says, or one asks now when it failed before probing; null when interrupted. */
  private async answeredAfter(vm: string, outcome: QemuMigrationOutcome): Promise<boolean | null> {
    if (outcome.status === 'interrupted') return null;
    const probed = outcome.details.qemu.probe;
    if (probed) return probed.settled;
    const { intervalMs, settleSeconds } = this.config.probe;
    const probe = new Probe(this.clock, { socketPath: this.lab.state.lb_socket }, vm, intervalMs, settleSeconds + 1);
    probe.start();
    return (await probe.finish(settleSeconds)).settled;
  }

  async sample(): Promise<CounterReading[]> {
    return this.counters.sample();
  }

  createLoad(servers: string[], onRequest: (record: RequestRecord) => void): Load {
    const state = this.lab.state;
    const load = new HttpLoad(this.clock, {
      baseUrl: 'http://lab',
      socketPath: state.lb_socket,
      paths: this.config.workloads,
      requestTimeoutSeconds: this.config.load.requestTimeoutSeconds,
      maxRequestsPerClient: this.config.load.maxRequestsPerClient,
      errorPauseSeconds: this.config.load.errorPauseSeconds,
    }, (record) => {
      this.integrity.record(record);
      onRequest(record);
    });
    this.integrity.addLoad(load);
    const ready = setRotation(state.admin_socket, state.vms.map((vm) => vm.name), servers);
    const gated = new LoadAfter(ready, load);
    this.loads.push(gated);
    return gated;
  }

  describe(): Record<string, unknown> {
    const state = this.lab.state;
    return {
      name: this.name,
      config_file: this.options.configPath ?? null,
      lab: {
        dir: state.dir,
        owned_by_this_run: this.ownsLab,
        netns: state.netns,
        accelerator: state.accelerator,
        accelerator_note: state.accelerator_note,
        qemu_version: state.qemu_version,
        kernel: state.image?.kernel ?? null,
        kernel_version: state.image?.kernel_version ?? null,
        guest_image: state.image?.key ?? null,
        nic: state.nic,
        memory_mb: state.memory_mb,
        vcpus: state.vcpus,
        hosts: state.hosts,
        vms: state.vms.map((vm) => ({ name: vm.name, host: vm.host, address: vm.address })),
        boot_seconds: state.boot_seconds,
      },
      migration: { ...this.config.migration, transport: 'unix socket' },
      probe: { ...this.config.probe, path: '/vm/NAME/ping', connection: 'one kept-alive connection through HAProxy' },
      workloads: this.config.workloads,
      load: this.config.load,
      cpu_mhz: this.counters.cpuMhz,
      cpu_mhz_source: this.cpuMhzNote,
      counters: counterSources(this.counters.cpuMhz, this.counters.ksm),
      unavailable_counters: this.counters.ksm ? [] : ['mem.shared.average'],
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await Promise.all(this.loads.map((load) => load.stopAll(AbortSignal.abort())));
      await this.activeMemory.stop();
    } finally {
      // Even when the clients or the monitor failed to stop: the lab is let go of, and taken down when owned.
      this.lab.beforeRetire = null;
      this.removeExitHook();
      this.lab.detach();
      if (this.ownsLab) await Lab.down(this.lab.dir, labLog);
    }
  }
}

/** Starts the clients only once HAProxy's rotation is set; keeps the order of calls. */
class LoadAfter implements Load {
  private chain: Promise<void>;
  private stopped: Promise<void> | null = null;

  constructor(
    ready: Promise<void>,
    private readonly inner: Load,
  ) {
    this.chain = ready.catch((error: unknown) => {
      process.stderr.write(`qemu: cannot set HAProxy's rotation, every VM stays in it: ${(error as Error).message}\n`);
    });
  }

  addClients(type: ClientType, count: number): void {
    this.chain = this.chain.then(() => this.inner.addClients(type, count));
  }

  removeClients(type: ClientType, count: number): void {
    this.chain = this.chain.then(() => this.inner.removeClients(type, count));
  }

  /** Idempotent: the runner stops the clients, and closing the platform makes sure they are. */
  stopAll(signal?: AbortSignal): Promise<void> {
    this.stopped ??= this.chain.then(() => this.inner.stopAll(signal));
    return this.stopped;
  }
}

const labLog: LabLog = (line) => process.stderr.write(`lab: ${line}\n`);

/**
 * Opens the qemu platform: the lab up in the configured directory, or else a lab brought up
 * from the script's placement line (its hosts, its VMs where it puts them), taken down on close.
 */
export async function openQemuPlatform(options: PlatformOptions): Promise<QemuPlatform> {
  const config = loadQemuConfig(options.configPath);
  const dir = labDirOf(config);
  if (Lab.exists(dir)) return new QemuPlatform(Lab.attach(dir), config, options, false);

  const missing = describeMissing();
  if (missing) throw new Error(`the qemu platform needs a lab: ${missing}`);
  const hosts = hostSpecsFor(config, options.placement.map((entry) => entry.host));
  const vms = options.placement.flatMap((entry) => entry.vms.map((vm) => ({ name: vm, host: entry.host })));
  if (vms.length === 0) throw new Error('the script\'s placement line has no VM to bring up');
  labLog(`no lab is up in ${dir}: bringing one up from the script's placement line (taken down at the end)`);
  const lab = await Lab.up(
    {
      dir, cacheDir: cacheDirOf(config), hosts, vms, memoryMB: config.memoryMB, vcpus: config.vcpus, nic: config.nic,
      accelerator: config.accelerator, kvmProbeSeconds: config.kvmProbeSeconds, bootTimeoutSeconds: config.bootTimeoutSeconds,
      serverTimeoutSeconds: config.load.requestTimeoutSeconds,
    },
    labLog,
  );
  return new QemuPlatform(lab, config, options, true);
}
