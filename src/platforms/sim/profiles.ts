import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** How a hypervisor's pre-copy live migration behaves, beyond the hardware it runs on. */
export const migrationProfileSchema = z
  .object({
    /** Fixed cost before the first pass (drawn uniformly from the range for each migration). */
    setupSeconds: z
      .object({ min: z.number().nonnegative(), max: z.number().nonnegative() })
      .strict()
      .refine((range) => range.min <= range.max, 'min must not exceed max'),
    /** Fixed cost while the VM is stopped, on top of sending the last dirty pages. */
    switchoverSeconds: z.number().nonnegative(),
    /**
     * How much one migration's CPU-bound work costs more or less than the next (its thread
     * shares the host's cores with whatever else runs): the σ of a log-normal factor on its
     * syncs (the setup's too), zero-page checks and switchover, drawn once per migration from
     * the run's seed (0: none drawn).
     */
    costSpread: z.number().min(0).max(2),
    /**
     * Mean of the wait, exponentially distributed and drawn once per migration, that the
     * stopped VM adds to its switchover (the stop waits for the vCPUs to leave the guest and
     * the migration thread for a core); 0: none drawn.
     */
    switchoverStallSeconds: z.number().nonnegative(),
    /** Pre-copy stops once the rest can be sent within this time at the last pass's (or, by QEMU's rule, the last rate window's) rate. */
    downtimeLimitSeconds: z.number().positive(),
    /**
     * When the dirty pages are collected and convergence decided: once a whole pass is sent,
     * at its average rate (`end-of-pass`); or QEMU 7.2's rule (`below-threshold`): at each
     * check of its 100 ms rate windows, as soon as the pages still pending fall under the last
     * window's rate x the limit (docs/qemu-7.2-precopy-rules.md, sections 1-2).
     */
    resync: z.enum(['end-of-pass', 'below-threshold']),
    /**
     * Time a dirty-bitmap sync takes per page dirty in its log, sending nothing meanwhile: all
     * of RAM at the setup's sync, the pages written since the last sync at every other (QEMU
     * under TCG walks every vCPU TLB per dirty page when RAM is not 256 KiB-aligned).
     */
    syncSecondsPerPage: z.number().nonnegative(),
    /**
     * What a live or final sync costs more per page for each MB/s the guest writes (under TCG
     * its TLBs grow with the pages it writes, and the sync walks them per dirty page; the
     * setup's sync, over all of RAM, was measured without it).
     */
    syncSecondsPerPagePerDirtyMBps: z.number().nonnegative(),
    /**
     * What the per-page path costs for every page of RAM it tests, dirty or not, on top of
     * `syncSecondsPerPage` for each dirty one.
     */
    syncScanSecondsPerPage: z.number().nonnegative(),
    /**
     * What a per-page sync costs more per dirty page for each entry of the vCPU's TLB beyond a
     * new QEMU process's 256: under TCG it walks the whole TLB for each page it clears, and
     * the TLB grows when the guest frees memory (src/platforms/sim/tcg-tlb.ts).
     */
    tlbEntrySyncSeconds: z.number().nonnegative(),
    /** The TLB entries of a freshly booted guest's QEMU process: booting grew it, and nothing since shrank it. */
    bootTlbEntries: z.number().int().min(1).max(1 << 22),
    /**
     * The guest stalls while the setup's sync runs: QEMU 7.2 holds its big lock through it
     * (ram_init_bitmaps), which the vCPU needs for every interrupt, timer and device access.
     * The later syncs hold it too (ram_save_pending), but the lab's grids are predicted better
     * with the guest writing on through them (README, "What migration costs the application").
     */
    setupStallsGuest: z.boolean(),
    /**
     * How long after the source's end (QEMU's `completed`, where its downtime ends) the guest
     * starts running on the target, which loads the device state and starts the VM in a bottom
     * half of its own (process_incoming_migration_bh): clients feel it, QEMU's downtime leaves it out.
     */
    targetStartSeconds: z.number().nonnegative(),
    /**
     * The guest's clock stands still while the VM is paused (QEMU stops a guest's clock with
     * its vCPUs: under TCG its TSC is QEMU's virtual clock), so a guest's sleeps and
     * clock-watching loops that span the stop last that much longer.
     */
    guestClockStopsWhilePaused: z.boolean(),
    /**
     * What a sync costs per page of RAM when the RAM is a multiple of 256 KiB: QEMU 7.2 then
     * takes its bitmap a word (64 pages) at a time, whatever is dirty, and walks no TLB.
     */
    wordSyncSecondsPerPage: z.number().nonnegative(),
    /** Cap on one migration's rate in MB/s (QEMU's max-bandwidth: by its rule a budget of a tenth of it per 100 ms window); null for none. */
    maxBandwidthMBps: z.number().positive().nullable(),
    /** The last copy, with the VM stopped, ignores the cap and goes at this rate (QEMU does); null: at the stream's rate. */
    stopAndCopyMBps: z.number().positive().nullable(),
    /** The most one stream's sender can push during pre-copy, in MB/s, whatever the cap; null for no limit (by QEMU's rule: as fast as its unthrottled last copy). */
    maxStreamMBps: z.number().positive().nullable(),
    /**
     * Share of its rate (its share of the links, or the cap or sender limit where lower) one
     * migration stream achieves; above 1 where a rate limiter lets more through than asked.
     */
    linkEfficiency: z.number().positive().max(1.2),
    /** Bytes sent for a page never written (zero pages travel as tiny records: 9 bytes in QEMU 7.2). */
    zeroPageBytes: z.number().nonnegative(),
    /** Sender time a zero page takes (reading it to find it zero, writing its record), whatever the rate. */
    zeroPageSeconds: z.number().nonnegative(),
    /**
     * Time a data page takes more when the target does not hold it yet (its first copy as data),
     * on top of its bytes at the stream's rate: QEMU's target RAM is anonymous memory, so the
     * first write into a page faults it in (allocated and zeroed), where a resend writes into a
     * page already mapped, and a zero page sent to a page never written is only read.
     */
    firstCopySecondsPerPage: z.number().nonnegative(),
    /** Switch over after this many passes even if not converged (vMotion 4.1); null for no cap (QEMU). */
    maxPasses: z.number().int().positive().nullable(),
    /** A migration still in pre-copy after this long is cancelled as not converging. */
    convergenceTimeoutSeconds: z.number().positive(),
    /** Source-host CPU the migration stream needs per MB/s it sends. */
    cpuMHzPerMBps: z.number().nonnegative(),
    /** Share of a migrating VM's vCPU lost to dirty-page tracing. */
    tracingSlowdown: z.number().min(0).max(0.9),
    /**
     * Share of a migrating VM's vCPU lost while a request fills fresh memory (the seed's memory
     * app, a buffer filled before it is rewritten): under TCG every page the guest newly maps is
     * first written through the dirty-tracking slow path, anew after each sync. Null: as
     * `tracingSlowdown`.
     */
    fillSlowdown: z.number().min(0).max(0.95).nullable(),
    /** The fastest a vCPU can write memory, in MB/s (QEMU's TCG emulation is slow at it); null for no limit. */
    maxDirtyMBps: z.number().positive().nullable(),
  })
  .strict();

