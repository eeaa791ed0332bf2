import { InputError } from '../errors.ts';
import { DEFAULT_POLICY_CONFIG, type PolicyConfig, type PolicySetup } from '../policy/policy-config.ts';
import type { Inventory, Platform } from '../platforms/platform.ts';
import type { RecordSink } from '../record/records.ts';
import type { Experiment } from '../script/experiment.ts';
import { TOOL_VERSION } from '../version.ts';
import { checkAgainstInventory, placementVms, policySteps } from '../script/validate.ts';
import type { Pace } from './clock.ts';
import { RunFailure } from './run-failure.ts';
import type { RunObserver } from './run-observer.ts';
import { runExperiment, type RunOutcome } from './runner.ts';

/** An experiment checked against the platform it will run on. */
export interface PreparedRun {
  experiment: Experiment;
  platform: Platform;
  inventory: Inventory;
  intervalSeconds: number;
  /** For a script with policy actions: the policy's parameters and each host's CPU capacity. */
  policy?: PolicySetup;
}

/**
 * Checks names against the platform's inventory, the interval against its limits and, for a
 * script with policy actions, that each host's capacity is known; starts nothing.
 */
export async function prepareRun(
  experiment: Experiment,
  platform: Platform,
  requestedIntervalSeconds?: number,
  policyConfig: PolicyConfig = DEFAULT_POLICY_CONFIG,
): Promise<PreparedRun> {
  const inventory = await platform.inventory();
  checkAgainstInventory(experiment, inventory);
  const intervalSeconds = requestedIntervalSeconds ?? platform.refreshSeconds;
  if (intervalSeconds < platform.minIntervalSeconds) {
    throw new InputError(`--interval ${intervalSeconds}: the ${platform.name} platform samples at most every ${platform.minIntervalSeconds} s`);
  }
  const policy = policyOf(experiment, platform.name, inventory, policyConfig);
  return { experiment, platform, inventory, intervalSeconds, ...(policy ? { policy } : {}) };
}

function policyOf(experiment: Experiment, platformName: string, inventory: Inventory, config: PolicyConfig): PreparedRun['policy'] {
  const first = policySteps(experiment)[0];
  if (first === undefined) return undefined;
  const underPlatform = experiment.placement.flatMap(({ host }) => {
    const by = inventory.automaticPlacement?.[host.name];
    return by === undefined ? [] : [`${host.name} (${by})`];
  });
  if (underPlatform.length > 0 && !config.alongsidePlatformPolicy) {
    throw new InputError(
      `the ${platformName} platform moves VMs of ${underPlatform.join(', ')} by itself, which would fight this tool's placement policy: set it to manual or off, or give alongsidePlatformPolicy: true in --policy FILE`,
      first.at,
    );
  }
  const given = config.drs.hostCpuMHz;
  const capacityMHz: Record<string, number> = {};
  for (const { host } of experiment.placement) {
    const capacity = typeof given === 'number' ? given : (given?.[host.name] ?? inventory.hostCpuMHz?.[host.name]);
    if (capacity === undefined) {
      throw new InputError(`the ${platformName} platform does not report the CPU capacity of host ${host.name}, which the placement policy weighs hosts by: give drs.hostCpuMHz in --policy FILE`, first.at);
    }
    capacityMHz[host.name] = capacity;
  }
  return { config, capacityMHz };
}

export interface ExecuteOptions {
  maxMigrationsPerHost: number;
  /** Ctrl-C. */
  signal: AbortSignal;
  /** Where the sinks of `records` report a write error; by default one of the run's own. */
  failure?: RunFailure;
  /** A slow consumer of records (stdout through a pipe) that a simulated run waits for. */
  pace?: Pace;
  /** Told of the timeline ahead and of migrations in flight (`run --serve`'s live view). */
  observer?: RunObserver;
}

/** Runs a prepared experiment to its end on the platform's clock, recording into `records`. */
export function executeRun(run: PreparedRun, records: RecordSink, options: ExecuteOptions): Promise<RunOutcome> {
  const { experiment, platform } = run;
  const load = platform.createLoad(placementVms(experiment), (record) => records.request(record));
  return platform.clock.drive(
    runExperiment(experiment, platform, run.inventory, load, records, {
      intervalSeconds: run.intervalSeconds,
      maxMigrationsPerHost: options.maxMigrationsPerHost,
      signal: options.signal,
      failure: options.failure ?? new RunFailure(),
      ...(run.policy ? { policy: run.policy } : {}),
      ...(options.observer ? { observer: options.observer } : {}),
    }),
    options.pace,
  );
}

/** What run.json says of a run when it starts. */
export function describeRun(
  run: PreparedRun,
  details: { scriptPath: string; scriptText: string; seed: number; maxMigrationsPerHost: number },
): Record<string, unknown> {
  return {
    tool: 'vm-monitoring',
    version: TOOL_VERSION,
    node: process.version,
    script: { path: details.scriptPath, text: details.scriptText },
    platform: run.platform.describe(),
    seed: details.seed,
    interval_s: run.intervalSeconds,
    max_migrations_per_host: details.maxMigrationsPerHost,
    ...(run.policy ? { policy: { ...run.policy.config, host_cpu_mhz: run.policy.capacityMHz } } : {}),
    started_at: new Date().toISOString(),
  };
}
