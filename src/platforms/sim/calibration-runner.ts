import type { ParameterSpec, ParameterValues } from '../../calibrate/fit.ts';
import { median } from '../../report/statistics.ts';
import type { CaseResult, CaseRunner, CaseSettings, CaseWorkload, MigrationCase } from '../../calibrate/migration-case.ts';
import type { ClientType } from '../../script/experiment.ts';
import type { MigrationOutcome } from '../platform.ts';
import { migrationProfileOf, simConfigSchema, type VmsConfig } from './config.ts';
import type { MigrationProfile } from './profiles.ts';
import { SimPlatform } from './sim-platform.ts';

/** What the calibration fits: the migration profile and the idle guest, over the `qemu` profile. */
export interface SimLabModel {
  migration: Partial<MigrationProfile>;
  vms: Partial<VmsConfig>;
}

/**
 * The sim's parameters a calibration against the qemu lab fits, with the bounds it searches:
 * the fixed costs from the migrate command to the first page (connect, thread start) and of
 * the switchover (device state), the bytes a zero page costs, the speed of QEMU's unthrottled
 * sender (its final copy, and each window's burst), and the idle guest's non-zero memory.
 * What the source fixes is not fitted: QEMU's resync rule and rate windows (the `qemu`
 * profile), a stream at its full cap (the lab's windows measure cap + 0.1 %), and the setup
 * sync's cost per page (measured, below).
 */
export const FITTED_PARAMETERS: readonly ParameterSpec[] = [
  { name: 'setupSeconds', min: 0.001, max: 2, scale: 'log' },
  { name: 'switchoverSeconds', min: 0.0005, max: 0.5, scale: 'log' },
  { name: 'stopAndCopyMBps', min: 50, max: 20_000, scale: 'log' },
  { name: 'guestOsMB', min: 1, max: 200, scale: 'log' },
];

/** A zero page on the wire: an 8-byte page header and the fill byte (save_zero_page_to_file, ram.c:1257-1270). */
const ZERO_PAGE_BYTES = 9;

/**
 * The idle guest's non-zero memory that grows with its RAM (the kernel's page descriptors,
 * 64 bytes per 4 KiB page, and page tables), measured: the idle cases of
 * measured-2026-11-25 sent a median 14,266 normal pages at 256 MB and 15,378 at 512 MB.
 */
export const LAB_GUEST_NONZERO_PER_RAM_MB = 0.01696;

/**
 * Seconds a dirty-bitmap sync of the lab's QEMU takes per page dirty in its log, measured:
 * the median over the idle cases of samples/calibrate/measured-2026-11-25 of setup_ms per
 * page of RAM (setup is sync #1, every page dirty; 256 and 512 MB give 1.11-1.18 µs, two
 * outliers 1.4 and 1.9, no fixed part), as `syncSecondsPerPageOf` reads it.
 */
export const LAB_SYNC_SECONDS_PER_PAGE = 1.167e-6;

/**
 * What a sync of the lab's QEMU costs more per page for each MB/s the guest writes, measured:
 * in the 216 passes of the 150 MB/s cases at 300 and 1000 Mbit/s in
 * measured-details.jsonl, QEMU sent nothing for a median 17.1 µs per page pending after each
 * sync (pass duration less its bytes at the cap), against 1.167 µs idle: (17.1 - 1.167) / 150.
 */
export const LAB_SYNC_SECONDS_PER_PAGE_PER_DIRTY_MBPS = 1.062e-7;

/** The median setup time per page of RAM over a grid's idle cases: the lab's sync cost per dirty page. */
export function syncSecondsPerPageOf(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>): number | null {
  const perPage = cases.flatMap((migrationCase) => {
    const setupMs = measured.get(migrationCase.id)?.setup_ms;
    return migrationCase.workload.kind === 'idle' && setupMs != null ? [setupMs / 1000 / (migrationCase.ramMB * PAGES_PER_MB)] : [];
  });
  return median(perPage);
}

export function simLabModelOf(values: ParameterValues): SimLabModel {
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
      linkEfficiency: 1,
      maxStreamMBps: null,
      stopAndCopyMBps: value('stopAndCopyMBps'),
      syncSecondsPerPage: LAB_SYNC_SECONDS_PER_PAGE,
      syncSecondsPerPagePerDirtyMBps: LAB_SYNC_SECONDS_PER_PAGE_PER_DIRTY_MBPS,
    },
    vms: { guestOsMB: value('guestOsMB') },
  };
}

const PLACEMENT = [
  { host: 'h1', vms: ['vm1'] },
  { host: 'h2', vms: [] },
];
/** The lab's hosts are QEMU processes on one machine: the stream goes over a unix socket, not a link. */
const LOOPBACK_MBPS = 1_000_000;
const PAGES_PER_MB = 256;
/** Mbit/s as QEMU's max-bandwidth reads it (10^6 bits), in the sim's MiB/s. */
const mibPerSecond = (mbps: number): number => (mbps * 1e6) / 8 / (1024 * 1024);

/**
 * Predicts calibration cases with the simulated datacenter: two hosts and one VM of the
 * case's RAM, the case's workload as the sim's clients, one migration after the warm-up.
 */
export function simCaseRunner(model: SimLabModel, settings: CaseSettings): CaseRunner {
  return {
    run: (migrationCase, signal) => predictCase(model, settings, migrationCase, signal),
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
    vms: { ...model.vms, guestOsMB: (model.vms.guestOsMB ?? 0) + LAB_GUEST_NONZERO_PER_RAM_MB * migrationCase.ramMB, memoryMB: migrationCase.ramMB },
    workloads: workloadsConfig(workload, settings),
  });
  const platform = new SimPlatform(config, { configPath: undefined, seed: 1, placement: PLACEMENT, caFile: undefined, insecure: false });
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

function clientTypeOf(workload: CaseWorkload): ClientType | null {
  switch (workload.kind) {
    case 'idle':
      return null;
    case 'memory':
      return 'memory';
    case 'dirty':
      return 'memory2';
  }
}

/** The seed's memory app as the case asks; the dirtier is the sim's memory2 at the case's rate. */
function workloadsConfig(workload: CaseWorkload, settings: CaseSettings): Record<string, unknown> {
  const longerThanTheCase = settings.warmupSeconds + settings.convergenceTimeoutSeconds + 60;
  switch (workload.kind) {
    case 'idle':
      return { jitter: 0 };
    case 'memory':
      return { jitter: 0, memory: { bufferMB: workload.bufferMB, sleepSeconds: workload.sleepMs / 1000 } };
    case 'dirty':
      return { jitter: 0, memory2: { bufferMB: workload.bufferMB, dirtyMBps: workload.rateMBps, seconds: longerThanTheCase } };
  }
}

function resultOf(id: string, outcome: MigrationOutcome, resync: MigrationProfile['resync']): CaseResult {
  const converged = outcome.status === 'succeeded';
  return {
    id,
    converged,
    total_ms: (outcome.ended_s - outcome.started_s) * 1000,
    downtime_ms: converged ? outcome.downtime_ms : null,
    setup_ms: null,
    bytes: outcome.bytes ?? 0,
    // QEMU's dirty-sync-count: the sim's passes under QEMU's rule; at the end of each pass, one more (its passes end with a sync each, the first starts with one).
    passes: (outcome.passes ?? 0) + (resync === 'below-threshold' ? 0 : 1),
    reason: outcome.reason,
  };
}
