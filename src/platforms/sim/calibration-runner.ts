import { createHash } from 'node:crypto';
import type { ParameterSpec, ParameterValues } from '../../calibrate/fit.ts';
import { leastSquaresLine, median } from '../../report/statistics.ts';
import { ramKiBOf, type CaseResult, type CaseRunner, type CaseSettings, type CaseWorkload, type MigrationCase } from '../../calibrate/migration-case.ts';
import type { ClientType } from '../../script/experiment.ts';
import type { MigrationOutcome } from '../platform.ts';
import { migrationProfileOf, simConfigSchema, type VmsConfig } from './config.ts';
import type { MigrationProfile } from './profiles.ts';
import { quantile, repeatedCaseIdOf } from '../../calibrate/spread-comparison.ts';
import { isWordAligned, type PassProgress } from './migration.ts';
import { SimPlatform } from './sim-platform.ts';
import { TLB_DEFAULT_ENTRIES, tlbEntriesAfterFrees } from './tcg-tlb.ts';

/** What the calibration fits: the migration profile and the idle guest, over the `qemu` profile. */
export interface SimLabModel {
  migration: Partial<MigrationProfile>;
  /** `guestOsMB` is the idle guest's non-zero memory beyond what grows with its RAM. */
  vms: Partial<VmsConfig>;
  /** The idle guest's non-zero MB per MB of RAM; the lab guest's (LAB_GUEST_NONZERO_PER_RAM_MB) unless said. */
  guestNonZeroPerRamMB?: number;
}

/**
 * The sim's parameters a calibration against the qemu lab fits, with the bounds it searches:
 * the fixed costs from the migrate command to the first page (connect, thread start) and of
 * the switchover (device state), the speed of QEMU's unthrottled sender for pages the target
 * already holds (resends: the final copy's, and each window's burst's), and the idle guest's
 * non-zero memory. What the source
 * fixes is not fitted: QEMU's resync rule and rate windows (the `qemu` profile), a zero page's
 * 9 bytes, a stream at its full cap (the lab's windows measure cap + 0.1 %); what the
 * measurements show directly is measured (`labConstantsOf`): each sync path's cost per page
 * and the idle guest's dirtying; and, from the unthrottled set, a zero page's time and a first
 * copy's (LAB_ZERO_PAGE_SECONDS, LAB_FIRST_COPY_PAGE_SECONDS).
 */
export const FITTED_PARAMETERS: readonly ParameterSpec[] = [
  { name: 'setupSeconds', min: 0.0001, max: 2, scale: 'log' },
  { name: 'switchoverSeconds', min: 0.00001, max: 0.5, scale: 'log' },
  { name: 'stopAndCopyMBps', min: 50, max: 20_000, scale: 'log' },
  { name: 'guestOsMB', min: 1, max: 200, scale: 'log' },
];

/** A zero page on the wire: an 8-byte page header and the fill byte (save_zero_page_to_file, ram.c:1257-1270). */
const ZERO_PAGE_BYTES = 9;
/** A data page on the wire, its header apart (save_normal_page, ram.c:1342-1357). */
const PAGE_BYTES_OF_DATA = 4096;

/**
 * The idle guest's non-zero memory that grows with its RAM (the kernel's page descriptors,
 * 64 bytes per 4 KiB page, and page tables), measured: the idle cases of
 * measured-2026-11-25 sent a median 14,266 normal pages at 256 MB and 15,378 at 512 MB.
 */
export const LAB_GUEST_NONZERO_PER_RAM_MB = 0.01696;

/**
 * Seconds the per-page sync path of the lab's QEMU takes per page dirty in its log, measured:
 * the median over the idle cases of samples/calibrate/measured-2026-11-25's fit half of
 * setup_ms per page of RAM (setup is sync #1, every page dirty; 256 and 512 MB give
 * 1.11-1.18 µs, no fixed part; the first migration after each boot, 1.4 and 1.9 µs, left out:
 * its TLB is its boot's), 1.160 µs as `setupSecondsPerPageOf` reads it, less the test of every
 * page (LAB_SYNC_SCAN_SECONDS_PER_PAGE).
 */
export const LAB_SYNC_SECONDS_PER_PAGE = 1.137e-6;

