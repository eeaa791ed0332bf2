import { COUNTERS } from '../../monitor/counters.ts';
import type { CounterReading } from '../platform.ts';
import type { HostsConfig, VmsConfig } from './config.ts';
import type { PreCopyMigration } from './migration.ts';
import type { SimVm } from './vm.ts';

/** What a host shows at one instant; the counters average it over each sampling interval. */
interface HostGauges {
  cpuMHz: number;
  consumedMB: number;
  activeMB: number;
  sharedMB: number;
  swapMB: number;
  watts: number;
}

/** A host's power state, as DPM moves it: standby draws a few watts and runs nothing. */
export type PowerState = 'on' | 'entering-standby' | 'standby' | 'waking';

const noGauges = (): HostGauges => ({ cpuMHz: 0, consumedMB: 0, activeMB: 0, sharedMB: 0, swapMB: 0, watts: 0 });

function clear(gauges: HostGauges): void {
  gauges.cpuMHz = 0;
  gauges.consumedMB = 0;
  gauges.activeMB = 0;
  gauges.sharedMB = 0;
  gauges.swapMB = 0;
  gauges.watts = 0;
}

const KB_PER_MB = 1024;

/** A simulated ESX host: its VMs, the migrations it sends and receives, and its counters. */
export class SimHost {
  /** In the order they came: an array rather than a Set, since every event on the host goes through them all. */
  readonly vms: SimVm[] = [];
  readonly outgoing = new Set<PreCopyMigration>();
  readonly incoming = new Set<PreCopyMigration>();
  /** CPU currently given to outgoing migration streams. */
  migrationMHz = 0;
  private state: PowerState = 'on';
  /** Changed in place, never replaced: they change at every event on the host. */
  private readonly gauges = noGauges();
  private readonly integrals = noGauges();
  /** What its VMs held at the last `advanceVms`: the memory they need before swapping, and of it the shared and active. */
  private readonly memory = { demandMB: 0, sharedMB: 0, activeMB: 0 };
  private trafficKB = 0;
  private lastAccountS = 0;
  private lastSampleS = 0;

  constructor(
    readonly name: string,
    readonly config: HostsConfig,
    private readonly vmsConfig: VmsConfig,
  ) {}

  get capacityMHz(): number {
    return this.config.cores * this.config.mhzPerCore;
  }

  get linkBytesPerSecond(): number {
    return (this.config.linkMbps * 1e6) / 8;
  }

  /** Adds the gauges' values up to `now`; call before anything on the host changes. */
  account(now: number): void {
    const dt = now - this.lastAccountS;
    if (dt <= 0) return;
    const { gauges, integrals } = this;
    integrals.cpuMHz += gauges.cpuMHz * dt;
    integrals.consumedMB += gauges.consumedMB * dt;
    integrals.activeMB += gauges.activeMB * dt;
    integrals.sharedMB += gauges.sharedMB * dt;
    integrals.swapMB += gauges.swapMB * dt;
    integrals.watts += gauges.watts * dt;
    this.lastAccountS = now;
  }

  get powerState(): PowerState {
    return this.state;
  }

  /** Changes the power state at `now`, its draw with it. */
  setPowerState(now: number, state: PowerState): void {
    this.account(now);
    this.state = state;
    this.gauges.watts = this.watts(this.gauges.cpuMHz);
  }

  /** Linear in CPU use when on; a booting or stopping host draws its idle power. */
  private watts(cpuMHz: number): number {
    const { idleWatts, peakWatts, standbyWatts } = this.config.power;
    if (this.state === 'standby') return standbyWatts;
    if (this.state !== 'on') return idleWatts;
    return idleWatts + ((peakWatts - idleWatts) * cpuMHz) / this.capacityMHz;
  }

  addTrafficKB(kb: number): void {
    this.trafficKB += kb;
  }

  /**
   * Brings its VMs up to `now` and reads, in the same pass, what they ask of it: each one's CPU
   * demand (written at its index of `demands`, whose length the caller sets) and the memory they
   * hold. One pass over the VMs rather than one a measure: this runs at every event on the host.
   */
  advanceVms(now: number, demands: number[]): void {
    const neighbours = this.vms.length > 1;
    const overheadMB = this.vmsConfig.overheadMB;
    let demand = this.config.hypervisorMB;
    let shared = 0;
    let active = 0;
    let i = 0;
    for (const vm of this.vms) {
      vm.advance(now);
      demands[i++] = vm.demandMHz;
      demand += vm.touchedMB + overheadMB;
      shared += vm.shareableMB(neighbours);
      active += vm.activeMB;
    }
    // Shared pages are stored once: one copy of the guest OS's common pages stays.
    const commonMB = neighbours ? this.vmsConfig.guestOsMB * this.vmsConfig.guestOsShareableFraction : 0;
    const memory = this.memory;
    memory.demandMB = demand - shared + Math.min(shared, commonMB);
    memory.sharedMB = shared;
    memory.activeMB = active;
  }

  /** How much slower the VMs run because part of their memory is swapped out, as of `advanceVms`. */
  get swapFactor(): number {
    const demand = this.memory.demandMB;
    const swapped = Math.max(0, demand - this.config.memoryMB);
    return swapped > 0 ? 1 / (1 + (this.config.swapSlowdown * swapped) / demand) : 1;
  }

  /** Re-reads the gauges after the VMs' rates were set; `account` and `advanceVms` must have run first. */
  refreshGauges(): void {
    let cpu = this.migrationMHz;
    const idleMHz = this.vmsConfig.idleMHz;
    for (const vm of this.vms) cpu += vm.rateMHz + (vm.paused ? 0 : idleMHz);
    const { demandMB, activeMB, sharedMB } = this.memory;
    const gauges = this.gauges;
    gauges.cpuMHz = Math.min(cpu, this.capacityMHz);
    gauges.consumedMB = Math.min(demandMB, this.config.memoryMB);
    gauges.activeMB = activeMB;
    gauges.sharedMB = sharedMB;
    gauges.swapMB = Math.max(0, demandMB - this.config.memoryMB);
    gauges.watts = this.watts(gauges.cpuMHz);
  }

  /** The counters averaged since the previous sample. */
  sample(now: number): CounterReading[] {
    this.account(now);
    const interval = now - this.lastSampleS;
    const means = interval > 0 ? this.integrals : this.gauges;
    const over = interval > 0 ? interval : 1;
    const readings = [
      this.reading(COUNTERS.cpuUsage, means.cpuMHz / over),
      this.reading(COUNTERS.memConsumed, (means.consumedMB / over) * KB_PER_MB),
      this.reading(COUNTERS.memActive, (means.activeMB / over) * KB_PER_MB),
      this.reading(COUNTERS.memShared, (means.sharedMB / over) * KB_PER_MB),
      this.reading(COUNTERS.memSwapUsed, (means.swapMB / over) * KB_PER_MB),
      this.reading(COUNTERS.netUsage, interval > 0 ? this.trafficKB / interval : 0),
      this.reading(COUNTERS.vmCount, this.vms.length),
      this.reading(COUNTERS.power, means.watts / over),
    ];
    clear(this.integrals);
    this.trafficKB = 0;
    this.lastSampleS = now;
    return readings;
  }

  private reading(counter: { name: string; unit: string }, value: number): CounterReading {
    return { host: this.name, counter: counter.name, instance: '', value, unit: counter.unit };
  }
}
