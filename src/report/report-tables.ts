import type { RunSummary } from './load-runs.ts';
import { lightHeavyPairs, MIGRATION_TIME_COLUMNS, migrationTimeCells, migrationTimeRows } from './migration-table.ts';
import { SERVER_PERFORMANCE_COLUMNS, serverPerformanceCells } from './server-performance.ts';
import type { Table, TableCell } from './table.ts';

function field(info: Record<string, unknown>, ...keys: string[]): TableCell {
  let value: unknown = info;
  for (const key of keys) value = (value as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'string' || typeof value === 'number' ? value : null;
}

/** run.json gets its status only when the run ends: a run without one was killed or crashed. */
function statusOf(info: Record<string, unknown>): TableCell {
  const status = field(info, 'status');
  if (status === null) return 'cut short (no end recorded)';
  const error = field(info, 'error');
  return status === 'failed' && error !== null ? `failed: ${error}` : status;
}

const INTEGRITY_COLUMNS = ['corrupt requests', 'corrupt words', 'flagged migrations'];

export function runsTable(runs: readonly RunSummary[]): Table {
  const columns = ['run', 'directory', 'script', 'platform', 'profile', 'seed', 'interval [s]', 'started', 'status', 'length [s]'];
  return {
    id: 'runs',
    title: 'Runs',
    caption:
      'The runs this report reads, with the parameters their run.json records. A run whose run.json has no status ' +
      'was cut short (killed, or the machine stopped): its files hold what was recorded until then. Corrupt requests ' +
      'were answered, but the server found words of their data wrong (corrupt words, in all); flagged migrations are ' +
      'those over which their VM gave such an answer, or after which it did not answer. Empty where the platform cannot tell.',
    columns: [
      ...columns.map((header) => ({ header, kind: header === 'seed' || header.endsWith('[s]') ? ('number' as const) : ('text' as const) })),
      ...INTEGRITY_COLUMNS.map((header) => ({ header, kind: 'count' as const })),
    ],
    rows: runs.map((run) => [
      run.label,
      run.dir,
      field(run.info, 'script', 'path'),
      field(run.info, 'platform', 'name'),
      field(run.info, 'platform', 'profile'),
      field(run.info, 'seed'),
      field(run.info, 'interval_s'),
      field(run.info, 'started_at'),
      statusOf(run.info),
      field(run.info, 'run_seconds'),
      run.integrity.corruptRequests,
      run.integrity.corruptWords,
      run.integrity.flaggedMigrations,
    ]),
  };
}

/** The seed's Table 1. */
export function migrationTimeTable(runs: readonly RunSummary[]): Table {
  const labelled = runs.map((run) => ({ label: run.label, migrations: run.migrations }));
  const rows = migrationTimeRows(labelled, lightHeavyPairs(runs.map((run) => run.label)));
  return {
    id: 'migration-time',
    title: 'Migration time (seed Table 1)',
    caption:
      'Per run, the scripted migrations that succeeded (setup migrations left out): migration time from the migrate ' +
      'request to completion, its minimum, maximum, average and sample standard deviation; downtime and bytes where the ' +
      'platform recorded them. A run labelled heavy is compared with the run of the same label saying light: its change in per cent.',
    columns: MIGRATION_TIME_COLUMNS,
    rows: rows.map(migrationTimeCells),
  };
}

/** The seed's Table 2. */
export function serverPerformanceTable(runs: readonly RunSummary[]): Table {
  return {
    id: 'server-performance',
    title: 'Server performance during and outside migrations (seed Table 2)',
    caption:
      "Requests answered 'ok', split into 'migration' (the request's send-to-receive interval overlaps a migration of the VM " +
      "that served it) and 'normal' (all others). Responses per second divide by server-seconds: for each VM, the time from " +
      'its first request sent to its last received, split into its own migration time and the rest. Latency is what the client ' +
      "saw; the change columns give 'normal' relative to 'migration', as the seed does. The split means most when requests " +
      'are much shorter than migrations (the seed\'s section 3.3): a long request overlapping a short migration counts whole. ' +
      "The split column says when the requests last as long as the migrations or longer; the changes are then left out, as they would mean nothing.",
    columns: SERVER_PERFORMANCE_COLUMNS,
    rows: runs.flatMap((run) => serverPerformanceCells(run.label, run.performance)),
  };
}
