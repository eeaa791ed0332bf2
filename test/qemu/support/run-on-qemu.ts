import type { PlatformOptions } from '../../../src/platforms/platform.ts';
import { openQemuPlatform, type QemuPlatform } from '../../../src/platforms/qemu/qemu-platform.ts';
import type { ActionRecord, MigrationRecord, RecordSink, RequestRecord, SampleRecord } from '../../../src/record/records.ts';
import type { RunOutcome } from '../../../src/run/runner.ts';
import { describeRun, executeRun, prepareRun } from '../../../src/run/session.ts';
import { parseScript } from '../../../src/script/parse.ts';
import { placementOf } from '../../../src/script/validate.ts';

export interface QemuRun {
  samples: SampleRecord[];
  actions: ActionRecord[];
  migrations: MigrationRecord[];
  requests: RequestRecord[];
  outcome: RunOutcome;
  runJson: Record<string, unknown>;
}

/** Platform options as the CLI builds them (no TLS settings: the lab is reached over unix sockets). */
export function platformOptions(configPath: string | undefined, placement: PlatformOptions['placement']): PlatformOptions {
  return { configPath, seed: 1, placement, caFile: undefined, insecure: false };
}

/** Opens the qemu platform for `script` with the config at `configPath`. */
export async function openForScript(script: string, configPath: string): Promise<QemuPlatform> {
  return openQemuPlatform(platformOptions(configPath, placementOf(parseScript(script, 'test.txt'))));
}

/** Runs `script` on an open qemu platform in this process, as the CLI does, keeping every record. */
export async function runOnQemu(
  platform: QemuPlatform,
  script: string,
  options: { intervalSeconds?: number; signal?: AbortSignal } = {},
): Promise<QemuRun> {
  const experiment = parseScript(script, 'test.txt');
  const prepared = await prepareRun(experiment, platform, options.intervalSeconds);
  const runJson = describeRun(prepared, { scriptPath: 'test.txt', scriptText: script, seed: 1, maxMigrationsPerHost: 4 });
  const run = {
    samples: [] as SampleRecord[],
    actions: [] as ActionRecord[],
    migrations: [] as MigrationRecord[],
    requests: [] as RequestRecord[],
  };
  const sink: RecordSink = {
    sample: (record) => run.samples.push(record),
    action: (record) => run.actions.push(record),
    migration: (record) => run.migrations.push(record),
    request: (record) => run.requests.push(record),
  };
  const outcome = await executeRun(prepared, sink, { maxMigrationsPerHost: 4, signal: options.signal ?? new AbortController().signal });
  return { ...run, outcome, runJson };
}
