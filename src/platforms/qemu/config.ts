import path from 'node:path';
import { z } from 'zod';
import { GUEST_SERVER_PATHS } from '../../config/balancer-schema.ts';
import { loadConfigFile } from '../../config/load-config.ts';
import { defaultCacheDir } from './guest-image.ts';
import { defaultLabDir } from './lab-state.ts';

/** Names that go into file names, HAProxy's configuration and the kernel command line. */
const nameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, 'a name of letters, digits, _ . - (at most 32)');

const hostSchema = z.union([
  nameSchema,
  z
    .object({
      name: nameSchema,
      /** Pin this host's QEMU processes to these CPUs (taskset); all CPUs when left out. */
      cpus: z.array(z.number().int().nonnegative()).min(1).optional(),
    })
    .strict(),
]);

const migrationSchema = z
  .object({
    /** QEMU's max-bandwidth, in Mbit/s: 1000, like the seed's 1 GbE. */
    maxBandwidthMbps: z.number().positive().default(1000),
    /** QEMU's downtime-limit (its default, 300 ms). */
    downtimeLimitMs: z.number().int().positive().default(300),
    /** A migration still running after this long is cancelled; the VM stays where it was. */
    convergenceTimeoutSeconds: z.number().positive().default(120),
    /** How often query-migrate is polled (QEMU's guestperf: 50 ms). */
    pollMs: z.number().int().min(10).max(1000).default(50),
  })
  .strict();

const probeSchema = z
  .object({
    /** The probe sends its next ping this long after the previous one was sent (or at once if it took longer). */
    intervalMs: z.number().min(1).default(1),
    /** After a migration, the probe waits at most this long for a first answer from the moved VM. */
    settleSeconds: z.number().positive().default(15),
  })
  .strict();

const workloadsSchema = z
  .object({
    /** Request paths of each client type; see guest/server.c for the parameters. */
    cpu: z.string().startsWith('/').default(GUEST_SERVER_PATHS.cpu),
    memory: z.string().startsWith('/').default(GUEST_SERVER_PATHS.memory),
    memory2: z.string().startsWith('/').default(GUEST_SERVER_PATHS.memory2),
  })
  .strict();

const loadSchema = z
  .object({
    requestTimeoutSeconds: z.number().positive().default(600),
    maxRequestsPerClient: z.number().int().positive().default(10_000_000),
    errorPauseSeconds: z.number().nonnegative().default(0.1),
  })
  .strict();

export const qemuConfigSchema = z
  .object({
    /** Where the lab keeps its state file, sockets and logs (default: $VM_MONITORING_LAB_DIR or a root-only runtime directory, see defaultLabDir). */
    labDir: z.string().min(1).optional(),
    /** Where built guest images are cached (default: ~/.cache/vm-monitoring). */
    cacheDir: z.string().min(1).optional(),
    /** `auto`: KVM if a guest really boots on it within kvmProbeSeconds, else TCG. */
    accelerator: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
    kvmProbeSeconds: z.number().positive().default(8),
    bootTimeoutSeconds: z.number().positive().default(180),
    nic: z.enum(['virtio-net-pci', 'e1000']).default('virtio-net-pci'),
    /** `lab up` without a script: this many hosts (esx1..), or these hosts. */
    hosts: z.union([z.number().int().min(1).max(50), z.array(hostSchema).min(1)]).default(3),
    /** `lab up` without a script: this many VMs (vm01..), or these VMs, spread round-robin over the hosts. */
    vms: z.union([z.number().int().min(1).max(100), z.array(nameSchema).min(1)]).default(3),
    memoryMB: z.number().int().min(64).max(16384).default(256),
    vcpus: z.number().int().min(1).max(8).default(1),
    migration: migrationSchema.prefault({}),
    probe: probeSchema.prefault({}),
    workloads: workloadsSchema.prefault({}),
    load: loadSchema.prefault({}),
  })
  .strict();

export type QemuConfig = z.infer<typeof qemuConfigSchema>;
export type MigrationConfig = QemuConfig['migration'];
export type ProbeConfig = QemuConfig['probe'];

export function loadQemuConfig(configPath: string | undefined): QemuConfig {
  return configPath === undefined ? qemuConfigSchema.parse({}) : loadConfigFile(configPath, qemuConfigSchema);
}


/** The lab directory: the flag, else the config, else $VM_MONITORING_LAB_DIR, else the user's runtime directory's (defaultLabDir). */
export function labDirOf(config: QemuConfig, flag?: string): string {
  return path.resolve(flag ?? config.labDir ?? (process.env.VM_MONITORING_LAB_DIR || defaultLabDir()));
}

export function cacheDirOf(config: QemuConfig): string {
  return path.resolve(config.cacheDir ?? defaultCacheDir());
}

export interface HostSpec {
  name: string;
  cpus: number[] | null;
}

/** The hosts and VMs of `lab up` from the config, with flags overriding counts. */
export function labLayout(config: QemuConfig, overrides: { hosts?: number; vms?: number } = {}): { hosts: HostSpec[]; vms: { name: string; host: string }[] } {
  const hostsSetting = overrides.hosts ?? config.hosts;
  const hosts: HostSpec[] =
    typeof hostsSetting === 'number'
      ? Array.from({ length: hostsSetting }, (_, i) => ({ name: `esx${i + 1}`, cpus: null }))
      : hostsSetting.map((host) => (typeof host === 'string' ? { name: host, cpus: null } : { name: host.name, cpus: host.cpus ?? null }));
  const vmsSetting = overrides.vms ?? config.vms;
  const vmNames = typeof vmsSetting === 'number' ? Array.from({ length: vmsSetting }, (_, i) => `vm${String(i + 1).padStart(2, '0')}`) : vmsSetting;
  return { hosts, vms: vmNames.map((name, i) => ({ name, host: (hosts[i % hosts.length] as HostSpec).name })) };
}

/** Pinning from the config for hosts named by a script's placement line. */
export function hostSpecsFor(config: QemuConfig, names: readonly string[]): HostSpec[] {
  const configured = typeof config.hosts === 'number' ? [] : config.hosts;
  return names.map((name) => {
    const entry = configured.find((host) => (typeof host === 'string' ? host : host.name) === name);
    return { name, cpus: entry && typeof entry !== 'string' ? (entry.cpus ?? null) : null };
  });
}
