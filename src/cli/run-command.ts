import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { MAX_SCRIPT_BYTES } from '../input-limits.ts';
import { DEFAULT_PLATFORM, PLATFORMS } from '../platforms/registry.ts';
import { startLiveServer, type LiveServer } from '../live/live-server.ts';
import { LiveState } from '../live/live-state.ts';
import { RunMetrics } from '../live/run-metrics.ts';
import type { RunObserver } from '../run/run-observer.ts';
import { parseServeAddress } from '../live/serve-address.ts';
import { loadPolicyConfig } from '../policy/policy-config.ts';
import { VirtualClock } from '../run/virtual-clock.ts';
import { fanOut } from '../record/fan-out.ts';
import { buildReport } from '../report/build-report.ts';
import { RunDirectory } from '../record/run-directory.ts';
import { StdoutCsv } from '../record/stdout-csv.ts';
import { StdoutStream } from '../record/stdout-stream.ts';
import { RunFailure } from '../run/run-failure.ts';
import type { RunOutcome } from '../run/runner.ts';
import { describeRun, executeRun, prepareRun, type PreparedRun } from '../run/session.ts';
import { readInputFile } from '../read-input-file.ts';
import { parseScript } from '../script/parse.ts';
import { placementOf, policySteps } from '../script/validate.ts';
import { commandLine } from './command-line.ts';
import { Progress } from './progress.ts';

export interface RunFlags {
  platform: string;
  config?: string;
  policy?: string;
  out?: string;
  interval?: number;
  seed: number;
  maxMigrationsPerHost: number;
  report?: boolean;
  caFile?: string;
  insecure?: boolean;
  /** [HOST:]PORT to serve the live page and the run's /metrics on while it goes (and write the report). */
  serve?: string;
  serveBeyondLoopback?: boolean;
  /** Experiment seconds per wall second, for a virtual clock. */
  pace?: number;
}

export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_INTERRUPTED = 130;

function readScript(file: string): string {
  return readInputFile(file, 'script', MAX_SCRIPT_BYTES);
}