/**
 * What a sync of the lab's QEMU costs more per page for each MB/s the guest writes, measured:
 * in the 216 passes of the 150 MB/s cases at 300 and 1000 Mbit/s in
 * measured-details.jsonl, QEMU sent nothing for a median 17.1 µs per page pending after each
 * sync (pass duration less its bytes at the cap), against 1.167 µs idle: (17.1 - 1.167) / 150.
 */
export const LAB_SYNC_SECONDS_PER_PAGE_PER_DIRTY_MBPS = 1.062e-7;

/** What calibrate measures rather than fits: from the fit cases where they allow it, else as measured on 2026-11-25 (above). */
export interface LabConstants {
  syncSecondsPerPage: number;
  syncSecondsPerPagePerDirtyMBps: number;
  syncScanSecondsPerPage: number;
  wordSyncSecondsPerPage: number;
  guestOsDirtyMBps: number;
  costSpread: number;
  switchoverStallSeconds: number;
  tlbEntrySyncSeconds: number;
  bootTlbEntries: number;
  targetStartSeconds: number;
  /** Sender time per zero page (LAB_ZERO_PAGE_SECONDS). */
  zeroPageSeconds: number;
  /** A data page's first copy to the target, all told (LAB_FIRST_COPY_PAGE_SECONDS). */
  firstCopyPageSeconds: number;
}

/**
 * How much the lab's CPU-bound migration work varies from one migration to the next,
 * measured (`costSpreadOf`) on the fit half of samples/calibrate/repeat-2026-12-02: the same
 * idle 256 MB and dirtying 512 MB migrations 8 times each, their setups 61-104 and 127-191 ms.
 */
export const LAB_COST_SPREAD = 0.083;

/**
 * The mean wait the lab's stopped VM adds to a switchover, measured (`switchoverStallOf`) on
 * the same fit half: downtimes 3-16 and 24-51 ms over the repetitions of one case.
 */
export const LAB_SWITCHOVER_STALL_SECONDS = 0.0048;

/**
 * What the per-page sync path costs for each page of RAM it tests, measured: how much longer
 * the idle cases' downtime is at the smallest limit (the last copy tiny, the last sync all
 * that differs) page by page than word-wise, per page of RAM, the median over RAM sizes, on
 * the fit halves of measured-2026-11-25 against whole-mib-2026-12-02 (1 to 4 ms more).
 */
export const LAB_SYNC_SCAN_SECONDS_PER_PAGE = 2.289e-8;

/**
 * What QEMU's word-wise bitmap sync costs per page of RAM, measured: the idle cases of
 * samples/calibrate/whole-mib-2026-12-02 (a fit half) took a median setup of 11.4 ns per page
 * of RAM (0-3 ms, QEMU's setup-time in whole milliseconds).
 */
export const LAB_WORD_SYNC_SECONDS_PER_PAGE = 1.144e-8;

/**
 * MB/s of distinct pages the lab's idle guest dirties, measured: how the idle cases' bytes grow
 * with their duration (the least-squares slope of bytes over total time at each RAM size and
 * sync path, the median), over the fit halves of measured-2026-11-25 and whole-mib-2026-12-02.
 */
export const LAB_GUEST_OS_DIRTY_MBPS = 0.0583;

/**
 * What each entry of the vCPU's TLB beyond a new process's 256 adds to the lab's per-page sync
 * per dirty page, measured (`tlbEntrySyncSecondsOf`): on the fit half of measured-2026-11-25,
 * the setups of guests that had freed a buffer on their QEMU process before (the TLB's entries
 * by src/platforms/sim/tcg-tlb.ts: 1,024 after 64 MB, 4,096 after 128 MB), less the idle setup,
 * per page of RAM and entry; the median.
 */
export const LAB_TLB_ENTRY_SYNC_SECONDS = 7.15e-10;

/**
 * The TLB entries of a guest's QEMU process that booted it, measured (`bootTlbEntriesOf`): the
 * first idle migration after each boot in the fit half of measured-2026-11-25 took longer
 * than the later ones by that many entries' walks per page.
 */
export const LAB_BOOT_TLB_ENTRIES = 1237;

