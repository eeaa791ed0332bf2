import { urlWithoutUserInfo } from '../../config/balancer-schema.ts';
import { HttpLoad } from '../../load/http-load.ts';
import { RequestIntegrity, type MigrationIntegrity } from '../../load/integrity.ts';
import type { Load } from '../../load/load.ts';
import { Probe, type BalancerAddress, type ProbeResult } from '../../load/probe.ts';
import type { RequestRecord } from '../../record/records.ts';
import { RealClock } from '../../run/real-clock.ts';
import type { CounterReading, Inventory, MigrationOrder, MigrationOutcome, Platform, PlatformOptions } from '../platform.ts';
import { loadLibvirtConfig, type LibvirtConfig } from './config.ts';
import { LibvirtCounters } from './counters.ts';
import { domainsOn, inventoryOf } from './inventory.ts';
import { migrateDomain } from './migration.ts';
import { strategyOf } from './migrate-command.ts';
import { parseKeyValues, Virsh } from './virsh.ts';

/** Time the probe may outlive a migration's own limit: the settling, and a margin. */
const PROBE_MARGIN_SECONDS = 60;

/** What the platform writes as warnings; tests replace it. */
export type Warn = (message: string) => void;

const DEFAULT_WARN: Warn = (message) => process.stderr.write(`vm-monitoring: warning: ${message}\n`);

/** What each host's daemon says of itself (virsh version), for run.json. */
type HostVersions = Record<string, Record<string, string>>;

/**
 * A cluster of KVM (or QEMU) hosts, each reached through its libvirt URI: the domains are the
 * VMs, migrations are libvirt's live migrations, the load balancer is the user's. Every virsh
 * call opens its own connection, so a daemon that restarts is reached again at the next call.
 */
export class LibvirtPlatform implements Platform {
  readonly name = 'libvirt';
  readonly clock = new RealClock();
  readonly refreshSeconds = 1;
  readonly minIntervalSeconds = 1;
  private readonly uris: Map<string, string>;
  private readonly counters: LibvirtCounters;
  private readonly integrity = new RequestIntegrity(this.clock);
  private versions: HostVersions = {};

  constructor(
    private readonly virsh: Virsh,
    private readonly config: LibvirtConfig,
    private readonly configPath: string | undefined,
    warn: Warn,
  ) {
    this.uris = new Map(config.hosts.map((host) => [host.name, host.uri]));
    this.counters = new LibvirtCounters(virsh, config.hosts, warn);
  }

  /** Asks every daemon its versions, checks the inventory, takes the counters' first readings. */
  async start(): Promise<void> {
    const versions = await Promise.all(this.config.hosts.map(async (host) => [host.name, await this.versionsOf(host.name, host.uri)] as const));
    this.versions = Object.fromEntries(versions);
    await this.inventory();
    await this.counters.start();
  }

  /** The daemon's versions; a daemon that answers but has no hypervisor to give a version of (no emulator) is still a host, with the reason. */
  private async versionsOf(name: string, uri: string): Promise<Record<string, string>> {
    try {
      return Object.fromEntries(parseKeyValues(await this.virsh.run(uri, ['version', '--daemon'])));
    } catch (versionError) {
      try {
        await this.virsh.run(uri, ['uri']);
      } catch (error) {
        throw new Error(`libvirt host ${name} (${uri}) does not answer: ${(error as Error).message}`, { cause: error });
      }
      return { error: (versionError as Error).message };
    }
  }

  async inventory(): Promise<Inventory> {
    const domains = await Promise.all(this.config.hosts.map((host) => domainsOn(this.virsh, host.name, host.uri)));
    return { ...inventoryOf(this.config.hosts.map((host) => host.name), domains.flat()), hostCpuMHz: this.counters.capacitiesMHz() };
  }

