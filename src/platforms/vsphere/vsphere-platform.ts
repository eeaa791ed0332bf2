import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../errors.ts';
import { HttpLoad } from '../../load/http-load.ts';
import type { Load } from '../../load/load.ts';
import { COUNTERS } from '../../monitor/counters.ts';
import type { RequestRecord } from '../../record/records.ts';
import { RealClock } from '../../run/real-clock.ts';
import type { CounterReading, Inventory, MigrationOrder, MigrationOutcome, Platform, PlatformOptions } from '../platform.ts';
import { loadVsphereConfig, readCredentials, type Credentials, type VsphereConfig } from './config.ts';
import { selectMetrics, type ResolvedCounter } from './perf-metrics.ts';
import { TransportError, VimFault, moRef, type MoRef } from './soap.ts';
import { VimClient, type PerfMetricId, type TaskInfo } from './vim-client.ts';
import { child } from './xml.ts';
import { averageSeries } from './sample-window.ts';

/** Where the platform writes warnings and how it reads the environment; tests replace them. */
export interface VsphereDeps {
  env: NodeJS.ProcessEnv;
  warn: (message: string) => void;
}

const DEFAULT_DEPS: VsphereDeps = { env: process.env, warn: (message) => process.stderr.write(`vm-monitoring: warning: ${message}\n`) };

/** vCenter keeps an hour of real-time samples: no query asks for more. */
const MAX_SAMPLES = 180;
const FALLBACK_REFRESH_SECONDS = 20;
/** Faults that mean "this server has no MigrateVM_Task": fall back to RelocateVM_Task. */
const NO_SUCH_METHOD = new Set(['MethodNotFound', 'NotImplemented', 'NotSupported']);

interface HostEntry {
  name: string;
  ref: MoRef;
  /** Its ComputeResource or ClusterComputeResource. */
  parent: MoRef | undefined;
}

interface VmEntry {
  name: string;
  ref: MoRef;
  host: MoRef;
}

const VIEW_TYPES = ['HostSystem', 'VirtualMachine', 'ComputeResource', 'ClusterComputeResource'];

/** A vCenter (or an ESXi host) driven over the vim25 SOAP API. */
export class VspherePlatform implements Platform {
  readonly name = 'vsphere';
  readonly clock = new RealClock();
  /** Wall time (ms since the epoch) at which `clock` read 0. */
  private readonly clockEpochMs = Date.now() - this.clock.now() * 1000;
  refreshSeconds = FALLBACK_REFRESH_SECONDS;
  get minIntervalSeconds(): number {
    return this.refreshSeconds;
  }