/**
 * How long after QEMU's `completed` the lab's guest runs on its target, measured on
 * samples/qemu/runs-2026-12-02/3.3-cpu: its requests computing across a switchover were
 * answered a median 102 ms after the end, less the work they had left (41.5 ms of work,
 * at the migrating guest's rate until the stop): median 78 ms (33-108). Clients feel it;
 * QEMU's downtime, measured on the source, leaves it out.
 */
export const LAB_TARGET_START_SECONDS = 0.078;

/**
 * What the lab's sender takes per zero page (reading 4 KiB to find it zero, its record, the
 * target's check that its page reads zero), measured on samples/calibrate/unthrottled-2026-12-02
 * (a set held out of the fit whole: these two constants are the only things taken from it):
 * at 100 Gbit/s nothing waits for a rate window, so total time is a fixed part plus a time per
 * normal and per zero page; the least squares over its 12 cases, of total-time against QEMU's
 * final `normal_pages` and `duplicate_pages`, give 0.372 µs per zero page, 11.99 µs per normal
 * page (nearly all first copies) and 61 ms apart from either (not modelled, README "Known gaps").
 * No throttled case measures it: there zero pages only fill a rate window's wait.
 */
export const LAB_ZERO_PAGE_SECONDS = 3.72e-7;

/**
 * What the lab's migration takes per data page the target does not hold yet, all told (its
 * 4 KiB at the sender's speed and the target's page fault into never-written anonymous memory):
 * 11.99 µs, measured with LAB_ZERO_PAGE_SECONDS above. The profile's `firstCopySecondsPerPage`
 * is that less the page's bytes at the fitted sender speed (`stopAndCopyMBps`), which resends,
 * into pages the target holds, go at.
 */
export const LAB_FIRST_COPY_PAGE_SECONDS = 1.199e-5;

export const SAVED_LAB_CONSTANTS: LabConstants = {
  syncSecondsPerPage: LAB_SYNC_SECONDS_PER_PAGE,
  syncSecondsPerPagePerDirtyMBps: LAB_SYNC_SECONDS_PER_PAGE_PER_DIRTY_MBPS,
  syncScanSecondsPerPage: LAB_SYNC_SCAN_SECONDS_PER_PAGE,
  wordSyncSecondsPerPage: LAB_WORD_SYNC_SECONDS_PER_PAGE,
  guestOsDirtyMBps: LAB_GUEST_OS_DIRTY_MBPS,
  costSpread: LAB_COST_SPREAD,
  switchoverStallSeconds: LAB_SWITCHOVER_STALL_SECONDS,
  tlbEntrySyncSeconds: LAB_TLB_ENTRY_SYNC_SECONDS,
  bootTlbEntries: LAB_BOOT_TLB_ENTRIES,
  targetStartSeconds: LAB_TARGET_START_SECONDS,
  zeroPageSeconds: LAB_ZERO_PAGE_SECONDS,
  firstCopyPageSeconds: LAB_FIRST_COPY_PAGE_SECONDS,
};

/**
 * The constants the fit cases measure (QEMU's setup is its first sync, over all of RAM, every
 * page dirty: on the per-page path its scan and a clearing per page); the saved ones for what
 * they cannot.
 */
export function labConstantsOf(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>): LabConstants {
  const fitCases = cases.filter((migrationCase) => migrationCase.training);
  const wordAligned = (migrationCase: MigrationCase): boolean => isWordAligned(ramKiBOf(migrationCase) / 1024);
  const scan = syncScanSecondsPerPageOf(fitCases, measured) ?? LAB_SYNC_SCAN_SECONDS_PER_PAGE;
  const pageByPage = fitCases.filter((c) => !wordAligned(c));
  const setupPerPage = setupSecondsPerPageOf(pageByPage, measured);
  const tlbEntrySyncSeconds = setupPerPage === null ? null : tlbEntrySyncSecondsOf(pageByPage, measured, setupPerPage);
  const bootTlbEntries = setupPerPage === null || tlbEntrySyncSeconds === null ? null : bootTlbEntriesOf(pageByPage, measured, setupPerPage, tlbEntrySyncSeconds);
  return {
    ...SAVED_LAB_CONSTANTS,
    syncScanSecondsPerPage: scan,
    syncSecondsPerPage: setupPerPage === null ? LAB_SYNC_SECONDS_PER_PAGE : Math.max(0, setupPerPage - scan),
    tlbEntrySyncSeconds: tlbEntrySyncSeconds ?? LAB_TLB_ENTRY_SYNC_SECONDS,
    bootTlbEntries: bootTlbEntries ?? LAB_BOOT_TLB_ENTRIES,
    wordSyncSecondsPerPage: setupSecondsPerPageOf(fitCases.filter(wordAligned), measured) ?? LAB_WORD_SYNC_SECONDS_PER_PAGE,
    guestOsDirtyMBps: idleDirtyMBpsOf(fitCases, measured) ?? LAB_GUEST_OS_DIRTY_MBPS,
    costSpread: costSpreadOf(fitCases, measured) ?? LAB_COST_SPREAD,
    switchoverStallSeconds: switchoverStallOf(fitCases, measured) ?? LAB_SWITCHOVER_STALL_SECONDS,
  };
}

