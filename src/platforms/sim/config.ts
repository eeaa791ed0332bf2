import { z } from 'zod';
import { loadConfigFile } from '../../config/load-config.ts';
import { quoted } from '../../errors.ts';
import { MAX_HOSTS } from '../../input-limits.ts';
import { PROFILES, PROFILE_NAMES, migrationProfileSchema, type MigrationProfile, type ProfileName } from './profiles.ts';

const hostsSchema = z
  .object({
    cores: z.number().int().positive().default(2),
    mhzPerCore: z.number().positive().default(3800),
    memoryMB: z.number().positive().default(4096),
    /** Memory the hypervisor itself uses. */
    hypervisorMB: z.number().nonnegative().default(400),
    /** The migration network, per host, each direction. */
    linkMbps: z.number().positive().default(1000),
    /** How much a host's VMs slow down per unit of swapped share of their memory. */
    swapSlowdown: z.number().nonnegative().default(10),
    /**
     * The power model: linear in CPU use between idle and peak, a few watts in standby, and the
     * time to enter standby and to wake (DPM). Chosen, not measured, for the seed's Dell SC1425
     * (two 110 W-TDP Xeons at 3.8 GHz, a 450 W supply): no measurement of one is published
     * that we could find. Waking is a boot of the hypervisor, minutes.
     */
    power: z
      .object({
        idleWatts: z.number().nonnegative().default(160),
        peakWatts: z.number().nonnegative().default(280),
        standbyWatts: z.number().nonnegative().default(10),
        enterStandbySeconds: z.number().nonnegative().default(60),
        wakeSeconds: z.number().nonnegative().default(180),
      })
      .strict()
      .refine((power) => power.peakWatts >= power.idleWatts, { message: 'peakWatts must be at least idleWatts', path: ['peakWatts'] })
      .prefault({}),
  })
  .strict();

const vmsSchema = z
  .object({
    memoryMB: z.number().positive().default(512),
    /** Guest OS memory touched after boot, its hot part and its part identical across VMs. */
    guestOsMB: z.number().nonnegative().default(140),
    guestOsActiveMB: z.number().nonnegative().default(16),
    guestOsShareableFraction: z.number().min(0).max(1).default(0.5),
    guestOsDirtyMBps: z.number().nonnegative().default(0.5),
    /**
     * Of `guestOsMB`, memory the guest freed without zeroing it (a kernel without
     * init_on_free): its allocator hands it out first, so a new buffer lands on it before it
     * touches a zero page.
     */
    guestOsReusableMB: z.number().nonnegative().default(0),
    /**
     * Of `guestOsMB`, the data at the top of RAM, which a migration's scan reaches last (Linux's
     * page descriptors, its `struct page` array, 64 bytes per 4 KiB page, live there).
     */
    guestOsTopOfRamMB: z.number().nonnegative().default(0),
    /**
     * Entries of each VM's TCG TLB at the start (src/platforms/sim/tcg-tlb.ts): null for a
     * freshly booted guest's (the profile's `bootTlbEntries`); calibrate sets it from what the
     * measured guest freed on its QEMU process before the case.
     */
    tcgTlbEntries: z.number().int().min(1).max(1 << 22).nullable().default(null),
    idleMHz: z.number().nonnegative().default(30),
    /** Hypervisor memory per VM (page tables, frame buffer). */
    overheadMB: z.number().nonnegative().default(60),
  })
  .strict();

