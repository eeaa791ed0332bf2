import type { Load } from '../../load/load.ts';
import { COUNTERS } from '../../monitor/counters.ts';
import type { RequestRecord } from '../../record/records.ts';
import { VirtualClock } from '../../run/virtual-clock.ts';
import { AbortFanout } from './abort-fanout.ts';
import type { CounterReading, HostPower, Inventory, MigrationOrder, MigrationOutcome, Platform, PlatformOptions } from '../platform.ts';
import { SimLoad } from './clients.ts';
import { loadSimConfig, migrationProfileOf, SIM_MIN_INTERVAL_SECONDS, type SimConfig } from './config.ts';
import { Datacenter } from './datacenter.ts';
import { PreCopyMigration, type DrawnCosts } from './migration.ts';
import { PROFILE_SOURCES, type MigrationProfile } from './profiles.ts';
import { SeededRandom } from '../../seeded-random.ts';
import type { PowerState, SimHost } from './host.ts';
import type { SimVm } from './vm.ts';
import { requestWorkFactory } from './workloads.ts';

/**
 * How each migration's random costs are drawn: from the run's seed, or each at its median
 * (a prediction of one typical migration, as calibrate makes of a case measured once).
 */
export type CostDraws = 'seeded' | 'median';

/** The built-in simulated datacenter: the whole testbed as a discrete-event model. */
export class SimPlatform implements Platform {
  readonly name = 'sim';
  readonly clock = new VirtualClock();
  readonly refreshSeconds: number;
  readonly minIntervalSeconds = SIM_MIN_INTERVAL_SECONDS;
  private readonly datacenter: Datacenter;
  private readonly random: SeededRandom;
  private readonly profile: MigrationProfile;
  /** Interrupts the running migrations when their signal aborts, through one listener per signal. */
  private readonly interruptions = new AbortFanout();

  constructor(
    private readonly config: SimConfig,
    private readonly options: PlatformOptions,
    private readonly draws: CostDraws = 'seeded',
  ) {
    this.refreshSeconds = config.refreshSeconds;
    this.random = new SeededRandom(options.seed);
    this.profile = migrationProfileOf(config);
    const { hosts, placement } = inventoryOf(config, options);
    this.datacenter = new Datacenter(this.clock, config, this.profile, placement, hosts);
  }

  readonly power: HostPower = {
    standby: (name) => {
      const host = this.datacenter.hosts.get(name);
      if (host && host.powerState === 'on' && (host.vms.length > 0 || host.incoming.size > 0)) return Promise.reject(new Error(`host ${name} still has VMs`));
      return this.powerTransition(host, name, { from: 'on', during: 'entering-standby', after: 'standby', seconds: this.config.hosts.power.enterStandbySeconds });
    },
    wake: (name) =>
      this.powerTransition(this.datacenter.hosts.get(name), name, { from: 'standby', during: 'waking', after: 'on', seconds: this.config.hosts.power.wakeSeconds }),
  };

  private powerTransition(host: SimHost | undefined, name: string, change: { from: PowerState; during: PowerState; after: PowerState; seconds: number }): Promise<void> {
    if (!host) return Promise.reject(new Error(`no host ${name}`));
    if (host.powerState !== change.from) return Promise.reject(new Error(`host ${name} is ${host.powerState}, not ${change.from}`));
    const { during, after, seconds } = change;
    host.setPowerState(this.clock.now(), during);
    return new Promise((resolve) => {
      this.clock.at(this.clock.now() + seconds, () => {
        host.setPowerState(this.clock.now(), after);
        this.clock.requestYield();
        resolve();
      });
    });
  }

  async inventory(): Promise<Inventory> {
    return {
      hosts: [...this.datacenter.hosts.keys()],
      vms: [...this.datacenter.vms.values()].map((vm) => ({ name: vm.name, host: vm.host.name })),
      hostCpuMHz: Object.fromEntries([...this.datacenter.hosts.values()].map((host) => [host.name, host.capacityMHz])),
    };
  }