/** Each repeated case's values of `measure` (at least 4 repetitions), where measured. */
function repeatedValues(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>, measure: (result: CaseResult) => number | null): number[][] {
  const byCase = new Map<string, number[]>();
  for (const migrationCase of cases) {
    const result = measured.get(migrationCase.id);
    const value = result ? measure(result) : null;
    if (migrationCase.repetition === undefined || value === null) continue;
    const base = repeatedCaseIdOf(migrationCase);
    byCase.set(base, [...(byCase.get(base) ?? []), value]);
  }
  return [...byCase.values()].filter((values) => values.length >= 4);
}

const spanOf = (values: readonly number[]): number => (quantile(values, 0.9) as number) - (quantile(values, 0.1) as number);

/**
 * How much the same migration's CPU-bound work varies, from a grid's repeated cases: the
 * spread of the log of QEMU's setup-time (its first sync, all CPU, which the cost factor
 * scales) over each case's repetitions, as the σ whose 10th to 90th percentiles span as much
 * (2.563 σ); the median over the repeated cases.
 */
export function costSpreadOf(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>): number | null {
  const logSetups = repeatedValues(cases, measured, (result) => (result.setup_ms != null && result.setup_ms > 0 ? Math.log(result.setup_ms) : null));
  return median(logSetups.map((values) => spanOf(values) / 2.563));
}

/**
 * The mean of the stopped VM's wait, from a grid's repeated cases: the downtime's 10th to
 * 90th percentile over each case's repetitions, as an exponential wait's span (ln 10 - ln
 * 10/9 = 2.197 means), the median over the repeated cases. The cost factor's share of that
 * span (a few percent of a few ms of switchover and last sync) is left in it.
 */
export function switchoverStallOf(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>): number | null {
  const downtimes = repeatedValues(cases, measured, (result) => (result.converged && result.downtime_ms !== null ? result.downtime_ms / 1000 : null));
  return median(downtimes.map((values) => spanOf(values) / 2.197));
}

/** How much longer a last sync page by page takes than word-wise, per page of RAM (see LAB_SYNC_SCAN_SECONDS_PER_PAGE). */
export function syncScanSecondsPerPageOf(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>): number | null {
  const idle = cases.filter((c) => c.workload.kind === 'idle' && measured.get(c.id)?.downtime_ms != null);
  if (idle.length === 0) return null;
  const smallestLimit = Math.min(...idle.map((c) => c.downtimeLimitMs));
  const perRam = new Map<number, { pageByPage: number[]; wordWise: number[] }>();
  for (const migrationCase of idle.filter((c) => c.downtimeLimitMs === smallestLimit)) {
    const entry = perRam.get(migrationCase.ramMB) ?? { pageByPage: [], wordWise: [] };
    const downtimeS = (measured.get(migrationCase.id)?.downtime_ms as number) / 1000;
    (isWordAligned(ramKiBOf(migrationCase) / 1024) ? entry.wordWise : entry.pageByPage).push(downtimeS);
    perRam.set(migrationCase.ramMB, entry);
  }
  const perPage = [...perRam].flatMap(([ramMB, { pageByPage, wordWise }]) => {
    const slower = (median(pageByPage) ?? NaN) - (median(wordWise) ?? NaN);
    return Number.isFinite(slower) ? [Math.max(0, slower) / (ramMB * PAGES_PER_MB)] : [];
  });
  return median(perPage);
}