const workloadsSchema = z
  .object({
    /** cpu: compute for this long on an uncontended vCPU. */
    cpu: z.object({ seconds: z.number().positive().default(200), bufferMB: z.number().nonnegative().default(1) }).strict().prefault({}),
    /** memory: fill a buffer at fillMBps of a whole vCPU, sleep, free. */
    memory: z
      .object({
        bufferMB: z.number().positive().default(100),
        fillMBps: z.number().positive().default(1000),
        sleepSeconds: z.number().nonnegative().default(200),
      })
      .strict()
      .prefault({}),
    /**
     * memory2: keep rewriting a buffer for this long on an uncontended vCPU, at dirtyMBps. The
     * seed's memory2 by default; `writeOrder`, `prefilled`, `lasts` and `checkSeconds` are this tool's
     * extension, for the guest's /rewrite (random pages of a buffer filled first) and for the
     * lab's guest server.
     */
    memory2: z
      .object({
        bufferMB: z.number().positive().default(100),
        seconds: z.number().positive().default(200),
        dirtyMBps: z.number().nonnegative().default(80),
        /** `sweep`: distinct pages in turn, cycling; `random`: each write a page drawn uniformly from the buffer, with replacement. */
        writeOrder: z.enum(['sweep', 'random']).default('sweep'),
        /** The buffer is first filled whole at memory.fillMBps (else it is touched page by page as it is written). */
        prefilled: z.boolean().default(false),
        /**
         * `cpu`: `seconds` is the work of an uncontended vCPU, so a slowed guest takes longer (the
         * seed's); `wall`: the request rewrites for `seconds` of the guest's clock whatever CPU
         * it gets, as the lab's guest server does (/memory2?ms=T), so a slowed guest writes less.
         */
        lasts: z.enum(['cpu', 'wall']).default('cpu'),
        /** CPU seconds after the rewriting, on an uncontended vCPU: the lab's server reads the whole buffer back to check it, then answers. */
        checkSeconds: z.number().nonnegative().default(0),
      })
      .strict()
      .prefault({}),
    /** Each request's length is scaled by a uniform factor in [1 - jitter, 1 + jitter]. */
    jitter: z.number().min(0).max(0.9).default(0.05),
  })
  .strict();

const networkSchema = z
  .object({
    rttMs: z.number().nonnegative().default(0.5),
    /** TCP's first retransmission timeout: a request sent to a stopped VM is retried after it, doubling. */
    minRtoMs: z.number().positive().default(200),
    requestKB: z.number().nonnegative().default(1),
    responseKB: z.number().nonnegative().default(1),
  })
  .strict();

/** The finest sampling interval the sim honours. */
export const SIM_MIN_INTERVAL_SECONDS = 1;

const inventorySchema = z
  .object({
    hosts: z.array(z.string().min(1)).min(1).max(MAX_HOSTS, `at most ${MAX_HOSTS} hosts`),
    /** VM name → the host it starts on; as many as MAX_CONFIG_BYTES holds. */
    vms: z.record(z.string(), z.string()),
  })
  .strict()
  .superRefine((inventory, context) => {
    const hosts = new Set(inventory.hosts);
    for (const [vm, host] of Object.entries(inventory.vms)) {
      if (!hosts.has(host)) {
        context.addIssue({ code: 'custom', path: ['vms', vm], message: `unknown host ${quoted(host)} (not in inventory.hosts)` });
        return;
      }
    }
  });

export const simConfigSchema = z
  .object({
    profile: z.enum(PROFILE_NAMES).default('vsphere-4.1'),
    /** Overrides of the profile's migration parameters. */
    migration: migrationProfileSchema.partial().prefault({}),
    hosts: hostsSchema.prefault({}),
    vms: vmsSchema.prefault({}),
    workloads: workloadsSchema.prefault({}),
    network: networkSchema.prefault({}),
    /** The datacenter's hosts and VMs; by default the hosts and VMs of the script's placement line, already in place. */
    inventory: inventorySchema.optional(),
    /** The statistics refresh rate, vCenter's 20 s by default. */
    refreshSeconds: z
      .number()
      .min(SIM_MIN_INTERVAL_SECONDS, `the sim samples at most every ${SIM_MIN_INTERVAL_SECONDS} s`)
      .default(20),
  })
  .strict();

export type SimConfig = z.infer<typeof simConfigSchema>;
export type HostsConfig = SimConfig['hosts'];
export type VmsConfig = SimConfig['vms'];
export type WorkloadsConfig = SimConfig['workloads'];
export type NetworkConfig = SimConfig['network'];

export function loadSimConfig(path: string | undefined): SimConfig {
  return path === undefined ? simConfigSchema.parse({}) : loadConfigFile(path, simConfigSchema);
}

export function migrationProfileOf(config: SimConfig): MigrationProfile {
  return { ...PROFILES[config.profile as ProfileName], ...config.migration };
}
