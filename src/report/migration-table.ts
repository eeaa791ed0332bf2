import { InputError } from '../errors.ts';
import type { MigrationRecord } from '../record/records.ts';
import { percentChange, RunningStats, type Stats } from './statistics.ts';
import type { TableColumn } from './table-columns.ts';
import type { TableCell } from './table.ts';

/** The migrations of one run, under the label the report shows for it. */
export interface LabelledMigrations {
  label: string;
  migrations: readonly MigrationRecord[];
}

/** Two runs to compare: `other` is shown as a percentage change against `base`. */
export interface RunPair {
  base: string;
  other: string;
}

/** Percentage changes of the duration statistics of a run against its pair's base. */
export interface DurationChange {
  base: string;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
}

/** One run's line of the seed's Table 1, extended with what the platform recorded. */
export interface MigrationTimeRow {
  label: string;
  /** Succeeded migrations: the ones the statistics are of. */
  succeeded: number;
  /** Migrations that failed or were interrupted. */
  failed: number;
  durationMs: Stats;
  downtimeMeanMs: number | null;
  downtimeMaxMs: number | null;
  /** What a probe felt, where the platform probes. */
  clientDowntimeMeanMs: number | null;
  bytesMean: number | null;
  passesMean: number | null;
  changeFrom?: DurationChange;
}

/** Table 1 per run, setup migrations left out; runs that are the `other` of a pair get `changeFrom`. */
export function migrationTimeRows(runs: readonly LabelledMigrations[], pairs: readonly RunPair[] = []): MigrationTimeRow[] {
  const rows = runs.map((run) => summarizeMigrations(run.label, run.migrations));
  const rowOf = new Map(rows.map((row) => [row.label, row]));
  for (const pair of pairs) {
    const base = rowOf.get(pair.base);
    const other = rowOf.get(pair.other);
    if (base === undefined || other === undefined) {
      const missing = base === undefined ? pair.base : pair.other;
      throw new InputError(`no run labelled '${missing}' to compare '${pair.other}' against '${pair.base}'`);
    }
    other.changeFrom = durationChange(base, other);
  }
  return rows;
}

export function summarizeMigrations(label: string, migrations: readonly MigrationRecord[]): MigrationTimeRow {
  const duration = new RunningStats();
  const downtime = new RunningStats();
  const clientDowntime = new RunningStats();
  const bytes = new RunningStats();
  const passes = new RunningStats();
  let failed = 0;
  for (const migration of migrations) {
    if (migration.kind === 'setup') continue;
    if (migration.status !== 'succeeded') {
      failed++;
      continue;
    }
    duration.add(migration.duration_ms);
    if (migration.downtime_ms !== null) downtime.add(migration.downtime_ms);
    if (migration.client_downtime_ms !== null) clientDowntime.add(migration.client_downtime_ms);
    if (migration.bytes !== null) bytes.add(migration.bytes);
    if (migration.passes !== null) passes.add(migration.passes);
  }
  const downtimeStats = downtime.stats();
  return {
    label,
    succeeded: duration.count,
    failed,
    durationMs: duration.stats(),
    downtimeMeanMs: downtimeStats.mean,
    downtimeMaxMs: downtimeStats.max,
    clientDowntimeMeanMs: clientDowntime.stats().mean,
    bytesMean: bytes.stats().mean,
    passesMean: passes.stats().mean,
  };
}

function durationChange(base: MigrationTimeRow, other: MigrationTimeRow): DurationChange {
  const change = (statistic: 'min' | 'max' | 'mean' | 'std'): number | null =>
    percentChange(base.durationMs[statistic], other.durationMs[statistic]);
  return { base: base.label, min: change('min'), max: change('max'), mean: change('mean'), std: change('std') };
}

/**
 * Pairs each label holding the word `light` (`X/light`, `light-X`, `light`) with the same
 * label saying `heavy`, the seed's two scenarios of each load, heavy compared against light.
 * Labels without a partner are left unpaired.
 */
export function lightHeavyPairs(labels: readonly string[]): RunPair[] {
  const lightWord = /(^|[/_ -])light(?=$|[/_ -])/;
  const pairs: RunPair[] = [];
  for (const label of labels) {
    if (!lightWord.test(label)) continue;
    const heavy = label.replace(lightWord, '$1heavy');
    if (labels.includes(heavy)) pairs.push({ base: label, other: heavy });
  }
  return pairs;
}

/** The columns of Table 1, in the seed's order: each duration statistic followed by its change. */
export const MIGRATION_TIME_COLUMNS: readonly TableColumn[] = [
  { header: 'run', kind: 'text' },
  { header: 'migrations', kind: 'count' },
  { header: 'failed', kind: 'count' },
  { header: 'min [ms]', kind: 'milliseconds' },
  { header: 'min change', kind: 'percent-change' },
  { header: 'max [ms]', kind: 'milliseconds' },
  { header: 'max change', kind: 'percent-change' },
  { header: 'average [ms]', kind: 'milliseconds' },
  { header: 'average change', kind: 'percent-change' },
  { header: 'std. dev. [ms]', kind: 'milliseconds' },
  { header: 'std. dev. change', kind: 'percent-change' },
  { header: 'downtime average [ms]', kind: 'milliseconds' },
  { header: 'downtime max [ms]', kind: 'milliseconds' },
  { header: 'client downtime average [ms]', kind: 'milliseconds' },
  { header: 'bytes average', kind: 'bytes' },
  { header: 'passes average', kind: 'number' },
];

/** A row's cells in the order of MIGRATION_TIME_COLUMNS; changes are null for runs that are not an `other`. */
export function migrationTimeCells(row: MigrationTimeRow): TableCell[] {
  const { durationMs: duration, changeFrom: change } = row;
  return [
    row.label,
    row.succeeded,
    row.failed,
    duration.min,
    change?.min ?? null,
    duration.max,
    change?.max ?? null,
    duration.mean,
    change?.mean ?? null,
    duration.std,
    change?.std ?? null,
    row.downtimeMeanMs,
    row.downtimeMaxMs,
    row.clientDowntimeMeanMs,
    row.bytesMean,
    row.passesMean,
  ];
}