/** `parent/<UTC time of now>`, e.g. `runs/2026-11-25T04-30-00Z`. */
export function timestampedDirectory(parent: string): string {
  return path.join(parent, new Date().toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-'));
}

/**
 * Ctrl-C (or SIGTERM, so that a killed tool still takes down what it brought up): the first
 * stops the work cleanly (saying how), a second quits at once after saving what was recorded.
 */
export function watchInterrupts(saveNow: () => void, stopping: string): { signal: AbortSignal; dispose(): void } {
  const interrupt = new AbortController();
  const onSignal = (): void => {
    if (interrupt.signal.aborted) {
      saveNow();
      process.exit(EXIT_INTERRUPTED);
    }
    process.stderr.write(`\ninterrupted: ${stopping} (Ctrl-C again to quit at once)\n`);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: interrupt.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** `vm-monitoring run`: returns the exit code; bad input throws InputError. */
export async function runCommand(scriptPath: string, flags: RunFlags): Promise<number> {
  const scriptText = readScript(scriptPath);
  const experiment = parseScript(scriptText, scriptPath);
  const policyConfig = loadPolicyConfig(flags.policy);
  const serveAddress = flags.serve === undefined ? undefined : parseServeAddress(flags.serve, flags.serveBeyondLoopback ?? false);
  const openPlatform = PLATFORMS[flags.platform];
  if (!openPlatform) {
    throw new InputError(`unknown platform '${flags.platform}' (known: ${Object.keys(PLATFORMS).join(', ')}; default ${DEFAULT_PLATFORM})`);
  }
  let runDirectory: RunDirectory | undefined;
  const failure = new RunFailure();
  const interrupts = watchInterrupts(() => runDirectory?.flush(), 'stopping clients and taking a last sample');
  const platform = await openPlatform({
    configPath: flags.config,
    seed: flags.seed,
    placement: placementOf(experiment),
    meterPower: policySteps(experiment).length > 0,
    caFile: flags.caFile,
    insecure: flags.insecure ?? false,
  });
  let live: LiveServer | undefined;
  let reportHtml: string | undefined;
  try {
    if (flags.pace !== undefined) {
      if (!(platform.clock instanceof VirtualClock)) throw new InputError(`--pace ${flags.pace}: the ${platform.name} platform runs in real time; only the sim's virtual clock can be paced`);
      platform.clock.paceAt(flags.pace);
    }
    const prepared = await prepareRun(experiment, platform, flags.interval, policyConfig);
    if (interrupts.signal.aborted) return EXIT_INTERRUPTED;
    let watchers: Watchers | undefined;
    if (serveAddress) {
      // The latency buckets as wide as the sampling interval: one point per sample on both charts.
      watchers = { metrics: new RunMetrics(), live: new LiveState(prepared.intervalSeconds) };
      live = await startLiveServer(serveAddress, watchers);
      process.stderr.write(`serving the live view at ${live.url}/ and the metrics at ${live.url}/metrics until it ends\n`);
    }
    runDirectory = RunDirectory.open(
      flags.out ?? timestampedDirectory('runs'),
      describeRun(prepared, { scriptPath, scriptText, seed: flags.seed, maxMigrationsPerHost: flags.maxMigrationsPerHost }),
      { onWriteError: (reason) => failure.fail(reason) },
    );
    const { code, reportPage } = await recordRun(prepared, runDirectory, flags, { signal: interrupts.signal, failure }, watchers);
    if (live && reportPage !== undefined) reportHtml = fs.readFileSync(reportPage, 'utf8');
    return code;
  } finally {
    interrupts.dispose();
    try {
      // The live pages are told the run ended and shown its report (up to 10 s) before the tool ends.
      await live?.finish(reportHtml);
    } finally {
      await platform.close();
    }
  }
}

/** What `--serve` shows: the records as metrics, and the live page's state. */
interface Watchers {
  metrics: RunMetrics;
  live: LiveState;
}

/** The live page follows the whole run; the metrics count the migrations in flight. */
function observerOf({ metrics, live }: Watchers): RunObserver {
  return {
    timeline: (actions) => live.timeline(actions),
    migrationStarted: (start) => {
      live.migrationStarted(start);
      metrics.migrationStarted(start);
    },
    migrationProgress: (vm, progress) => live.migrationProgress(vm, progress),
  };
}

async function recordRun(
  prepared: PreparedRun,
  runDirectory: RunDirectory,
  flags: RunFlags,
  stops: { signal: AbortSignal; failure: RunFailure },
  watchers: Watchers | undefined,
): Promise<{ code: number; reportPage?: string }> {
  const stdoutStream = new StdoutStream((reason) => stops.failure.fail(reason));
  const stdout = new StdoutCsv((chunk) => stdoutStream.write(chunk));
  const progress = new Progress(prepared.experiment.steps.filter((step) => step.action.kind === 'migrate').length);
  const records = fanOut(runDirectory, stdout, progress, ...(watchers ? [watchers.metrics, watchers.live] : []));
  const wallStart = performance.now();
  const stopping = AbortSignal.any([stops.signal, stops.failure.signal]);
  try {
    const outcome = await executeRun(prepared, records, {
      maxMigrationsPerHost: flags.maxMigrationsPerHost,
      signal: stops.signal,
      failure: stops.failure,
      pace: () => stdoutStream.whenDrained(stopping),
      ...(watchers ? { observer: observerOf(watchers) } : {}),
    });
    const wallSeconds = (performance.now() - wallStart) / 1000;
    stdout.close();
    progress.stop();
    // A reader that stopped reading must not keep one Ctrl-C or SIGTERM from ending the tool.
    await stdoutStream.flushed(stops.signal);
    runDirectory.finish({ ...endOf(outcome, stops.failure.reason), ended_at: new Date().toISOString(), run_seconds: outcome.endedS, wall_seconds: wallSeconds });
    // The run directory's own write error may have come only as its files were closed.
    const failure = runDirectory.writeError ?? stops.failure.reason;
    if (failure !== undefined) {
      process.stderr.write(`run failed: ${failure}; what was recorded before is in ${runDirectory.dir}\n`);
      return { code: EXIT_RUN_FAILED };
    }
    const status = outcome.failedSetup.length > 0 ? 'failed' : outcome.status;
    if (status === 'failed') {
      process.stderr.write(`run failed: could not place ${outcome.failedSetup.join(', ')} as the placement line asks (see migrations.csv)\n`);
    }
    process.stderr.write(
      `${status}: ${progress.summary}, ${outcome.endedS.toFixed(1)} s of experiment in ${wallSeconds.toFixed(1)} s; records in ${runDirectory.dir}\n`,
    );
    // The live page shows the report when the run ends.
    let reportPage: string | undefined;
    if (flags.report || watchers) {
      reportPage = await buildReport([{ dir: runDirectory.dir }], { outDir: path.join(runDirectory.dir, 'report'), host: undefined, command: commandLine() });
      process.stderr.write(`report: ${reportPage}\n`);
    }
    const code = status === 'failed' ? EXIT_RUN_FAILED : status === 'interrupted' ? EXIT_INTERRUPTED : EXIT_OK;
    return { code, ...(reportPage !== undefined ? { reportPage } : {}) };
  } catch (error) {
    progress.stop();
    runDirectory.finish({ status: 'failed', error: (error as Error).message, ended_at: new Date().toISOString() });
    throw error;
  }
}

/** How run.json says the run ended; `failure` may have come after the runner ended (stdout's last write). */
function endOf(outcome: RunOutcome, failure: string | undefined): { status: string; error?: string } {
  if (failure !== undefined) return { status: 'failed', error: failure };
  if (outcome.failedSetup.length > 0) return { status: 'failed', error: `could not place ${outcome.failedSetup.join(', ')}` };
  return { status: outcome.status };
}