  private readonly hosts = new Map<string, HostEntry>();
  private readonly vms = new Map<string, VmEntry>();
  private readonly rootPools = new Map<string, MoRef>();
  private readonly warnedAmbiguous = new Set<string>();
  private counters = new Map<number, ResolvedCounter>();
  private readonly hostMetrics = new Map<string, PerfMetricId[]>();
  private readonly newestSample = new Map<string, number>();
  private lastSampleS = 0;
  /** Server clock minus ours, in ms, measured at login. */
  private serverOffsetMs = 0;
  private migrateSupported: boolean;
  private view: MoRef | undefined;
  private generation = 0;
  private relogin: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly client: VimClient,
    private readonly config: VsphereConfig,
    private readonly credentials: Credentials,
    private readonly details: { configPath: string | undefined; caFile: string | undefined; insecure: boolean },
    private readonly deps: VsphereDeps,
  ) {
    this.migrateSupported = config.migrationMethod !== 'relocate';
  }

  /** Logs in, reads the clock offset, the counters and the refresh rate. */
  async start(): Promise<void> {
    await this.login();
    const before = Date.now();
    const serverTime = await this.session(() => this.client.currentTime());
    this.serverOffsetMs = serverTime.getTime() - (before + Date.now()) / 2;
    const wanted = Object.values(COUNTERS).filter((c) => c.name !== COUNTERS.vmCount.name);
    const available = await this.session(() => this.client.perfCounters());
    this.counters = new Map(
      available.flatMap((info) => {
        const counter = wanted.find((c) => c.name === info.name);
        return counter ? [[info.key, { key: info.key, name: counter.name, unit: counter.unit }] as const] : [];
      }),
    );
    await this.readInventory();
    const firstHost = this.hosts.values().next().value;
    if (firstHost) this.refreshSeconds = (await this.session(() => this.client.refreshRate(firstHost.ref))) ?? FALLBACK_REFRESH_SECONDS;
    this.lastSampleS = this.clock.now();
  }

  async inventory(): Promise<Inventory> {
    await this.readInventory();
    return {
      hosts: [...this.hosts.keys()],
      vms: [...this.vms.values()].flatMap((vm) => {
        const host = this.hostName(vm.host);
        return host === undefined ? [] : [{ name: vm.name, host }];
      }),
    };
  }

  async migrate(order: MigrationOrder, signal: AbortSignal): Promise<MigrationOutcome> {
    const requestedS = this.clock.now();
    const failed = (reason: string): MigrationOutcome => {
      const now = this.clock.now();
      return { ...NO_MEASURES, started_s: requestedS, ended_s: now, status: 'failed', reason };
    };
    const vm = this.vms.get(order.vm);
    const target = this.hosts.get(order.target);
    if (!vm) return failed(`no VM named ${order.vm}`);
    if (!target) return failed(`no host named ${order.target}`);
    // Within one cluster the VM keeps its resource pool; to another one it goes to the target's root pool.
    const sourceParent = [...this.hosts.values()].find((h) => sameRef(h.ref, vm.host))?.parent;
    const pool = sourceParent && target.parent && sameRef(sourceParent, target.parent) ? undefined : this.rootPoolOf(target);
    try {
      const task = await this.session(() => this.startMigration(vm.ref, { host: target.ref, pool }));
      const info = await this.waitForTask(task, signal, requestedS + this.config.timeouts.migrationSeconds);
      const seenS = this.clock.now();
      if (info === 'interrupted') {
        return { ...NO_MEASURES, started_s: requestedS, ended_s: seenS, status: 'interrupted', reason: `interrupted; vCenter task ${task.value} was left running` };
      }
      if (info === 'timeout') return failed(`task ${task.value} not done after ${this.config.timeouts.migrationSeconds} s (timeouts.migrationSeconds)`);
      const startedS = clamp(this.runSeconds(info.startTime) ?? requestedS, requestedS, seenS);
      const endedS = clamp(this.runSeconds(info.completeTime) ?? seenS, startedS, seenS);
      if (info.state === 'success') {
        vm.host = target.ref;
        return { ...NO_MEASURES, started_s: startedS, ended_s: endedS, status: 'succeeded', reason: '' };
      }
      const reason = info.error ? `${info.error.fault}${info.error.message ? `: ${info.error.message}` : ''}` : 'the task failed without a fault';
      return { ...NO_MEASURES, started_s: startedS, ended_s: endedS, status: 'failed', reason };
    } catch (error) {
      return failed(error instanceof Error ? error.message : String(error));
    }
  }

  async sample(): Promise<CounterReading[]> {
    const nowS = this.clock.now();
    const elapsedS = nowS - this.lastSampleS;
    this.lastSampleS = nowS;
    try {
      await this.readInventory();
    } catch (error) {
      this.deps.warn(`vSphere: inventory for vm.count not read: ${(error as Error).message}`);
      return [];
    }
    const readings: CounterReading[] = [];
    for (const host of this.hosts.values()) {
      const count = [...this.vms.values()].filter((vm) => sameRef(vm.host, host.ref)).length;
      readings.push({ host: host.name, counter: COUNTERS.vmCount.name, instance: '', value: count, unit: COUNTERS.vmCount.unit });
    }
    try {
      readings.push(...(await this.samplePerf(elapsedS)));
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
    const about = this.client.content.about;
    return {
      name: this.name,
      config_file: this.details.configPath ?? null,
      url: this.config.url,
      server: { full_name: about.fullName, api_type: about.apiType, api_version: about.apiVersion, instance_uuid: about.instanceUuid },
      credentials: this.credentials.source,
      tls: { ca_file: this.details.caFile ?? null, insecure: this.details.insecure },
      refresh_s: this.refreshSeconds,
      counters: Object.fromEntries([...this.counters.values()].map((c) => [c.name, c.key])),
      instances: this.config.instances,
      migration_method: this.config.migrationMethod,
      load: { url: withoutUserInfo(this.config.load.url), socket_path: this.config.load.socketPath ?? null, paths: this.config.load.paths },
      timeouts: this.config.timeouts,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.logout();
    } catch {
      // The session may be gone already; nothing to undo.
    }
    await this.client.close();
  }

  // ---- session ----------------------------------------------------------------------------

  private async login(): Promise<void> {
    const { username, password } = this.credentials;
    try {
      await this.client.login(username, password);
    } catch (error) {
      if (error instanceof VimFault && (error.faultName === 'InvalidLogin' || error.faultName === 'NoPermission')) {
        const source = Object.entries(this.credentials.source).map(([kind, where]) => `${kind} ${where}`).join('');
        throw new InputError(scrub(`vSphere login as '${username}' at ${this.config.url} failed: ${error.faultName}: ${error.faultMessage || 'rejected'} (credentials from ${source})`, password));
      }
      throw scrubError(error, password);
    }
    this.generation++;
    this.view = undefined;
  }

  /**
   * Runs `call`; if the session has expired (NotAuthenticated), logs in again once and retries.
   * The container view lives in the session: a server that reports it gone (vcsim answers a
   * lost session's property reads with ManagedObjectNotFound) gets a new one, and the retry
   * then finds out whether the session is gone too.
   */
  private async session<T>(call: () => Promise<T>): Promise<T> {
    let loggedInAgain = false;
    for (let attempt = 0; ; attempt++) {
      const generation = this.generation;
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof VimFault) || this.closed || attempt >= 2) throw error;
        if (error.faultName === 'NotAuthenticated' && !loggedInAgain) {
          loggedInAgain = true;
          if (this.generation === generation) {
            this.relogin ??= this.login().finally(() => (this.relogin = undefined));
            await this.relogin;
          }
          continue;
        }
        const lost = error.faultName === 'ManagedObjectNotFound' ? moRef(child(error.detail, 'obj')) : undefined;
        if (lost && this.view && sameRef(lost, this.view)) {
          this.view = undefined;
          continue;
        }
        throw error;
      }
    }
  }

  private async containerView(): Promise<MoRef> {
    this.view ??= await this.client.createContainerView(this.client.content.rootFolder, VIEW_TYPES, true);
    return this.view;
  }

  // ---- inventory --------------------------------------------------------------------------

  /** Hosts, VMs with their hosts, and the compute resources' root pools: one property-collector call. */
  private async readInventory(): Promise<void> {
    const objects = await this.session(async () =>
      this.client.retrieveProperties({
        propSet: [
          { type: 'HostSystem', pathSet: ['name', 'parent'] },
          { type: 'VirtualMachine', pathSet: ['name', 'runtime.host', 'config.template'] },
          { type: 'ComputeResource', pathSet: ['resourcePool'] },
          { type: 'ClusterComputeResource', pathSet: ['resourcePool'] },
        ],
        objectSet: [{ obj: await this.containerView(), skip: true, traverseView: true }],
      }),
    );
    const hosts: HostEntry[] = [];
    const vms: VmEntry[] = [];
    this.rootPools.clear();
    for (const object of objects) {
      const name = object.props.get('name')?.text;
      if (object.obj.type === 'HostSystem' && name !== undefined) {
        hosts.push({ name, ref: object.obj, parent: moRef(object.props.get('parent')) });
      } else if (object.obj.type === 'VirtualMachine' && name !== undefined) {
        const host = moRef(object.props.get('runtime.host'));
        if (host && object.props.get('config.template')?.text !== 'true') vms.push({ name, ref: object.obj, host });
      } else {
        const pool = moRef(object.props.get('resourcePool'));
        if (pool) this.rootPools.set(object.obj.value, pool);
      }
    }
    replaceUnique(this.hosts, hosts, 'host', this.warnedAmbiguous, this.deps.warn);
    replaceUnique(this.vms, vms, 'VM', this.warnedAmbiguous, this.deps.warn);
  }

  private hostName(ref: MoRef): string | undefined {
    for (const host of this.hosts.values()) if (sameRef(host.ref, ref)) return host.name;
    return undefined;
  }

  private rootPoolOf(host: HostEntry): MoRef | undefined {
    return host.parent ? this.rootPools.get(host.parent.value) : undefined;
  }

  // ---- migrations -------------------------------------------------------------------------

  private async startMigration(vm: MoRef, target: { host: MoRef; pool: MoRef | undefined }): Promise<MoRef> {
    if (this.migrateSupported) {
      try {
        return await this.client.migrateVm(vm, target);
      } catch (error) {
        if (!(this.config.migrationMethod === 'auto' && error instanceof VimFault && NO_SUCH_METHOD.has(error.faultName))) throw error;
        this.migrateSupported = false;
      }
    }
    return this.client.relocateVm(vm, target);
  }

  /** Polls the task until it ends, the run is interrupted or the deadline (run seconds) passes. */
  private async waitForTask(task: MoRef, signal: AbortSignal, deadlineS: number): Promise<TaskInfo | 'interrupted' | 'timeout'> {
    const pollSeconds = this.config.timeouts.taskPollSeconds;
    const maxPolls = Math.ceil(this.config.timeouts.migrationSeconds / pollSeconds) + 2;
    for (let poll = 0; poll < maxPolls; poll++) {
      const info = await this.session(() => this.client.taskInfo(task));
      if (info.state === 'success' || info.state === 'error') return info;
      if (signal.aborted) return 'interrupted';
      if (this.clock.now() >= deadlineS) return 'timeout';
      await this.clock.sleepUntil(Math.min(deadlineS, this.clock.now() + pollSeconds), signal);
    }
    return 'timeout';
  }

  /** A server time as seconds since the run started. */
  private runSeconds(time: Date | undefined): number | undefined {
    return time === undefined ? undefined : (time.getTime() - this.serverOffsetMs - this.clockEpochMs) / 1000;
  }

  // ---- counters ---------------------------------------------------------------------------

  private async samplePerf(elapsedS: number): Promise<CounterReading[]> {
    if (this.counters.size === 0) return [];
    const hosts = [...this.hosts.values()];
    for (const host of hosts) {
      if (this.hostMetrics.has(host.ref.value)) continue;
      const available = await this.session(() => this.client.availablePerfMetrics(host.ref, this.refreshSeconds));
      this.hostMetrics.set(host.ref.value, selectMetrics(available, this.counters, this.config.instances));
    }
    const maxSample = Math.min(MAX_SAMPLES, Math.max(1, Math.ceil(elapsedS / this.refreshSeconds - 1e-9)));
    const specs = hosts
      .map((host) => ({ entity: host.ref, maxSample, metricId: this.hostMetrics.get(host.ref.value) ?? [], intervalId: this.refreshSeconds }))
      .filter((spec) => spec.metricId.length > 0);
    const metrics = await this.session(() => this.client.queryPerf(specs));
    const readings: CounterReading[] = [];
    for (const metric of metrics) {
      const host = this.hostName(metric.entity);
      if (host === undefined) continue;
      const after = this.newestSample.get(metric.entity.value) ?? -Infinity;
      const times = metric.sampleTimes.map((t) => t.getTime());
      for (const series of metric.series) {
        const counter = this.counters.get(series.id.counterId);
        const value = averageSeries(times, series.values, after);
        if (counter && value !== undefined) {
          readings.push({ host, counter: counter.name, instance: series.id.instance, value, unit: counter.unit });
        }
      }
      const newest = Math.max(...times.filter((t) => Number.isFinite(t)));
      if (Number.isFinite(newest)) this.newestSample.set(metric.entity.value, Math.max(after, newest));
    }
    return readings;
  }
}

