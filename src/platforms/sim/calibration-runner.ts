import type { ParameterSpec, ParameterValues } from '../../calibrate/fit.ts';
import type { CaseResult, CaseRunner, CaseSettings, CaseWorkload, MigrationCase } from '../../calibrate/migration-case.ts';
import type { ClientType } from '../../script/experiment.ts';
import type { MigrationOutcome } from '../platform.ts';
import { simConfigSchema, type VmsConfig } from './config.ts';
import type { MigrationProfile } from './profiles.ts';
import { SimPlatform } from './sim-platform.ts';

/** What the calibration fits: the migration profile and the idle guest, over the `qemu` profile. */
export interface SimLabModel {
  migration: Partial<MigrationProfile>;
  vms: Partial<VmsConfig>;
}

/** The sim's parameters a calibration against the qemu lab fits, with the bounds it searches. */
export const FITTED_PARAMETERS: readonly ParameterSpec[] = [
  { name: 'setupSeconds', min: 0.001, max: 2, scale: 'log' },
  { name: 'switchoverSeconds', min: 0.001, max: 0.5, scale: 'log' },
  { name: 'zeroPageBytes', min: 1, max: 4096, scale: 'log' },
  { name: 'linkEfficiency', min: 0.5, max: 1.1, scale: 'linear' },
  { name: 'maxStreamMBps', min: 20, max: 2000, scale: 'log' },
  { name: 'stopAndCopyMBps', min: 50, max: 20_000, scale: 'log' },
  { name: 'guestOsMB', min: 1, max: 200, scale: 'log' },
];

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
      zeroPageBytes: value('zeroPageBytes'),
      linkEfficiency: value('linkEfficiency'),
      maxStreamMBps: value('maxStreamMBps'),
      stopAndCopyMBps: value('stopAndCopyMBps'),
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
    vms: { ...model.vms, memoryMB: migrationCase.ramMB },
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
  return resultOf(migrationCase.id, outcome);
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

function resultOf(id: string, outcome: MigrationOutcome): CaseResult {
  const converged = outcome.status === 'succeeded';
  return {
    id,
    converged,
    total_ms: (outcome.ended_s - outcome.started_s) * 1000,
    downtime_ms: converged ? outcome.downtime_ms : null,
    setup_ms: null,
    bytes: outcome.bytes ?? 0,
    // QEMU counts one more bitmap sync than the sim counts passes: the one that starts the first pass.
    passes: (outcome.passes ?? 0) + 1,
    reason: outcome.reason,
  };
}
