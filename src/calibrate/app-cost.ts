import type { MigrationRecord, RequestRecord } from '../record/records.ts';
import { ServerPerformance, type PhaseChange } from '../report/server-performance.ts';
import { median } from '../report/statistics.ts';
import type { Table, TableCell } from '../report/table.ts';

/** What one run's migrations cost its application, as the seed's Table 2 has it, with the migrations it comes from. */
export interface AppCost {
  /** Normal against migration, in percent (the seed's sign: + where normal is higher). */
  change: PhaseChange;
  migrations: number;
  medianMigrationSeconds: number | null;
  /** QEMU's setup (the first sync of the dirty log, which stalls the guest), where the platform reports it. */
  medianSetupMs: number | null;
  medianDowntimeMs: number | null;
  /** How long after a migration's end the requests in flight across it were answered: the stop, the target's start, the work left. */
  medianAnsweredAfterEndMs: number | null;
}

/** A lab run and the sim's run of the same script on its twin. */
export interface AppCostComparison {
  /** The lab run's directory. */
  run: string;
  /** The client types its script adds. */
  loads: string;
  lab: AppCost;
  sim: AppCost;
}

/** The target: the sim's change within this share of the lab's, on responses/s and average latency. */
export const APP_COST_TOLERANCE = 0.25;

export function withinTolerance(sim: number | null, lab: number | null): boolean | null {
  if (sim === null || lab === null) return null;
  return Math.abs(sim - lab) <= APP_COST_TOLERANCE * Math.abs(lab);
}

/**
 * The setup's length from a migration's details: the qemu platform's `setup_time_ms`; the sim's
 * from its `setup` progress record (where QEMU's setup-time starts, after connecting) to its first
 * `active` one, as calibrate reads it (from the migration's start where it has no `setup` record).
 */
function setupMsOf(migration: MigrationRecord): number | null {
  const details = migration.details ?? {};
  const qemu = details.qemu as { setup_time_ms?: unknown } | undefined;
  if (typeof qemu?.setup_time_ms === 'number') return qemu.setup_time_ms;
  const progress = (details.sim as { progress?: { status: string; at_s: number }[] } | undefined)?.progress;
  const active = progress?.find((pass) => pass.status === 'active');
  const setup = progress?.find((pass) => pass.status === 'setup');
  return active === undefined ? null : (active.at_s - (setup?.at_s ?? 0)) * 1000;
}

export async function appCostOf(migrations: readonly MigrationRecord[], eachRequest: (add: (request: RequestRecord) => void) => Promise<void> | void): Promise<AppCost> {
  const performance = new ServerPerformance(migrations);
  const ran = migrations.filter((m) => m.status === 'succeeded');
  const answeredAfterEndMs: number[] = [];
  await eachRequest((request) => {
    performance.add(request);
    const across = ran.find((m) => m.vm === request.server && request.sent_s < m.ended_s && m.ended_s < request.received_s);
    if (across !== undefined && request.status === 'ok') answeredAfterEndMs.push((request.received_s - across.ended_s) * 1000);
  });
  return {
    change: performance.result().normalAgainstMigration,
    migrations: ran.length,
    medianMigrationSeconds: median(ran.map((m) => m.ended_s - m.started_s)),
    medianSetupMs: median(ran.flatMap((m) => setupMsOf(m) ?? [])),
    medianDowntimeMs: median(ran.flatMap((m) => (m.downtime_ms === null ? [] : [m.downtime_ms]))),
    medianAnsweredAfterEndMs: median(answeredAfterEndMs),
  };
}

const verdict = (within: boolean | null): string => (within === null ? '' : within ? 'yes' : 'no');

export function appCostTable(comparisons: readonly AppCostComparison[]): Table {
  return {
    id: 'calibration-app-cost',
    title: 'What migration costs the application: the lab against its sim twin',
    caption:
      'The seed\'s Table 2 per lab run: responses/s and average latency normal against migration (in %), measured on the lab and predicted by the sim ' +
      `running the same script on the twin config with this profile; "within" says whether the sim is within ${APP_COST_TOLERANCE * 100} % of the lab's change. ` +
      'The medians of the succeeded migrations\' durations, setups (which stall the guest) and downtimes, and of how long after a migration\'s end ' +
      'the requests in flight across it were answered, show whether the sim is right for the right reasons.',
    columns: [
      { header: 'lab run', kind: 'text' },
      { header: 'load', kind: 'text' },
      { header: 'migrations (lab)', kind: 'count' },
      { header: 'responses/s change (lab)', kind: 'percent-change' },
      { header: 'responses/s change (sim)', kind: 'percent-change' },
      { header: 'responses/s within', kind: 'text' },
      { header: 'latency change (lab)', kind: 'percent-change' },
      { header: 'latency change (sim)', kind: 'percent-change' },
      { header: 'latency within', kind: 'text' },
      { header: 'migration (s, lab)', kind: 'number' },
      { header: 'migration (s, sim)', kind: 'number' },
      { header: 'setup (ms, lab)', kind: 'number' },
      { header: 'setup (ms, sim)', kind: 'number' },
      { header: 'downtime (ms, lab)', kind: 'number' },
      { header: 'downtime (ms, sim)', kind: 'number' },
      { header: 'answered after the end (ms, lab)', kind: 'number' },
      { header: 'answered after the end (ms, sim)', kind: 'number' },
    ],
    rows: comparisons.map(({ run, loads, lab, sim }): TableCell[] => [
      run,
      loads,
      lab.migrations,
      lab.change.responsesPerSecond,
      sim.change.responsesPerSecond,
      verdict(withinTolerance(sim.change.responsesPerSecond, lab.change.responsesPerSecond)),
      lab.change.latencyMean,
      sim.change.latencyMean,
      verdict(withinTolerance(sim.change.latencyMean, lab.change.latencyMean)),
      lab.medianMigrationSeconds,
      sim.medianMigrationSeconds,
      lab.medianSetupMs,
      sim.medianSetupMs,
      lab.medianDowntimeMs,
      sim.medianDowntimeMs,
      lab.medianAnsweredAfterEndMs,
      sim.medianAnsweredAfterEndMs,
    ]),
  };
}

/** One line of stderr per run. */
export function describeAppCost({ run, loads, lab, sim }: AppCostComparison): string {
  const pct = (value: number | null): string => (value === null ? 'n/a' : `${value >= 0 ? '+' : ''}${value.toFixed(0)} %`);
  const measure = (name: string, l: number | null, s: number | null): string =>
    `${name} ${pct(l)} lab, ${pct(s)} sim (${withinTolerance(s, l) ? 'within' : 'not within'} a quarter)`;
  return `${run} (${loads}): ${measure('responses/s', lab.change.responsesPerSecond, sim.change.responsesPerSecond)}; ${measure('latency', lab.change.latencyMean, sim.change.latencyMean)}`;
}