export type MigrationProfile = z.infer<typeof migrationProfileSchema>;

const BUILT_IN = {
  /**
   * VMware vSphere 4.1 as the seed measured it. The fixed costs and the stream's CPU need
   * are chosen so that the seed's section 3.2 runs land in its Table 1 ranges (7.5 to 22 s),
   * not measured on vSphere: vMotion's internals are unpublished.
   */
  'vsphere-4.1': {
    setupSeconds: { min: 6, max: 16 },
    switchoverSeconds: 0.25,
    costSpread: 0,
    switchoverStallSeconds: 0,
    downtimeLimitSeconds: 0.5,
    resync: 'end-of-pass',
    syncSecondsPerPage: 0,
    syncSecondsPerPagePerDirtyMBps: 0,
    syncScanSecondsPerPage: 0,
    tlbEntrySyncSeconds: 0,
    bootTlbEntries: 256,
    setupStallsGuest: false,
    targetStartSeconds: 0,
    guestClockStopsWhilePaused: false,
    wordSyncSecondsPerPage: 0,
    maxBandwidthMBps: null,
    stopAndCopyMBps: null,
    maxStreamMBps: null,
    linkEfficiency: 0.9,
    zeroPageBytes: 16,
    zeroPageSeconds: 0,
    firstCopySecondsPerPage: 0,
    maxPasses: 12,
    convergenceTimeoutSeconds: 600,
    cpuMHzPerMBps: 30,
    tracingSlowdown: 0.08,
    fillSlowdown: null,
    maxDirtyMBps: null,
  },
  /** QEMU 7.2's defaults and rules: 128 MiB/s max-bandwidth, 300 ms downtime limit, no cap on passes, its resync rule; sync costs unmeasured (0). */
  qemu: {
    setupSeconds: { min: 0.01, max: 0.03 },
    switchoverSeconds: 0.02,
    costSpread: 0,
    switchoverStallSeconds: 0,
    downtimeLimitSeconds: 0.3,
    resync: 'below-threshold',
    syncSecondsPerPage: 0,
    syncSecondsPerPagePerDirtyMBps: 0,
    syncScanSecondsPerPage: 0,
    tlbEntrySyncSeconds: 0,
    bootTlbEntries: 256,
    setupStallsGuest: true,
    targetStartSeconds: 0,
    guestClockStopsWhilePaused: true,
    wordSyncSecondsPerPage: 0,
    maxBandwidthMBps: 128,
    stopAndCopyMBps: 1000,
    maxStreamMBps: null,
    linkEfficiency: 0.95,
    zeroPageBytes: 9,
    zeroPageSeconds: 0,
    firstCopySecondsPerPage: 0,
    maxPasses: null,
    convergenceTimeoutSeconds: 120,
    cpuMHzPerMBps: 0,
    tracingSlowdown: 0.05,
    fillSlowdown: null,
    maxDirtyMBps: null,
  },
} as const satisfies Record<string, MigrationProfile>;