/**
 * The median setup time per page of RAM over idle cases: QEMU's first sync, every page dirty.
 * Where the cases say what their QEMU process went through, a per-page sync counts only where
 * it walked a new process's TLB (the word-wise sync walks none).
 */
export function setupSecondsPerPageOf(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>): number | null {
  const walksANewProcessTlb = (c: MigrationCase): boolean =>
    isWordAligned(ramKiBOf(c) / 1024) || c.sourceProcess === undefined || (!c.sourceProcess.booted && tlbEntriesAfterFrees(TLB_DEFAULT_ENTRIES, c.sourceProcess.freedMB) === TLB_DEFAULT_ENTRIES);
  return median(cases.filter((c) => c.workload.kind === 'idle' && walksANewProcessTlb(c)).flatMap((c) => setupPerPageOf(c, measured)));
}

/** The case's setup, per page of RAM, where measured. */
function setupPerPageOf(migrationCase: MigrationCase, measured: ReadonlyMap<string, CaseResult>): number[] {
  const setupMs = measured.get(migrationCase.id)?.setup_ms;
  return setupMs != null ? [setupMs / 1000 / ((ramKiBOf(migrationCase) / 1024) * PAGES_PER_MB)] : [];
}

/** The TLB entries the case's QEMU process had when its migration started: its boot's, or a new process's, grown by what the guest freed there. */
export function sourceTlbEntriesOf(migrationCase: MigrationCase, bootTlbEntries: number): number {
  const history = migrationCase.sourceProcess;
  return tlbEntriesAfterFrees(history === undefined || history.booted ? bootTlbEntries : TLB_DEFAULT_ENTRIES, history?.freedMB ?? []);
}

/**
 * What each TLB entry beyond a new process's adds to the setup per page of RAM: over the cases
 * whose QEMU process did not boot the guest and grew its TLB by what the guest freed there,
 * their setup per page less the idle one's, per extra entry; the median.
 */
export function tlbEntrySyncSecondsOf(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>, idleSetupPerPage: number): number | null {
  const perEntry = cases.flatMap((c) => {
    if (c.sourceProcess === undefined || c.sourceProcess.booted) return [];
    const extra = sourceTlbEntriesOf(c, TLB_DEFAULT_ENTRIES) - TLB_DEFAULT_ENTRIES;
    return extra > 0 ? setupPerPageOf(c, measured).map((perPage) => (perPage - idleSetupPerPage) / extra) : [];
  });
  return median(perEntry);
}

/** The TLB a booted guest's QEMU process has: from its idle migrations, how many entries more than a new process's their setups walked. */
export function bootTlbEntriesOf(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>, idleSetupPerPage: number, tlbEntrySyncSeconds: number): number | null {
  if (tlbEntrySyncSeconds <= 0) return null;
  const booted = cases.filter((c) => c.workload.kind === 'idle' && c.sourceProcess?.booted === true && c.sourceProcess.freedMB.every((mb) => mb === 0));
  const extra = median(booted.flatMap((c) => setupPerPageOf(c, measured).map((perPage) => (perPage - idleSetupPerPage) / tlbEntrySyncSeconds)));
  return extra === null ? null : TLB_DEFAULT_ENTRIES + Math.max(0, Math.round(extra));
}

/**
 * What the idle guest dirties, in MB/s of distinct pages: at each RAM size, how the idle
 * cases' bytes grow with their length (the least-squares slope); the median over RAM sizes.
 */
export function idleDirtyMBpsOf(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>): number | null {
  // Seconds against MB sent, per RAM size.
  const byRam = new Map<number, [number, number][]>();
  for (const migrationCase of cases) {
    const result = measured.get(migrationCase.id);
    if (migrationCase.workload.kind !== 'idle' || !result?.converged) continue;
    const points = byRam.get(ramKiBOf(migrationCase)) ?? [];
    points.push([result.total_ms / 1000, result.bytes / BYTES_PER_MB]);
    byRam.set(ramKiBOf(migrationCase), points);
  }
  const slopes = [...byRam.values()].flatMap((points) => {
    const line = leastSquaresLine(points);
    return line === null ? [] : [Math.max(0, line.slope)];
  });
  return median(slopes);
}

