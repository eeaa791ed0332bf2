import type { Load } from '../load/load.ts';
import { startMonitor } from '../monitor/monitor.ts';
import type { Inventory, Platform } from '../platforms/platform.ts';
import { MAX_EXPERIMENT_SECONDS } from '../input-limits.ts';
import { PlacementPolicy } from '../policy/placement-policy.ts';
import type { PolicySetup } from '../policy/policy-config.ts';
import type { ActionStatus, RecordSink } from '../record/records.ts';
import type { Action, Experiment, ScriptStep } from '../script/experiment.ts';
import { placementOf } from '../script/validate.ts';
import { MigrationDispatcher } from './migrations.ts';
import type { RunFailure } from './run-failure.ts';
import type { PlannedAction, RunObserver } from './run-observer.ts';

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
  /** For a script with `drs`, `dpm` or `maintenance` actions: the policy's parameters and each host's CPU capacity. */
  policy?: PolicySetup;
  /** Told of the timeline ahead and of migrations as they start and progress (a live view). */
  observer?: RunObserver;
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
    case 'drs':
    case 'dpm':
      return action.level === null ? 'off' : String(action.level);
    case 'maintenance':
      return `${action.mode} ${action.host.name}`;
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
  let policy: PlacementPolicy | undefined;
  // The policy hears of every sample and migration as they are recorded.
  const observed: RecordSink = {
    action: (record) => records.action(record),
    request: (record) => records.request(record),
    decision: (record) => records.decision(record),
    sample: (record) => {
      records.sample(record);
      policy?.observeSample(record);
    },
    migration: (record) => {
      records.migration(record);
      policy?.observeMigration(record);
    },
  };
  const monitor = startMonitor(platform, observed, options.intervalSeconds, (reason) => failure.fail(reason));
  const watchdog = new AbortController();
  void clock.sleepUntil(MAX_RUN_SECONDS, watchdog.signal).then(() => {
    if (!watchdog.signal.aborted) failure.fail(`the run was still going after ${MAX_RUN_SECONDS} s of experiment time (the script's limit plus a day to finish)`);
  });
  const migrations = new MigrationDispatcher(platform, observed, inventory, options.maxMigrationsPerHost, signal, options.observer);
  if (options.policy) {
    const placement = placementOf(experiment);
    policy = new PlacementPolicy({
      clock, dispatcher: migrations, record: (decision) => records.decision(decision),
      hosts: placement.map((entry) => entry.host), vms: placement.flatMap((entry) => entry.vms),
      capacityMHz: options.policy.capacityMHz, intervalSeconds: options.intervalSeconds, config: options.policy.config,
      power: platform.power, platformName: platform.name, vmCpuMHz: platform.vmCpuMHz?.bind(platform),
    });
  }

  let failedSetup: string[];
  try {
    failedSetup = await placeVms(experiment, migrations);
    if (failedSetup.length === 0) {
      await runTimeline(experiment.steps, { migrations, policy, load, records, observer: options.observer, clock: platform.clock, signal });
    }
    await policy?.stop();
    await load.stopAll(signal);
    await migrations.allEnded();
  } finally {
    // On every way out, or a real clock's timer would keep the process alive for days.
    watchdog.abort();
    await policy?.stop();
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

/** What the timeline's actions act on. */
interface Actors {
  migrations: MigrationDispatcher;
  /** Present when the script has policy actions. */
  policy: PlacementPolicy | undefined;
  load: Load;
  records: RecordSink;
  observer: RunObserver | undefined;
  clock: Platform['clock'];
  signal: AbortSignal;
}

/** The timeline as it would fire from `startS` if no action were postponed. */
function plan(steps: readonly ScriptStep[], startS: number): PlannedAction[] {
  let scheduledS = startS;
  return steps.map((step) => {
    scheduledS += step.delaySeconds;
    return { scheduled_s: scheduledS, delay_s: step.delaySeconds, action: step.action.kind, args: describeArgs(step.action), line: step.at.line };
  });
}

async function runTimeline(steps: readonly ScriptStep[], actors: Actors): Promise<void> {
  const { migrations, records, clock, signal } = actors;
  let lastFiredS = clock.now();
  actors.observer?.timeline(plan(steps, lastFiredS));
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
    fire(action, actors);
    lastFiredS = firedS;
  }
}

function fire(action: Action, { migrations, policy, load }: Actors): void {
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
    case 'drs':
      requirePolicy(policy).setDrs(action.level);
      return;
    case 'maintenance':
      if (action.mode === 'enter') requirePolicy(policy).enterMaintenance(action.host.name);
      else requirePolicy(policy).exitMaintenance(action.host.name);
      return;
    case 'dpm':
      requirePolicy(policy).setDpm(action.level);
      return;
  }
}

function requirePolicy(policy: PlacementPolicy | undefined): PlacementPolicy {
  if (!policy) throw new Error('a policy action without a placement policy: prepareRun gives one to every script that has them');
  return policy;
}
