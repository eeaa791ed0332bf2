/**
 * Runs one script on the simulated datacenter in this process, composed as `vm-monitoring run`
 * composes it (src/cli/run-command.ts), minus the terminal: the stdout CSV is formatted and
 * thrown away, and there is no progress line or Ctrl-C handling.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { TOOL_VERSION } from '../src/cli/version.ts';
import { openSimPlatform } from '../src/platforms/sim/sim-platform.ts';
import { fanOut } from '../src/record/fan-out.ts';
import type { RecordSink } from '../src/record/records.ts';
import { RunDirectory } from '../src/record/run-directory.ts';
import { StdoutCsv } from '../src/record/stdout-csv.ts';
import { runExperiment } from '../src/run/runner.ts';
import { parseScript } from '../src/script/parse.ts';
import { checkAgainstInventory, placementVms } from '../src/script/validate.ts';

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
  };
  return sink;
}

export async function runOnSim(scriptPath: string, options: SimRunOptions): Promise<SimRunResult> {
  const seed = options.seed ?? 1;
  const maxMigrationsPerHost = options.maxMigrationsPerHost ?? 4;
  const wallStart = performance.now();

  const text = readFileSync(scriptPath, 'utf8');
  const experiment = parseScript(text, scriptPath);
  const placement = experiment.placement.map((entry) => ({ host: entry.host.name, vms: entry.vms.map((vm) => vm.name) }));
  const platform = openSimPlatform({ configPath: options.configPath, seed, placement });
  const inventory = await platform.inventory();
  checkAgainstInventory(experiment, inventory);
  const intervalSeconds = options.intervalSeconds ?? platform.refreshSeconds;

  const runDirectory = RunDirectory.open(options.outDir, {
    tool: 'vm-monitoring',
    version: TOOL_VERSION,
    node: process.version,
    script: { path: scriptPath, text },
    platform: platform.describe(),
    seed,
    interval_s: intervalSeconds,
    max_migrations_per_host: maxMigrationsPerHost,
    started_at: new Date().toISOString(),
  });
  const stdout = new StdoutCsv(() => {});
  const counter = tally();
  const records = fanOut(runDirectory, stdout, counter);

  const load = platform.createLoad(placementVms(experiment), records.request.bind(records));
  const outcome = await platform.clock.drive(
    runExperiment(experiment, platform, inventory, load, records, {
      intervalSeconds,
      maxMigrationsPerHost,
      signal: new AbortController().signal,
    }),
  );
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