/**
 * A profile written by `vm-monitoring calibrate`: its fitted `migration` values over a
 * built-in profile, and the guest it was fitted with (`vms`: overrides of the sim's VM config,
 * checked by whoever applies them).
 */
const fittedProfileSchema = z.looseObject({
  based_on: z.enum(Object.keys(BUILT_IN) as [keyof typeof BUILT_IN]),
  migration: migrationProfileSchema.partial(),
  vms: z.record(z.string(), z.unknown()).default({}),
  calibration: z.looseObject({ at: z.string() }),
});

/** The `qemu` profile fitted to this project's qemu lab on a 2-core machine under TCG (see the README). */
const QEMU_LAB_PROFILE = 'qemu-lab-profile.json';

function readFittedProfile(file: string): { profile: MigrationProfile; vms: Record<string, unknown>; fittedAt: string } {
  const fitted = fittedProfileSchema.parse(JSON.parse(readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8')));
  return { profile: migrationProfileSchema.parse({ ...BUILT_IN[fitted.based_on], ...fitted.migration }), vms: fitted.vms, fittedAt: fitted.calibration.at };
}

const qemuLab = readFittedProfile(QEMU_LAB_PROFILE);

export const PROFILES: Record<keyof typeof BUILT_IN | 'qemu-lab', MigrationProfile> = { ...BUILT_IN, 'qemu-lab': qemuLab.profile };

/** The guest a fitted profile was fitted with: predicting its cases again needs it too. */
export const FITTED_GUESTS: Partial<Record<ProfileName, Record<string, unknown>>> = { 'qemu-lab': qemuLab.vms };

/** Where each profile's values come from, for run.json. */
export const PROFILE_SOURCES: Record<ProfileName, string> = {
  'vsphere-4.1': 'chosen so that the seed\'s section 3.2 runs land in its Table 1 ranges',
  qemu: 'QEMU 7.2\'s defaults',
  'qemu-lab':
    `fitted by vm-monitoring calibrate against the qemu lab on ${qemuLab.fittedAt}, its sync costs (the TCG TLB's walk too), the target's start, a zero page's and a first copy's time (at 100 Gbit/s) and the 9-byte zero page measured or read from QEMU's source ` +
    `(src/platforms/sim/calibration-runner.ts) (src/platforms/sim/${QEMU_LAB_PROFILE})`,
};

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as [ProfileName, ...ProfileName[]];
