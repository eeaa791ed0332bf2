import type { Load } from '../load/load.ts';
import { startMonitor } from '../monitor/monitor.ts';
import type { Inventory, Platform } from '../platforms/platform.ts';
import { MAX_EXPERIMENT_SECONDS } from '../input-limits.ts';
import type { ActionStatus, RecordSink } from '../record/records.ts';
import type { Action, Experiment, ScriptStep } from '../script/experiment.ts';
import { MigrationDispatcher } from './migrations.ts';
import type { RunFailure } from './run-failure.ts';

/**
 * A script's actions end within MAX_EXPERIMENT_SECONDS, and what `end` waits for (requests in
 * flight, migrations) takes at most minutes; a run still going a day later never ends by itself
 * (a sim config whose requests last 10^12 s, say) and fails instead of writing forever.
 */
export const MAX_RUN_SECONDS = MAX_EXPERIMENT_SECONDS + 24 * 60 * 60;

export interface RunOptions {
  intervalSeconds: number;
  maxMigrationsPerHost: number;
  /** Ctrl-C: no more actions, clients stop at once, a last sample, and the run ends. */
  signal: AbortSignal;
  /** Where background work reports an error that ends the run; it then stops as on Ctrl-C. */
  failure: RunFailure;
}

export interface RunOutcome {
  status: 'completed' | 'interrupted' | 'failed';
  /** Why the run failed, when its background work did (setup failures are in `failedSetup`). */
  failure?: string;
  /** Setup migrations that failed, leaving a VM off the placement line. */
  failedSetup: string[];
  endedS: number;
}

function describeArgs(action: Action): string {
  switch (action.kind) {
    case 'add-client':
    case 'remove-client':
      return `${action.clientType} ${action.count}`;
    case 'migrate':
      return `${action.vm.name} ${action.host.name}`;
    case 'end':
      return '';
  }
}

/** Runs `experiment` on `platform`: placement, then the timeline, then the end. */
export async function runExperiment(
  experiment: Experiment,
  platform: Platform,
  inventory: Inventory,
  load: Load,
  records: RecordSink,
  options: RunOptions,
): Promise<RunOutcome> {
  const { failure } = options;
  const signal = AbortSignal.any([options.signal, failure.signal]);
  const clock = platform.clock;
  const monitor = startMonitor(platform, records, options.intervalSeconds, (reason) => failure.fail(reason));
  const watchdog = new AbortController();
  void clock.sleepUntil(MAX_RUN_SECONDS, watchdog.signal).then(() => {
    if (!watchdog.signal.aborted) failure.fail(`the run was still going after ${MAX_RUN_SECONDS} s of experiment time (the script's limit plus a day to finish)`);
  });
  const migrations = new MigrationDispatcher(platform, records, inventory, options.maxMigrationsPerHost, signal);

  let failedSetup: string[];
  try {
    failedSetup = await placeVms(experiment, migrations);
    if (failedSetup.length === 0) await runTimeline(experiment.steps, migrations, load, records, platform, signal);
    await load.stopAll(signal);
    await migrations.allEnded();
  } finally {
    // On every way out, or a real clock's timer would keep the process alive for days.
    watchdog.abort();
    await monitor.stop();
  }
  const endedS = clock.now();
  if (failure.reason !== undefined) return { status: 'failed', failure: failure.reason, failedSetup, endedS };
  return { status: signal.aborted ? 'interrupted' : 'completed', failedSetup, endedS };
}

/** Moves each VM of the placement line to its host, within the slot limit; returns the VMs left elsewhere. */
async function placeVms(experiment: Experiment, migrations: MigrationDispatcher): Promise<string[]> {
  const wanted = experiment.placement.flatMap((entry) => entry.vms.map((vm) => ({ vm: vm.name, host: entry.host.name })));
  for (const { vm, host } of wanted) {
    if (migrations.hostOfVm(vm) === host) continue;
    await migrations.waitUntilStartable(vm, host);
    if (!migrations.canStart(vm, host)) break;
    migrations.start(vm, host, 'setup');
  }
  await migrations.allEnded();
  return wanted.filter(({ vm, host }) => migrations.hostOfVm(vm) !== host).map(({ vm }) => vm);
}

async function runTimeline(
  steps: readonly ScriptStep[],
  migrations: MigrationDispatcher,
  load: Load,
  records: RecordSink,
  platform: Platform,
  signal: AbortSignal,
): Promise<void> {
  const clock = platform.clock;
  let lastFiredS = clock.now();
  for (const step of steps) {
    const scheduledS = lastFiredS + step.delaySeconds;
    await clock.sleepUntil(scheduledS, signal);
    if (signal.aborted) return;
    const action = step.action;
    let postponedMs = 0;
    if (action.kind === 'migrate' && !migrations.canStart(action.vm.name, action.host.name)) {
      const waitFromS = clock.now();
      await migrations.waitUntilStartable(action.vm.name, action.host.name);
      postponedMs = (clock.now() - waitFromS) * 1000;
    }
    const firedS = clock.now();
    const status: ActionStatus = signal.aborted ? 'interrupted' : 'fired';
    records.action({
      scheduled_s: scheduledS, fired_s: firedS, action: action.kind, args: describeArgs(action),
      postponed_ms: postponedMs, status, line: step.at.line,
    });
    if (status === 'interrupted' || action.kind === 'end') return;
    fire(action, migrations, load);
    lastFiredS = firedS;
  }
}

function fire(action: Action, migrations: MigrationDispatcher, load: Load): void {
  switch (action.kind) {
    case 'add-client':
      load.addClients(action.clientType, action.count);
      return;
    case 'remove-client':
      load.removeClients(action.clientType, action.count);
      return;
    case 'migrate':
      migrations.start(action.vm.name, action.host.name, 'script');
      return;
    case 'end':
      return;
  }
}
