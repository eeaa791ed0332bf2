import os from 'node:os';
import path from 'node:path';
import { urlWithoutUserInfo } from '../../config/balancer-schema.ts';
import { InputError } from '../../errors.ts';
import { MAX_SECRET_FILE_BYTES } from '../../input-limits.ts';
import { readInputFile } from '../../read-input-file.ts';
import { HttpLoad } from '../../load/http-load.ts';
import type { Load } from '../../load/load.ts';
import { COUNTERS } from '../../monitor/counters.ts';
import type { RequestRecord } from '../../record/records.ts';
import { RealClock } from '../../run/real-clock.ts';
import type { CounterReading, Inventory, MigrationOrder, MigrationOutcome, Platform, PlatformOptions } from '../platform.ts';
import { loadVsphereConfig, readCredentials, type Credentials, type VsphereConfig } from './config.ts';
import { HostCounters } from './host-counters.ts';
import { VsphereInventory } from './inventory.ts';
import { MigrationEvents } from './migration-event.ts';
import { MigrationTasks } from './migration-task.ts';
import { VsphereMigrations } from './migrations.ts';
import { ServerClock } from './server-clock.ts';
import { VimSession, withoutSecret } from './session.ts';
import { TransportError } from './soap.ts';
import { VimClient } from './vim-client.ts';

/** Where the platform writes warnings and how it reads the environment; tests replace them. */
export interface VsphereDeps {
  env: NodeJS.ProcessEnv;
  warn: (message: string) => void;
}

const DEFAULT_DEPS: VsphereDeps = { env: process.env, warn: (message) => process.stderr.write(`vm-monitoring: warning: ${message}\n`) };

/** How the platform was reached, for run.json. */
interface Connection {
  configPath: string | undefined;
  caFile: string | undefined;
  insecure: boolean;
}

/** A vCenter (or an ESXi host) driven over the vim25 SOAP API. */
export class VspherePlatform implements Platform {
  readonly name = 'vsphere';
  readonly clock = new RealClock();
  private readonly session: VimSession;
  private readonly serverClock = new ServerClock(this.clock);
  private readonly hostInventory: VsphereInventory;
  private readonly counters: HostCounters;
  private readonly migrations: VsphereMigrations;
  private lastSampleS = 0;

  constructor(
    client: VimClient,
    private readonly config: VsphereConfig,
    private readonly credentials: Credentials,
    private readonly connection: Connection,
    private readonly deps: VsphereDeps,
  ) {
    this.session = new VimSession(client, credentials, config.url);
    this.hostInventory = new VsphereInventory(this.session, deps.warn);
    this.counters = new HostCounters(this.session, this.hostInventory, config.instances);
    this.migrations = new VsphereMigrations(
      this.clock,
      this.serverClock,
      this.hostInventory,
      new MigrationTasks(this.session, this.clock, config.migrationMethod, config.timeouts),
      new MigrationEvents(this.session, deps.warn),
      config.timeouts.migrationSeconds,
    );
  }

  get refreshSeconds(): number {
    return this.counters.refreshSeconds;
  }

  get minIntervalSeconds(): number {
    return this.counters.refreshSeconds;
  }

  /** Logs in, reads the server's clock, the inventory, the counters and the refresh rate. */
  async start(): Promise<void> {
    await this.session.login();
    await this.serverClock.measure(this.session);
    await this.hostInventory.read();
    await this.counters.resolve();
    this.lastSampleS = this.clock.now();
  }

  async inventory(): Promise<Inventory> {
    await this.hostInventory.read();
    const capacities = [...this.hostInventory.hosts.values()].flatMap((host) => (host.cpuMHz === undefined ? [] : [[host.name, host.cpuMHz] as const]));
    return {
      hosts: [...this.hostInventory.hosts.keys()],
      hostCpuMHz: Object.fromEntries(capacities),
      automaticPlacement: this.hostInventory.automaticPlacement(),
      vms: [...this.hostInventory.vms.values()].flatMap((vm) => {
        const host = this.hostInventory.hostName(vm.host);
        return host === undefined ? [] : [{ name: vm.name, host }];
      }),
    };
  }

  migrate(order: MigrationOrder, signal: AbortSignal): Promise<MigrationOutcome> {
    return this.migrations.migrate(order, signal);
  }

