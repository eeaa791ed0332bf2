import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appCostOf, type AppCostComparison } from '../calibrate/app-cost.ts';
import { InputError } from '../errors.ts';
import { loadSimConfig } from '../platforms/sim/config.ts';
import { PROFILES, type MigrationProfile } from '../platforms/sim/profiles.ts';
import { SimPlatform } from '../platforms/sim/sim-platform.ts';
import type { MigrationRecord, RequestRecord } from '../record/records.ts';
import { withMigrationDetails } from '../report/read-migration-details.ts';
import { readMigrations, readRunInfo, streamRequests, type RunInfo } from '../report/read-run.ts';
import { executeRun, prepareRun } from '../run/session.ts';
import { parseScript } from '../script/parse.ts';
import { placementOf } from '../script/validate.ts';

/** The lab runs whose application cost `calibrate --app-cost` compares, each with the sim config of its twin. */
export interface AppCostInput {
  runs: string[];
  /** One twin for every run, or one per run in order. */
  twins: string[];
}

/** The lab's twin of the seed's 3.3 experiment, the default --twin. */
export const DEFAULT_TWIN = fileURLToPath(new URL('../../samples/qemu/sim.yaml', import.meta.url));

function pairTwins({ runs, twins }: AppCostInput): { run: string; twin: string }[] {
  if (twins.length === 0) return runs.map((run) => ({ run, twin: DEFAULT_TWIN }));
  if (twins.length !== 1 && twins.length !== runs.length) {
    throw new InputError(`${twins.length} --twin for ${runs.length} --app-cost: give one twin config for all lab runs, or one per run in the same order`);
  }
  return runs.map((run, index) => ({ run, twin: twins.length === 1 ? (twins[0] as string) : (twins[index] as string) }));
}

/** Reads what the comparison needs of each run and twin, so that a bad one stops the command before any measuring or fitting. */
export async function checkAppCostInput(input: AppCostInput): Promise<void> {
  if (input.runs.length === 0 && input.twins.length > 0) throw new InputError('--twin goes with --app-cost: the twin config of a lab run whose application cost is compared');
  for (const { run, twin } of pairTwins(input)) {
    scriptTextOf(await readRunInfo(run), run);
    loadSimConfig(twin);
  }
}

/**
 * Each lab run against the sim running its script (from its run.json) on its twin config, the
 * twin's migration parameters over `migration` (the fitted or checked profile's, over QEMU's
 * built-in one as calibrate's profiles are): the twin's own overrides (the lab's bandwidth,
 * limits and slowdowns) win, as they describe the experiment.
 */
export async function compareAppCosts(input: AppCostInput, migration: Partial<MigrationProfile>): Promise<AppCostComparison[]> {
  const profile: MigrationProfile = { ...PROFILES.qemu, ...migration };
  const comparisons: AppCostComparison[] = [];
  for (const { run, twin } of pairTwins(input)) {
    const info = await readRunInfo(run);
    const scriptText = scriptTextOf(info, run);
    const labMigrations = await withMigrationDetails(run, await readMigrations(run));
    const lab = await appCostOf(labMigrations, (add) => streamRequests(run, add));
    const simRun = await runTwin(scriptText, twin, profile, info, run);
    const sim = await appCostOf(simRun.migrations, (add) => simRun.requests.forEach(add));
    comparisons.push({ run: path.basename(path.resolve(run)), loads: loadsOf(scriptText, run), lab, sim });
  }
  return comparisons;
}

function scriptTextOf(info: RunInfo, run: string): string {
  const script = info.script as { text?: unknown } | undefined;
  if (typeof script?.text !== 'string') throw new InputError(`${path.join(run, 'run.json')}: no script.text: the run's script is needed to run its twin`);
  return script.text;
}

function loadsOf(scriptText: string, run: string): string {
  const types = new Set<string>();
  for (const step of parseScript(scriptText, path.join(run, 'run.json')).steps) if (step.action.kind === 'add-client') types.add(step.action.clientType);
  return [...types].join(', ');
}

async function runTwin(
  scriptText: string,
  twinPath: string,
  profile: MigrationProfile,
  info: RunInfo,
  run: string,
): Promise<{ migrations: MigrationRecord[]; requests: RequestRecord[] }> {
  const experiment = parseScript(scriptText, path.join(run, 'run.json'));
  const twin = loadSimConfig(twinPath);
  // The twin's migration entries are only the file's own (the schema fills in none there).
  const config = { ...twin, migration: { ...profile, ...twin.migration } };
  const seed = typeof info.seed === 'number' ? info.seed : 1;
  const maxMigrationsPerHost = typeof info.max_migrations_per_host === 'number' ? info.max_migrations_per_host : 4;
  const platform = new SimPlatform(config, { configPath: twinPath, seed, placement: placementOf(experiment), caFile: undefined, insecure: false });
  const prepared = await prepareRun(experiment, platform);
  const migrations: MigrationRecord[] = [];
  const requests: RequestRecord[] = [];
  const outcome = await executeRun(
    prepared,
    { sample: () => {}, action: () => {}, migration: (record) => migrations.push(record), request: (record) => requests.push(record), decision: () => {} },
    { maxMigrationsPerHost, signal: new AbortController().signal },
  );
  if (outcome.status !== 'completed') throw new InputError(`${twinPath}: the twin of ${run} did not complete (${outcome.status})`);
  return { migrations, requests };
}
