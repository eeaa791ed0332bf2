/**
 * Runs one script on the simulated datacenter in this process, composed as `vm-monitoring run`
 * composes it (src/cli/run-command.ts), minus the terminal: the stdout CSV is formatted and
 * thrown away, and there is no progress line or Ctrl-C handling.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { openSimPlatform } from '../src/platforms/sim/sim-platform.ts';
import { fanOut } from '../src/record/fan-out.ts';
import type { RecordSink } from '../src/record/records.ts';
import { RunDirectory } from '../src/record/run-directory.ts';
import { StdoutCsv } from '../src/record/stdout-csv.ts';
import { describeRun, executeRun, prepareRun } from '../src/run/session.ts';
import { parseScript } from '../src/script/parse.ts';
import { placementOf } from '../src/script/validate.ts';

export interface SimRunOptions {
  configPath: string | undefined;
  /** The run directory to create; it must be missing or empty. */
  outDir: string;
  /** The sampling interval; by default the platform's refresh rate, as the CLI does. */
  intervalSeconds?: number;
  seed?: number;
  maxMigrationsPerHost?: number;
}

export interface SimRunResult {
  status: string;
  simSeconds: number;
  /** From reading the script to the run directory being closed. */
  wallSeconds: number;
  intervalSeconds: number;
  rows: { samples: number; actions: number; migrations: number; requests: number };
  /** Migrations that did not succeed, and the time actions waited for a migration slot. */
  failedMigrations: number;
  postponedSeconds: number;
  /** Total size of the run directory's files. */
  bytes: number;
}

type Tally = Pick<SimRunResult, 'rows' | 'failedMigrations' | 'postponedSeconds'>;

/** Counts the rows each record type adds to the run directory, failed migrations and postponements. */
function tally(): RecordSink & Tally {
  const rows = { samples: 0, actions: 0, migrations: 0, requests: 0 };
  const sink: RecordSink & Tally = {
    rows,
    failedMigrations: 0,
    postponedSeconds: 0,
    sample: () => void rows.samples++,
    action: (record) => {
      rows.actions++;
      sink.postponedSeconds += record.postponed_ms / 1000;
    },
    migration: (record) => {
      rows.migrations++;
      if (record.status !== 'succeeded') sink.failedMigrations++;
    },
    request: () => void rows.requests++,
    decision: () => undefined,
  };
  return sink;
}

export async function runOnSim(scriptPath: string, options: SimRunOptions): Promise<SimRunResult> {
  const seed = options.seed ?? 1;
  const maxMigrationsPerHost = options.maxMigrationsPerHost ?? 4;
  const wallStart = performance.now();

  const text = readFileSync(scriptPath, 'utf8');
  const experiment = parseScript(text, scriptPath);
  const platform = openSimPlatform({ configPath: options.configPath, seed, placement: placementOf(experiment), caFile: undefined, insecure: false });
  const prepared = await prepareRun(experiment, platform, options.intervalSeconds);
  const intervalSeconds = prepared.intervalSeconds;

  const runDirectory = RunDirectory.open(
    options.outDir,
    describeRun(prepared, { scriptPath, scriptText: text, seed, maxMigrationsPerHost }),
  );
  const stdout = new StdoutCsv(() => {});
  const counter = tally();
  const records = fanOut(runDirectory, stdout, counter);

  const outcome = await executeRun(prepared, records, { maxMigrationsPerHost, signal: new AbortController().signal });
  const status = outcome.failedSetup.length > 0 ? 'failed' : outcome.status;
  stdout.close();
  runDirectory.finish({ status, ended_at: new Date().toISOString(), run_seconds: outcome.endedS });
  await platform.close();

  return {
    status,
    simSeconds: outcome.endedS,
    wallSeconds: (performance.now() - wallStart) / 1000,
    intervalSeconds,
    rows: counter.rows,
    failedMigrations: counter.failedMigrations,
    postponedSeconds: counter.postponedSeconds,
    bytes: directoryBytes(options.outDir),
  };
}

function directoryBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0);
}