  /**
   * The outcome's `details.libvirt` holds libvirt's statistics and passes, `details.probe`
   * what the probe felt, `details.integrity` what the VM's answers said of its memory.
   */
  async migrate(order: MigrationOrder, signal: AbortSignal): Promise<MigrationOutcome> {
    const watch = this.integrity.watch(order.vm);
    const migrationEnded = this.counters.migrationBegins(order.vm);
    const settings = this.config.migration;
    const probeSettings = this.config.probe;
    const probe = new Probe(
      this.clock, this.balancerAddress(), order.vm, probeSettings.intervalMs, settings.cancelAfterSeconds + probeSettings.settleSeconds + PROBE_MARGIN_SECONDS,
      probeSettings.path.replaceAll('{vm}', encodeURIComponent(order.vm)),
    );
    probe.start();
    try {
      const outcome = await migrateDomain(order, {
        virsh: this.virsh, clock: this.clock, uris: this.uris, settings,
        onBytes: (bytes) => this.counters.addMigrationBytes(order.source, order.target, bytes),
      }, signal);
      const probed: ProbeResult = outcome.status === 'interrupted' ? await probe.stop() : await probe.finish(probeSettings.settleSeconds);
      const answeredAfter = outcome.status === 'interrupted' ? null : probed.settled;
      const integrity: MigrationIntegrity = await watch.settle(outcome, answeredAfter, probeSettings.settleSeconds, signal);
      return { ...outcome, client_downtime_ms: probed.maxGapMs, details: { ...outcome.details, probe: probed, integrity } };
    } finally {
      migrationEnded();
      watch.close();
      if (!probe.isStopped) await probe.stop();
    }
  }

  sample(): Promise<CounterReading[]> {
    return this.counters.sample();
  }

  createLoad(_servers: string[], onRequest: (record: RequestRecord) => void): Load {
    // The load balancer knows its workload servers: the clients only need its address.
    const load = this.config.load;
    const httpLoad = new HttpLoad(this.clock, {
      baseUrl: load.url,
      ...(load.socketPath !== undefined ? { socketPath: load.socketPath } : {}),
      paths: load.paths,
      requestTimeoutSeconds: load.requestTimeoutSeconds,
      maxRequestsPerClient: load.maxRequestsPerClient,
      errorPauseSeconds: load.errorPauseSeconds,
    }, (record) => {
      this.integrity.record(record);
      onRequest(record);
    });
    this.integrity.addLoad(httpLoad);
    return httpLoad;
  }

  private balancerAddress(): BalancerAddress {
    const { url, socketPath } = this.config.load;
    if (socketPath !== undefined) return { socketPath };
    const parsed = new URL(url);
    return { host: parsed.hostname, port: parsed.port === '' ? 80 : Number(parsed.port) };
  }

  describe(): Record<string, unknown> {
    const load = this.config.load;
    return {
      name: this.name,
      config_file: this.configPath ?? null,
      hosts: this.config.hosts.map((host) => ({ name: host.name, uri: host.uri, versions: this.versions[host.name] ?? null })),
      transport: 'virsh (libvirt-clients), one process per call with an argument array, a connection per call',
      migration: { ...this.config.migration, strategy: strategyOf(this.config.migration) },
      probe: { ...this.config.probe, connection: 'one kept-alive connection through the load balancer' },
      load: { url: urlWithoutUserInfo(load.url), socket_path: load.socketPath ?? null, paths: load.paths },
      timeouts: this.config.timeouts,
      counters: this.counters.sources(),
      unavailable_counters: this.counters.unavailable(),
    };
  }

  /** Nothing to let go of: every virsh call ended with its connection, and the runner stops the clients. */
  async close(): Promise<void> {}
}

/** Opens the libvirt platform: reads the config, finds virsh, reaches every host's daemon. */
export async function openLibvirtPlatform(options: PlatformOptions, warn: Warn = DEFAULT_WARN): Promise<LibvirtPlatform> {
  const config = loadLibvirtConfig(options.configPath);
  const virsh = Virsh.find(config.timeouts.callSeconds * 1000);
  if (virsh === null) throw new Error('the libvirt platform drives virsh, which is not installed: install libvirt-clients');
  const platform = new LibvirtPlatform(virsh, config, options.configPath, warn);
  await platform.start();
  return platform;
}