  /** vm.count from the inventory, then the hosts' counters; a server that fails either costs a warning, not the run. */
  async sample(): Promise<CounterReading[]> {
    const nowS = this.clock.now();
    const elapsedS = nowS - this.lastSampleS;
    this.lastSampleS = nowS;
    try {
      await this.hostInventory.read();
    } catch (error) {
      this.deps.warn(`vSphere: inventory for vm.count not read: ${(error as Error).message}`);
      return [];
    }
    const readings: CounterReading[] = [...this.hostInventory.hosts.values()].map((host) => ({
      host: host.name,
      counter: COUNTERS.vmCount.name,
      instance: '',
      value: this.hostInventory.vmCount(host),
      unit: COUNTERS.vmCount.unit,
    }));
    try {
      readings.push(...(await this.counters.sample(elapsedS)));
    } catch (error) {
      this.deps.warn(`vSphere: counters not sampled: ${(error as Error).message}`);
    }
    return readings;
  }

  createLoad(_servers: string[], onRequest: (record: RequestRecord) => void): Load {
    // The load balancer knows its workload servers: the clients only need its address.
    const load = this.config.load;
    return new HttpLoad(
      this.clock,
      {
        baseUrl: load.url,
        ...(load.socketPath !== undefined ? { socketPath: load.socketPath } : {}),
        paths: load.paths,
        requestTimeoutSeconds: load.requestTimeoutSeconds,
        maxRequestsPerClient: load.maxRequestsPerClient,
        errorPauseSeconds: load.errorPauseSeconds,
      },
      onRequest,
    );
  }

  describe(): Record<string, unknown> {
    const about = this.session.client.content.about;
    return {
      name: this.name,
      config_file: this.connection.configPath ?? null,
      url: this.config.url,
      server: { full_name: about.fullName, api_type: about.apiType, api_version: about.apiVersion, instance_uuid: about.instanceUuid },
      credentials: this.credentials.source,
      tls: { ca_file: this.connection.caFile ?? null, insecure: this.connection.insecure },
      refresh_s: this.refreshSeconds,
      counters: this.counters.keys(),
      instances: this.config.instances,
      migration_method: this.config.migrationMethod,
      load: { url: urlWithoutUserInfo(this.config.load.url), socket_path: this.config.load.socketPath ?? null, paths: this.config.load.paths },
      timeouts: this.config.timeouts,
      max_response_mib: this.config.maxResponseMiB,
    };
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/**
 * Opens the vsphere platform: reads the config and the credentials, connects, logs in.
 * `--ca-file` and `--insecure` (PlatformOptions) override the config's `tls` section.
 */
export async function openVspherePlatform(options: PlatformOptions, deps: VsphereDeps = DEFAULT_DEPS): Promise<VspherePlatform> {
  const config = loadVsphereConfig(options.configPath);
  const configDir = path.dirname(options.configPath ?? '.');
  const fromConfig = (file: string): string => path.resolve(configDir, file.startsWith('~/') ? path.join(os.homedir(), file.slice(2)) : file);
  const credentials = readCredentials(
    config.credentials.file !== undefined ? { ...config.credentials, file: fromConfig(config.credentials.file) } : config.credentials,
    deps.env,
  );
  const caFile = options.caFile ?? (config.tls.caFile !== undefined ? fromConfig(config.tls.caFile) : undefined);
  const insecure = options.insecure || config.tls.insecure;
  let ca: string | undefined;
  if (caFile !== undefined) {
    ca = readInputFile(caFile, 'CA file', MAX_SECRET_FILE_BYTES);
  }
  if (insecure) deps.warn(`TLS certificate verification is OFF for ${config.url} (--insecure): anyone on the path can read the vSphere credentials`);

  let client: VimClient;
  try {
    const limits = { timeoutMs: config.timeouts.callSeconds * 1000, maxResponseMiB: config.maxResponseMiB };
    client = await VimClient.connect(new URL(config.url), { ...(ca !== undefined ? { ca } : {}), insecure }, limits);
  } catch (error) {
    if (error instanceof TransportError && error.kind === 'tls') throw new InputError(error.message);
    throw error;
  }
  const platform = new VspherePlatform(client, config, credentials, { configPath: options.configPath, caFile, insecure }, deps);
  try {
    await platform.start();
  } catch (error) {
    await platform.close();
    throw withoutSecret(error, credentials.password);
  }
  return platform;
}
