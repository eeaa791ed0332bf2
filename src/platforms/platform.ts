import type { Load } from '../load/load.ts';
import type { RequestRecord } from '../record/records.ts';
import type { Clock } from '../run/clock.ts';

export interface Inventory {
  hosts: string[];
  /** Every VM the platform knows, with the host it runs on now. */
  vms: { name: string; host: string }[];
  /** Each host's CPU capacity in MHz, where the platform knows it (DRS weighs hosts by it). */
  hostCpuMHz?: Record<string, number>;
  /** Hosts whose VMs the platform's own automatic placement moves (a vSphere cluster's DRS), and which. */
  automaticPlacement?: Record<string, string>;
}

/**
 * Where a migration stands as the platform last saw it: seconds since it started, the pass
 * over the VM's memory (0 before the first), bytes sent so far and still to send, and the
 * platform's word for its state (`setup`, `active`, ...).
 */
export interface MigrationProgress {
  at_s: number;
  pass: number;
  transferred: number;
  remaining: number;
  status: string;
}

export interface MigrationOrder {
  vm: string;
  source: string;
  target: string;
  /** Told where the migration stands while it runs, where the platform knows (a live view shows it); a platform may never call it. */
  onProgress?: (progress: MigrationProgress) => void;
}

/** What a platform reports of one migration; times are seconds since the run started. */
export interface MigrationOutcome {
  started_s: number;
  ended_s: number;
  downtime_ms: number | null;
  /** The longest gap between a probe's answers during the migration, where the platform probes. */
  client_downtime_ms: number | null;
  bytes: number | null;
  passes: number | null;
  status: 'succeeded' | 'failed' | 'interrupted';
  reason: string;
  /** What only this platform knows of the migration (its own statistics, progress per pass, events), as plain JSON data. */
  details?: Record<string, unknown>;
}

/** One counter of one host, possibly one instance of several (a CPU, a NIC). */
export interface CounterReading {
  host: string;
  counter: string;
  instance: string;
  value: number;
  unit: string;
}

/** Hosts a platform can put into standby and wake again (what DPM does with them). */
export interface HostPower {
  /** Resolves once the host is in standby; rejects if it still runs or receives a VM. */
  standby(host: string): Promise<void>;
  /** Resolves once the host is on again. */
  wake(host: string): Promise<void>;
}

/** A virtualized datacenter the runner can drive. */
export interface Platform {
  readonly name: string;
  readonly clock: Clock;
  /** Where the platform can power hosts down and up; elsewhere a host in standby is only kept empty. */
  readonly power?: HostPower;
  /** The platform's own statistics refresh rate, the default sampling interval. */
  readonly refreshSeconds: number;
  /** The finest sampling interval the platform can honour. */
  readonly minIntervalSeconds: number;
  inventory(): Promise<Inventory>;
  /** Resolves when the migration has ended, whatever its outcome; never rejects for a failed migration. */
  migrate(order: MigrationOrder, signal: AbortSignal): Promise<MigrationOutcome>;
  /** Counters averaged over the time since the previous call (or since the platform opened). */
  sample(): Promise<CounterReading[]>;
  /** Each VM's CPU in MHz, averaged since the previous call, where the platform knows it (DRS weighs VMs by it). */
  vmCpuMHz?(): Promise<Record<string, number>>;
  /** Clients whose load balancer spreads requests over `servers`. */
  createLoad(servers: string[], onRequest: (record: RequestRecord) => void): Load;
  /** The platform and its parameters, for run.json. */
  describe(): Record<string, unknown>;
  close(): Promise<void>;
}

export interface PlatformOptions {
  /** Path of a YAML or JSON config file, if the user gave one. */
  configPath: string | undefined;
  seed: number;
  /** The script's placement line: a platform may build its testbed from it. */
  placement: { host: string; vms: string[] }[];
  /** A CA certificate (PEM file) to trust besides the system's, for platforms reached over TLS. */
  caFile: string | undefined;
  /** Skip TLS verification: only when asked explicitly, and said loudly. */
  insecure: boolean;
  /**
   * The script has placement-policy actions: a platform that models power reports it then
   * (and only then, so that the seed's scripts keep their records).
   */
  meterPower?: boolean;
}
