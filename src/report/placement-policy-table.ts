import type { MigrationKind } from '../record/records.ts';
import type { PolicyRun } from './load-runs.ts';
import { EXPERIMENT_KINDS, POLICY_KINDS } from './migration-kinds.ts';
import { LATENCY_PERCENTILES, type PolicyPerformanceResult } from './policy-performance.ts';
import type { TableColumn } from './table-columns.ts';
import type { Table, TableCell } from './table.ts';

/** Some columns of the table, the cells of a run in them, and the caption's sentence on them. */
interface ColumnGroup {
  columns: readonly TableColumn[];
  cells(run: PolicyRun): TableCell[];
  caption: string;
  /** Whether the table has these columns; always when not given. */
  shown?(runs: readonly PolicyRun[]): boolean;
}

const RUN: ColumnGroup = {
  columns: [{ header: 'run', kind: 'text' }],
  cells: (run) => [run.label],
  caption: 'One row per run with a placement policy (a decisions.csv, or migrations the policy started).',
};

function succeededAndFailed(run: PolicyRun, kind: MigrationKind): TableCell[] {
  const ofKind = run.migrations.filter((migration) => migration.kind === kind);
  const succeeded = ofKind.filter((migration) => migration.status === 'succeeded').length;
  return [succeeded, ofKind.length - succeeded];
}

const MIGRATIONS: ColumnGroup = {
  columns: EXPERIMENT_KINDS.flatMap((kind): TableColumn[] => [
    { header: `${kind} succeeded`, kind: 'count' },
    { header: `${kind} failed`, kind: 'count' },
  ]),
  cells: (run) => EXPERIMENT_KINDS.flatMap((kind) => succeededAndFailed(run, kind)),
  caption: `Migrations by kind (${EXPERIMENT_KINDS.join(', ')}): succeeded, and failed or interrupted.`,
};

const DECISIONS: ColumnGroup = {
  columns: [
    { header: 'decisions', kind: 'count' },
    { header: 'moves', kind: 'count' },
    { header: 'no move', kind: 'count' },
  ],
  cells: ({ policy: { decisions } }) => [
    decisions.length,
    decisions.filter((decision) => decision.outcome === 'move').length,
    decisions.filter((decision) => decision.outcome === 'none').length,
  ],
  caption: "Decisions: the rows of decisions.csv, those that asked for a move, and those that found none to make ('none').",
};

const PHASES = ['during', 'outside'] as const satisfies readonly (keyof PolicyPerformanceResult)[];

const PERFORMANCE: ColumnGroup = {
  columns: PHASES.flatMap((name): TableColumn[] => [
    // A server's rate is a few thousandths with requests of minutes: Table 2's two decimals would show 0.00.
    { header: `responses/s ${name}`, kind: 'three-decimals' },
    ...LATENCY_PERCENTILES.map((p): TableColumn => ({ header: `p${p} ${name} [ms]`, kind: 'milliseconds' })),
    { header: `responses ${name}`, kind: 'count' },
  ]),
  cells: (run) =>
    PHASES.flatMap((name) => {
      const performance = run.policy.performance[name];
      return [performance.responsesPerSecond, ...performance.latencyPercentilesMs, performance.responses];
    }),
  caption:
    `Requests answered 'ok', split as in Table 2 but by the policy's migrations alone (${POLICY_KINDS.join(', ')}): 'during' ` +
    "when the send-to-receive interval overlaps one of the VM that served it, 'outside' otherwise; responses per " +
    'server-second as in Table 2 (and with its caveat: a request much longer than a migration counts whole, which ' +
    "raises the rate 'during'), latency percentiles by nearest rank.",
};

const SPREAD: ColumnGroup = {
  columns: [{ header: 'average spread', kind: 'three-decimals' }],
  cells: (run) => [run.policy.spread.mean],
  caption:
    "Average spread: the hosts' CPU use over capacity (run.json's host_cpu_mhz), its population standard deviation at " +
    'each sample time, hosts DRS leaves out (in maintenance, or not powered on) left out, averaged over the samples.',
};

const ENERGY: ColumnGroup = {
  columns: [{ header: 'energy [Wh]', kind: 'number' }],
  cells: (run) => [run.policy.energyWh],
  caption:
    "Energy: each host's power.power.average integrated over its sampling intervals (a sample averages the time since " +
    "the host's previous one, the first since the run started), all hosts together.",
  shown: (runs) => runs.some((run) => run.policy.energyWh !== null),
};

const STANDBY: ColumnGroup = {
  columns: [{ header: 'hosts in standby [h]', kind: 'number' }],
  cells: (run) => [run.policy.standbyHours ?? 0],
  caption: "Hosts in standby: the hours DPM's hosts spent there, all together (from each 'standby' decision to the host's next 'power-on', or the run's end).",
  shown: (runs) => runs.some((run) => run.policy.standbyHours !== null),
};

/** In the table's order. */
const GROUPS: readonly ColumnGroup[] = [RUN, MIGRATIONS, DECISIONS, PERFORMANCE, SPREAD, ENERGY, STANDBY];

/** The placement policy's table: a row per run with a policy. */
export function placementPolicyTable(runs: readonly PolicyRun[]): Table {
  const groups = GROUPS.filter((group) => group.shown?.(runs) ?? true);
  return {
    id: 'placement-policy',
    title: 'Placement policy: what its moves cost',
    caption: groups.map((group) => group.caption).join(' '),
    columns: groups.flatMap((group) => group.columns),
    rows: runs.map((run) => groups.flatMap((group) => group.cells(run))),
  };
}