const NO_MEASURES = { downtime_ms: null, client_downtime_ms: null, bytes: null, passes: null } as const;

function sameRef(a: MoRef, b: MoRef): boolean {
  return a.value === b.value && a.type === b.type;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

function withoutUserInfo(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** Names are what scripts use: a name that two objects share is left out, with one warning. */
function replaceUnique<T extends { name: string }>(
  into: Map<string, T>,
  entries: readonly T[],
  kind: string,
  warned: Set<string>,
  warn: (message: string) => void,
): void {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry.name, (counts.get(entry.name) ?? 0) + 1);
  const previous = new Map(into);
  into.clear();
  for (const entry of entries) {
    if (counts.get(entry.name) === 1) {
      // Keep the entry object where it was, so that a migration in flight updates the one the map holds.
      const known = previous.get(entry.name);
      into.set(entry.name, known ? Object.assign(known, entry) : entry);
    } else if (!warned.has(`${kind}:${entry.name}`)) {
      warned.add(`${kind}:${entry.name}`);
      warn(`vSphere: ${counts.get(entry.name)} ${kind}s are named '${entry.name}': scripts cannot name them`);
    }
  }
}

function scrub(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join('***');
}

function scrubError(error: unknown, secret: string): unknown {
  if (!(error instanceof Error) || secret === '' || !error.message.includes(secret)) return error;
  return new Error(scrub(error.message, secret));
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
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read the CA file ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (insecure) deps.warn(`TLS certificate verification is OFF for ${config.url} (--insecure): anyone on the path can read the vSphere credentials`);

  let client: VimClient;
  try {
    client = await VimClient.connect(new URL(config.url), { ...(ca !== undefined ? { ca } : {}), insecure }, config.timeouts.callSeconds * 1000);
  } catch (error) {
    if (error instanceof TransportError && error.kind === 'tls') throw new InputError(error.message);
    throw error;
  }
  const platform = new VspherePlatform(client, config, credentials, { configPath: options.configPath, caFile, insecure }, deps);
  try {
    await platform.start();
  } catch (error) {
    await platform.close();
    throw scrubError(error, credentials.password);
  }
  return platform;
}