export function simLabModelOf(values: ParameterValues, constants: LabConstants = SAVED_LAB_CONSTANTS): SimLabModel {
  const value = (name: string): number => {
    const found = values[name];
    if (found === undefined) throw new Error(`sim: no value for the fitted parameter ${name}`);
    return found;
  };
  return {
    migration: {
      setupSeconds: { min: value('setupSeconds'), max: value('setupSeconds') },
      switchoverSeconds: value('switchoverSeconds'),
      zeroPageBytes: ZERO_PAGE_BYTES,
      zeroPageSeconds: constants.zeroPageSeconds,
      firstCopySecondsPerPage: Math.max(0, constants.firstCopyPageSeconds - PAGE_BYTES_OF_DATA / (value('stopAndCopyMBps') * BYTES_PER_MB)),
      linkEfficiency: 1,
      maxStreamMBps: null,
      stopAndCopyMBps: value('stopAndCopyMBps'),
      syncSecondsPerPage: constants.syncSecondsPerPage,
      syncSecondsPerPagePerDirtyMBps: constants.syncSecondsPerPagePerDirtyMBps,
      syncScanSecondsPerPage: constants.syncScanSecondsPerPage,
      wordSyncSecondsPerPage: constants.wordSyncSecondsPerPage,
      costSpread: constants.costSpread,
      switchoverStallSeconds: constants.switchoverStallSeconds,
      tlbEntrySyncSeconds: constants.tlbEntrySyncSeconds,
      bootTlbEntries: constants.bootTlbEntries,
      targetStartSeconds: constants.targetStartSeconds,
    },
    vms: { guestOsMB: value('guestOsMB'), guestOsDirtyMBps: constants.guestOsDirtyMBps },
  };
}

const PLACEMENT = [
  { host: 'h1', vms: ['vm1'] },
  { host: 'h2', vms: [] },
];
/** The idle guest's non-zero memory in a guest of `ramMB`. */
function idleGuestMBOf(model: SimLabModel, ramMB: number): number {
  return (model.vms.guestOsMB ?? 0) + guestNonZeroPerRamMBOf(model) * ramMB;
}

export function guestNonZeroPerRamMBOf(model: SimLabModel): number {
  return model.guestNonZeroPerRamMB ?? LAB_GUEST_NONZERO_PER_RAM_MB;
}

/** The lab's hosts are QEMU processes on one machine: the stream goes over a unix socket, not a link. */
const LOOPBACK_MBPS = 1_000_000;
const PAGES_PER_MB = 256;
const BYTES_PER_MB = 1024 * 1024;
/** Mbit/s as QEMU's max-bandwidth reads it (10^6 bits), in the sim's MiB/s. */
const mibPerSecond = (mbps: number): number => (mbps * 1e6) / 8 / (1024 * 1024);

/**
 * Predicts calibration cases with the simulated datacenter: two hosts and one VM of the
 * case's RAM, the case's workload as the sim's clients, one migration after the warm-up.
 */
export function simCaseRunner(model: SimLabModel, settings: CaseSettings | ((migrationCase: MigrationCase) => CaseSettings)): CaseRunner {
  const settingsOf = typeof settings === 'function' ? settings : () => settings;
  return {
    run: (migrationCase, signal) => predictCase(model, settingsOf(migrationCase), migrationCase, signal),
    close: async () => {},
  };
}

