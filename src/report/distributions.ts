import type { RunSummary } from './load-runs.ts';
import { medianProbeFloorMs } from './probe-floor.ts';
import { percentiles } from './statistics.ts';
import type { TableColumn } from './table-columns.ts';
import type { Table, TableCell } from './table.ts';

const MEASURES = [
  { header: 'migration time', of: (m: RunSummary['migrations'][number]) => m.duration_ms },
  { header: 'downtime', of: (m: RunSummary['migrations'][number]) => m.downtime_ms },
  { header: 'felt downtime', of: (m: RunSummary['migrations'][number]) => m.client_downtime_ms },
] as const;
const PERCENTILES = [50, 95, 99] as const;

/**
 * The distributions' table: per run, the 50th, 95th and 99th percentiles of migration time,
 * downtime and the downtime a probe felt, over the succeeded migrations (setup migrations
 * left out, as in Table 1), and the probe's floor.
 */
export function percentilesTable(runs: readonly RunSummary[]): Table {
  const columns: TableColumn[] = [
    { header: 'run', kind: 'text' },
    { header: 'migrations', kind: 'count' },
    ...MEASURES.flatMap((measure) => PERCENTILES.map((p) => ({ header: `${measure.header} p${p} [ms]`, kind: 'milliseconds' as const }))),
    { header: 'probe floor [ms]', kind: 'milliseconds' },
  ];
  return {
    id: 'percentiles',
    title: 'Distributions: percentiles of migration time and downtime',
    caption:
      "Per run, over its succeeded migrations (setup migrations left out): the nearest-rank 50th, 95th and 99th percentiles. Felt downtime is the " +
      "probe's longest gap between answers during a migration, where the platform probes; the probe floor is how finely it sees at all (the " +
      "median over migrations of the 99th percentile of its other gaps, or where a run did not record those, of the mean time between its " +
      'answers): a felt downtime near the floor is the probe\'s own jitter, not the migration\'s.',
    columns,
    rows: runs.map((run) => {
      const succeeded = run.migrations.filter((m) => m.status === 'succeeded' && m.kind !== 'setup');
      const cells: TableCell[] = [run.label, succeeded.length];
      for (const measure of MEASURES) {
        const values = succeeded.map(measure.of).filter((value): value is number => value !== null);
        cells.push(...percentiles(values, PERCENTILES));
      }
      cells.push(medianProbeFloorMs(succeeded));
      return cells;
    }),
  };
}