  migrate(order: MigrationOrder, signal: AbortSignal): Promise<MigrationOutcome> {
    const vm = this.datacenter.vms.get(order.vm);
    const target = this.datacenter.hosts.get(order.target);
    if (!vm || !target || vm.host.name !== order.source) return this.refused(`${order.vm} is not on ${order.source}`);
    if (target.powerState !== 'on') return this.refused(`host ${order.target} is ${target.powerState}`);
    const migration = new PreCopyMigration(vm, vm.host, target, this.profile, this.drawCosts(), this.datacenter, order.onProgress);
    const unsubscribe = this.interruptions.subscribe(signal, () => migration.interrupt());
    return migration.result.finally(unsubscribe);
  }

  private refused(reason: string): Promise<MigrationOutcome> {
    const now = this.clock.now();
    return Promise.resolve({
      started_s: now, ended_s: now, downtime_ms: null, client_downtime_ms: null, bytes: null, passes: null, status: 'failed', reason,
    });
  }

  /** One migration's draws of the profile's spreads (only those it has, so that a profile without them replays as before), or their medians. */
  private drawCosts(): DrawnCosts {
    const { setupSeconds, costSpread, switchoverStallSeconds } = this.profile;
    if (this.draws === 'median') {
      return { setupSeconds: (setupSeconds.min + setupSeconds.max) / 2, costFactor: 1, switchoverStallSeconds: switchoverStallSeconds * Math.LN2 };
    }
    return {
      setupSeconds: this.random.between(setupSeconds.min, setupSeconds.max),
      costFactor: costSpread > 0 ? Math.exp(costSpread * this.random.normal()) : 1,
      switchoverStallSeconds: switchoverStallSeconds > 0 ? -switchoverStallSeconds * Math.log(1 - this.random.next()) : 0,
    };
  }

  private vmCpuSince = { timeS: 0, work: new Map<string, number>() };

  /** From the work each VM's vCPU did (its requests'), plus the idle guest's own. */
  async vmCpuMHz(): Promise<Record<string, number>> {
    const now = this.clock.now();
    const previous = this.vmCpuSince;
    const seconds = now - previous.timeS;
    const work = new Map<string, number>();
    const result: Record<string, number> = {};
    for (const vm of this.datacenter.vms.values()) {
      vm.advance(now);
      work.set(vm.name, vm.cpuWorkMHzSeconds);
      const mhz = seconds > 0 ? (vm.cpuWorkMHzSeconds - (previous.work.get(vm.name) ?? 0)) / seconds : vm.rateMHz;
      result[vm.name] = mhz + this.config.vms.idleMHz;
    }
    this.vmCpuSince = { timeS: now, work };
    return result;
  }

  async sample(): Promise<CounterReading[]> {
    const now = this.clock.now();
    const withPower = this.options.meterPower === true;
    const readings: CounterReading[] = [];
    for (const host of this.datacenter.hosts.values()) {
      for (const reading of host.sample(now)) if (withPower || reading.counter !== COUNTERS.power.name) readings.push(reading);
    }
    return readings;
  }

  createLoad(servers: string[], onRequest: (record: RequestRecord) => void): Load {
    const vms = servers.map((name) => this.datacenter.vms.get(name) as SimVm);
    const makeWork = requestWorkFactory(this.config.workloads, this.config.hosts.mhzPerCore, this.profile.maxDirtyMBps, this.random);
    return new SimLoad(this.clock, vms, makeWork, this.config.network, onRequest);
  }

  describe(): Record<string, unknown> {
    return {
      name: this.name,
      config_file: this.options.configPath ?? null,
      ...this.config,
      profile_source: PROFILE_SOURCES[this.config.profile],
      migration: this.profile,
    };
  }

  async close(): Promise<void> {}
}

/** The config's inventory (its hosts checked by the config's schema), or else the script's placement line with every VM already in place. */
function inventoryOf(config: SimConfig, options: PlatformOptions): { hosts: string[]; placement: [string, string][] } {
  if (config.inventory) return { hosts: config.inventory.hosts, placement: Object.entries(config.inventory.vms) };
  return {
    hosts: options.placement.map((entry) => entry.host),
    placement: options.placement.flatMap((entry) => entry.vms.map((vm): [string, string] => [vm, entry.host])),
  };
}

export function openSimPlatform(options: PlatformOptions): SimPlatform {
  return new SimPlatform(loadSimConfig(options.configPath), options);
}
