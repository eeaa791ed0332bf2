import path from 'node:path';
import { InputError } from '../errors.ts';
import type { DecisionRecord, MigrationRecord } from '../record/records.ts';
import { slug, uniqueNames } from './names.ts';
import { HostCounterSeries, hostReceivingMostMigrations, type HostCounters } from './counter-series.ts';
import { IntegritySummary, type RunIntegrity } from './integrity-summary.ts';
import { MigrationRequestTally, type TouchedRequests } from './migration-requests.ts';
import { readFlaggedMigrations, withMigrationDetails } from './read-migration-details.ts';
import { hasPlacementPolicy, PolicyRecords, type PolicySummary } from './policy-records.ts';
import { assertRunNotEmpty, readActions, readDecisions, readMigrations, readRunInfo, streamRequests, streamSamples, type RunInfo } from './read-run.ts';
import { ServerPerformance, type ServerPerformanceResult } from './server-performance.ts';
import type { BucketSeries } from './time-buckets.ts';

export interface LabelledRun {
  dir: string;
  /** By default the script's file name without its extension. */
  label?: string;
}

/** Everything the report shows of one run, read in one pass over its files. */
export interface RunSummary {
  dir: string;
  label: string;
  /** Unique among the runs and safe in file names: names the run's charts. */
  fileId: string;
  info: RunInfo;
  /** With their lines of migration-details.jsonl, where the run has them. */
  migrations: MigrationRecord[];
  /** What each migration touched, in the order of `migrations`. */
  touched: TouchedRequests[];
  performance: ServerPerformanceResult;
  latency: BucketSeries;
  counters: HostCounters;
  integrity: RunIntegrity;
  /** Undefined for a run without a placement policy (see hasPlacementPolicy). */
  policy: PolicySummary | undefined;
}

/** A run with a placement policy. */
export type PolicyRun = RunSummary & { policy: PolicySummary };

export function policyRuns(runs: readonly RunSummary[]): PolicyRun[] {
  return runs.filter((run): run is PolicyRun => run.policy !== undefined);
}

function scriptLabel(info: RunInfo, dir: string): string {
  const script = info.script as { path?: unknown } | undefined;
  return typeof script?.path === 'string' ? path.basename(script.path, path.extname(script.path)) : path.basename(path.resolve(dir));
}

/**
 * Reads the runs: run.json, migrations and decisions first, so that the host to chart can be
 * chosen (`host`, else the one receiving most migrations over all runs), then streams each
 * run's requests and samples once.
 */
export async function loadRuns(runs: readonly LabelledRun[], host: string | undefined): Promise<{ host: string | undefined; runs: RunSummary[] }> {
  const heads: { dir: string; info: RunInfo; migrations: MigrationRecord[]; decisions: DecisionRecord[] | undefined; label: string }[] = [];
  for (const run of runs) {
    const info = await readRunInfo(run.dir);
    await assertRunNotEmpty(run.dir);
    const migrations = await withMigrationDetails(run.dir, await readMigrations(run.dir));
    const decisions = await readDecisions(run.dir);
    heads.push({ dir: run.dir, info, migrations, decisions, label: run.label ?? scriptLabel(info, run.dir) });
  }
  // Two runs of one script stay apart in every table and file.
  const labels = uniqueNames(
    heads.map((head) => head.label),
    (label, n) => `${label} (${n})`,
  );
  const fileIds = uniqueNames(
    labels.map((label) => slug(label) || 'run'),
    (id, n) => `${id}-${n}`,
  );
  const chartedHost = host ?? hostReceivingMostMigrations(heads.flatMap((head) => head.migrations));

  const summaries: RunSummary[] = [];
  for (const [i, head] of heads.entries()) {
    const performance = new ServerPerformance(head.migrations);
    const touched = new MigrationRequestTally(head.migrations);
    const integrity = new IntegritySummary(head.migrations, await readFlaggedMigrations(head.dir));
    const policy = hasPlacementPolicy(head.decisions, head.migrations)
      ? new PolicyRecords({ ...head, decisions: head.decisions ?? [], actions: await readActions(head.dir) })
      : undefined;
    await streamRequests(head.dir, (request) => {
      performance.add(request);
      touched.add(request);
      integrity.add(request);
      policy?.addRequest(request);
    });
    const counters = new HostCounterSeries(chartedHost);
    await streamSamples(head.dir, (sample) => {
      counters.add(sample);
      policy?.addSample(sample);
    });
    summaries.push({
      dir: head.dir,
      label: labels[i] as string,
      fileId: fileIds[i] as string,
      info: head.info,
      migrations: head.migrations,
      touched: touched.result(),
      performance: performance.result(),
      latency: performance.latencyOverTime(),
      counters: counters.result(),
      integrity: integrity.result(),
      policy: policy?.result(),
    });
  }
  if (host !== undefined && summaries.every((run) => !run.counters.hostsSeen.includes(host))) {
    const known = [...new Set(summaries.flatMap((run) => run.counters.hostsSeen))].join(', ');
    throw new InputError(`--host ${host}: no samples of that host in these runs (hosts: ${known})`);
  }
  return { host: chartedHost ?? summaries[0]?.counters.host, runs: summaries };
}