async function predictCase(model: SimLabModel, settings: CaseSettings, migrationCase: MigrationCase, signal: AbortSignal): Promise<CaseResult> {
  const { workload } = migrationCase;
  const config = simConfigSchema.parse({
    profile: 'qemu',
    migration: {
      ...model.migration,
      maxBandwidthMBps: mibPerSecond(migrationCase.bandwidthMbps),
      downtimeLimitSeconds: migrationCase.downtimeLimitMs / 1000,
      convergenceTimeoutSeconds: settings.convergenceTimeoutSeconds,
    },
    hosts: { linkMbps: LOOPBACK_MBPS, memoryMB: 4 * migrationCase.ramMB + 1024 },
    vms: {
      ...model.vms,
      guestOsMB: idleGuestMBOf(model, migrationCase.ramMB),
      memoryMB: ramKiBOf(migrationCase) / 1024,
      tcgTlbEntries: sourceTlbEntriesOf(migrationCase, model.migration.bootTlbEntries ?? TLB_DEFAULT_ENTRIES),
    },
    workloads: workloadsConfig(workload, settings),
  });
  // Each repetition of a case is a run of its own, with its own draws of the profile's spreads; a case measured once is predicted as a typical migration.
  const { repetition } = migrationCase;
  const options = { configPath: undefined, seed: seedOf(migrationCase.id), placement: PLACEMENT, caFile: undefined, insecure: false };
  const platform = new SimPlatform(config, options, repetition === undefined ? 'median' : 'seeded');
  const clientType = clientTypeOf(workload);
  if (clientType) platform.createLoad(['vm1'], () => {}).addClients(clientType, 1);
  const { clock } = platform;
  const outcome = await clock.drive(
    (async (): Promise<MigrationOutcome> => {
      await clock.sleepUntil(settings.warmupSeconds, signal);
      return platform.migrate({ vm: 'vm1', source: 'h1', target: 'h2' }, signal);
    })(),
  );
  return resultOf(migrationCase.id, outcome, migrationProfileOf(config).resync);
}

/** A seed of its own for each case and repetition (seeds 1, 2, 3... draw alike at first). */
function seedOf(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32LE(0);
}

function clientTypeOf(workload: CaseWorkload): ClientType | null {
  switch (workload.kind) {
    case 'idle':
      return null;
    case 'memory':
      return 'memory';
    case 'dirty':
    case 'rewrite':
    case 'sweep':
      return 'memory2';
  }
}

/**
 * The seed's memory app as the case asks; the dirtier is the sim's memory2 at the case's rate,
 * the rewriter its random-order, prefilled form, the sweep its page-order, prefilled form.
 */
function workloadsConfig(workload: CaseWorkload, settings: CaseSettings): Record<string, unknown> {
  const longerThanTheCase = settings.warmupSeconds + settings.convergenceTimeoutSeconds + 60;
  switch (workload.kind) {
    case 'idle':
      return { jitter: 0 };
    case 'memory':
      return { jitter: 0, memory: { bufferMB: workload.bufferMB, sleepSeconds: workload.sleepMs / 1000 } };
    case 'dirty':
      return { jitter: 0, memory2: { bufferMB: workload.bufferMB, dirtyMBps: workload.rateMBps, seconds: longerThanTheCase } };
    case 'rewrite':
      return {
        jitter: 0,
        memory2: { bufferMB: workload.bufferMB, dirtyMBps: workload.rateMBps, seconds: longerThanTheCase, writeOrder: 'random', prefilled: true },
      };
    case 'sweep':
      return {
        jitter: 0,
        memory2: { bufferMB: workload.bufferMB, dirtyMBps: workload.rateMBps, seconds: longerThanTheCase, writeOrder: 'sweep', prefilled: true },
      };
  }
}

/** QEMU's setup-time: from the migration thread's setup (after connecting) to the first pass, which its first sync begins. */
function setupMsOf(progress: readonly PassProgress[] | undefined): number | null {
  const setup = progress?.find(({ status }) => status === 'setup');
  const first = progress?.find(({ status, pass }) => status === 'active' && pass === 1);
  return setup && first ? (first.at_s - setup.at_s) * 1000 : null;
}

function resultOf(id: string, outcome: MigrationOutcome, resync: MigrationProfile['resync']): CaseResult {
  const converged = outcome.status === 'succeeded';
  const progress = (outcome.details?.sim as { progress?: readonly PassProgress[] } | undefined)?.progress;
  return {
    id,
    converged,
    total_ms: (outcome.ended_s - outcome.started_s) * 1000,
    downtime_ms: converged ? outcome.downtime_ms : null,
    setup_ms: setupMsOf(progress),
    bytes: outcome.bytes ?? 0,
    // QEMU's dirty-sync-count: the sim's passes under QEMU's rule; at the end of each pass, one more (its passes end with a sync each, the first starts with one).
    passes: (outcome.passes ?? 0) + (resync === 'below-threshold' ? 0 : 1),
    reason: outcome.reason,
    ...(progress && { progress: progress.filter(({ status }) => status !== 'setup').map(({ at_s, pass, transferred, remaining }) => ({ at_s, pass, transferred, remaining })) }),
  };
}
