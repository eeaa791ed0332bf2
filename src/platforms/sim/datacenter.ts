import type { VirtualClock } from '../../run/virtual-clock.ts';
import type { SimConfig } from './config.ts';
import { SimHost } from './host.ts';
import type { MigrationEnvironment, PreCopyMigration } from './migration.ts';
import type { MigrationProfile } from './profiles.ts';
import { TcgTlb } from './tcg-tlb.ts';
import { retransmissionAfter, SimVm } from './vm.ts';
import { waterFill } from './water-fill.ts';

/**
 * The hosts and VMs, and the one rule that ties them: whenever something on a host
 * changes, its CPU and its migration streams are shared out again, max-min fair among
 * busy vCPUs and the streams it sends.
 */
export class Datacenter implements MigrationEnvironment {
  readonly hosts = new Map<string, SimHost>();
  readonly vms = new Map<string, SimVm>();

  constructor(
    readonly clock: VirtualClock,
    private readonly config: SimConfig,
    private readonly profile: MigrationProfile,
    placement: Iterable<[vm: string, host: string]>,
    hostNames: Iterable<string>,
  ) {
    for (const name of hostNames) this.hosts.set(name, new SimHost(name, config.hosts, config.vms));
    for (const [vmName, hostName] of placement) {
      const host = this.host(hostName);
      const tlb = new TcgTlb(config.vms.tcgTlbEntries ?? profile.bootTlbEntries);
      const vm = new SimVm(vmName, host, config.vms, config.hosts.mhzPerCore, clock, config.network.minRtoMs / 1000, profile.guestClockStopsWhilePaused, tlb, (changed) =>
        this.vmChanged(changed),
      );
      host.vms.push(vm);
      this.vms.set(vmName, vm);
    }
    for (const host of this.hosts.values()) this.reallocate(host);
  }

  host(name: string): SimHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`sim: no host '${name}'`);
    return host;
  }

  vmChanged(vm: SimVm): void {
    this.changed(vm.host);
  }

  transferStarted(migration: PreCopyMigration): void {
    migration.advance(this.clock.now());
    migration.source.outgoing.add(migration);
    migration.target.incoming.add(migration);
    this.reallocateAround(migration);
  }

  transferEnded(migration: PreCopyMigration): void {
    migration.source.outgoing.delete(migration);
    migration.target.incoming.delete(migration);
    migration.rateBps = 0;
    migration.source.migrationMHz = 0;
    this.reallocateAround(migration);
  }

  moveVm(vm: SimVm, target: SimHost): void {
    const now = this.clock.now();
    const source = vm.host;
    source.account(now);
    target.account(now);
    vm.advance(now);
    source.vms.splice(source.vms.indexOf(vm), 1);
    vm.host = target;
    vm.tlb = new TcgTlb();
    target.vms.push(vm);
    this.changed(source);
    this.changed(target);
  }

  nextAnswerAfterStop(stoppedS: number, resumedS: number): number {
    const { minRtoMs, rttMs } = this.config.network;
    return retransmissionAfter(stoppedS, resumedS, minRtoMs / 1000) + rttMs / 1000;
  }

  /** A stream's start or end changes the shares on both its hosts and of the streams into its target. */
  private reallocateAround(migration: PreCopyMigration): void {
    this.changed(migration.source);
    this.changed(migration.target);
    for (const other of migration.target.incoming) {
      if (other.source !== migration.source) this.changed(other.source);
    }
  }

  /**
   * Hosts whose shares are to be worked out again before time moves on, in the order they
   * changed: a few at an instant, so an array, which empties without reallocating as a Set does.
   */
  private readonly changedHosts: SimHost[] = [];

  /** Shares a host out again once, at the end of the instant, however often it changed in it. */
  private changed(host: SimHost): void {
    if (this.changedHosts.length === 0) this.clock.beforeTimeMoves(this.reallocateChanged);
    if (!this.changedHosts.includes(host)) this.changedHosts.push(host);
  }

  /** A field rather than a method: it is handed to the clock at most instants. */
  private readonly reallocateChanged = (): void => {
    for (const host of this.changedHosts) this.reallocate(host);
    this.changedHosts.length = 0;
  };

  /**
   * Scratch arrays of reallocate, reused: it runs at every event and must not allocate. Written
   * by index and cut to length only when that changes (emptied, an array lets its storage go).
   */
  private readonly demands: number[] = [];
  private readonly networkRates: number[] = [];

  private reallocate(host: SimHost): void {
    const now = this.clock.now();
    host.account(now);
    const { demands, networkRates } = this;
    host.advanceVms(now, demands);
    for (const migration of host.outgoing) migration.advance(now);
    let streams = 0;
    for (const migration of host.outgoing) {
      const rate = Math.min(host.linkBytesPerSecond / host.outgoing.size, migration.target.linkBytesPerSecond / migration.target.incoming.size, this.streamCapOf(migration)) * this.profile.linkEfficiency;
      networkRates[streams] = rate;
      demands[host.vms.length + streams] = (rate / (1024 * 1024)) * this.profile.cpuMHzPerMBps;
      streams++;
    }
    setLength(demands, host.vms.length + streams);
    setLength(networkRates, streams);
    const shares = waterFill(host.capacityMHz, demands);

    const swapFactor = host.swapFactor;
    let i = 0;
    for (const vm of host.vms) vm.setRate(now, (shares[i++] as number) * swapFactor * this.tracedShare(vm));
    let migrationMHz = 0;
    let k = 0;
    for (const migration of host.outgoing) {
      const demand = demands[i] as number;
      const granted = shares[i] as number;
      migrationMHz += granted;
      migration.setRate(now, (networkRates[k] as number) * (demand > 0 ? Math.min(1, granted / demand) : 1));
      i++;
      k++;
    }
    host.migrationMHz = migrationMHz;
    host.refreshGauges();
  }

  /** A stream's own cap: under QEMU's rate windows the cap is a budget per window (the migration keeps it), spent at the sender's speed: its unthrottled one unless limited. */
  private streamCapOf(migration: PreCopyMigration): number {
    const { maxBandwidthMBps, maxStreamMBps, stopAndCopyMBps, resync } = this.profile;
    const precopyMBps = resync === 'below-threshold' ? (maxStreamMBps ?? stopAndCopyMBps ?? Infinity) : Math.min(maxBandwidthMBps ?? Infinity, maxStreamMBps ?? Infinity);
    return (migration.stopped && stopAndCopyMBps !== null ? stopAndCopyMBps : precopyMBps) * 1024 * 1024;
  }

  /** One vCPU: while one of its requests fills fresh memory, the traps slow all it runs. */
  private tracedShare(vm: SimVm): number {
    if (!vm.tracing) return 1;
    return vm.fillsFreshMemory ? 1 - (this.profile.fillSlowdown ?? this.profile.tracingSlowdown) : 1 - this.profile.tracingSlowdown;
  }
}

function setLength(array: number[], length: number): void {
  if (array.length !== length) array.length = length;
}
