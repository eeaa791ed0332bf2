import type { ActionRecord, DecisionRecord, MigrationRecord, RecordSink, RequestRecord, SampleRecord } from '../../src/record/records.ts';
import { simConfigSchema } from '../../src/platforms/sim/config.ts';
import { policyConfigSchema } from '../../src/policy/policy-config.ts';
import { SimPlatform } from '../../src/platforms/sim/sim-platform.ts';
import type { RunOutcome } from '../../src/run/runner.ts';
import { executeRun, prepareRun } from '../../src/run/session.ts';
import { parseScript } from '../../src/script/parse.ts';
import { placementOf, policySteps } from '../../src/script/validate.ts';

export interface CollectedRun extends RecordSink {
  samples: SampleRecord[];
  actions: ActionRecord[];
  migrations: MigrationRecord[];
  requests: RequestRecord[];
  decisions: DecisionRecord[];
  outcome: RunOutcome;
}

/** Runs a script on the sim in this process, as the CLI does, keeping every record in memory. */
export async function runOnSim(
  script: string,
  config: unknown = {},
  options: { seed?: number; intervalSeconds?: number; maxMigrationsPerHost?: number; signal?: AbortSignal; policy?: unknown } = {},
): Promise<CollectedRun> {
  const experiment = parseScript(script, 'test.txt');
  const platform = new SimPlatform(simConfigSchema.parse(config), { configPath: undefined, seed: options.seed ?? 1, placement: placementOf(experiment), caFile: undefined, insecure: false, meterPower: policySteps(experiment).length > 0 });
  const prepared = await prepareRun(experiment, platform, options.intervalSeconds, policyConfigSchema.parse(options.policy ?? {}));
  const run = {
    samples: [] as SampleRecord[],
    actions: [] as ActionRecord[],
    migrations: [] as MigrationRecord[],
    requests: [] as RequestRecord[],
    decisions: [] as DecisionRecord[],
    sample(record: SampleRecord) { run.samples.push(record); },
    action(record: ActionRecord) { run.actions.push(record); },
    migration(record: MigrationRecord) { run.migrations.push(record); },
    request(record: RequestRecord) { run.requests.push(record); },
    decision(record: DecisionRecord) { run.decisions.push(record); },
  };
  const outcome = await executeRun(prepared, run, {
    maxMigrationsPerHost: options.maxMigrationsPerHost ?? 4,
    signal: options.signal ?? new AbortController().signal,
  });
  return { ...run, outcome };
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

export function meanOfCounter(run: CollectedRun, host: string, counter: string): number {
  return mean(run.samples.filter((s) => s.host === host && s.counter === counter).map((s) => s.value));
}
