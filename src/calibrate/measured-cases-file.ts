import { InputError, quoted } from '../errors.ts';
import { BadCellError, readCsvRows, type CsvRow } from '../report/csv-reader.ts';
import { CASE_LIMITS, DEFAULT_WARMUP_SECONDS } from './case-limits.ts';
import { boundedCell, isBlank, numberCell } from './csv-cells.ts';
import type { CaseSettings, CaseWorkload, MeasuredCase } from './migration-case.ts';
import { parseResult, REQUIRED_RESULT_COLUMNS, withMeasuredAccounts } from './results-file.ts';

/*
 * A measured file that says what each case was, so that measurements from any harness (another
 * QEMU, a spreadsheet) can be predicted without a grid: one row per migration, its settings
 * and workload next to what was measured. Columns, in any order (others are ignored):
 *
 *   id                    a name for the case, shown in the tables
 *   ram_mb                the guest's RAM, MB
 *   ram_kib               (optional) its exact RAM in KiB where not whole MiB (the lab's TCG
 *                         guests: ram_mb * 1024 + 8); ram_mb is then its whole MiB
 *   max_bandwidth_mbit_s  QEMU's max-bandwidth, Mbit/s (10^6 bits)
 *   downtime_limit_ms     QEMU's downtime-limit
 *   timeout_s             a migration still in pre-copy after this long was cancelled
 *   warmup_s              (optional, default 5) how long the workload ran before the migration
 *   workload              idle; buffer (a filled buffer of buffer_mb, held throughout);
 *                         dirty (rewriting dirty_mb_s of a buffer_mb buffer, page by page);
 *                         rewrite (a buffer_mb buffer filled first, then dirty_mb_s of its
 *                         pages rewritten, each page drawn at random); sweep (a buffer_mb
 *                         buffer filled first, then dirty_mb_s of it rewritten in page order)
 *   buffer_mb, dirty_mb_s what the workload needs; empty (or 0) where it needs none
 *   converged, total_ms, downtime_ms, setup_ms, bytes, passes, reason
 *                         as in calibrate's measured.csv; setup_ms and reason may be left out
 */
const CASE_COLUMNS = ['ram_mb', 'max_bandwidth_mbit_s', 'downtime_limit_ms', 'timeout_s', 'workload'] as const;
/** After the case: a buffer held this much longer than the migration can last is held throughout it. */
const HELD_BEYOND_THE_CASE_MS = 60_000;

/**
 * Reads a measured file with its cases in columns (a measured.csv takes each case's per-pass
 * progress from the measured-details.jsonl beside it, as calibrate's do); a bad cell is an
 * InputError at FILE:LINE:COL.
 */
export async function readMeasuredCases(file: string): Promise<MeasuredCase[]> {
  const cases: MeasuredCase[] = [];
  const ids = new Set<string>();
  await readCsvRows(file, REQUIRED_RESULT_COLUMNS, (row) => {
    if (cases.length === 0) requireCaseColumns(file, row);
    const measuredCase = parseMeasuredCase(row);
    if (ids.has(measuredCase.measured.id)) throw new BadCellError('id', `id: ${quoted(measuredCase.measured.id)} is the case of an earlier row`);
    ids.add(measuredCase.measured.id);
    cases.push(measuredCase);
  });
  if (cases.length === 0) throw new InputError('a header but no case under it', { file, line: 1, column: 1 });
  const withProgress = await withMeasuredAccounts(file, new Map(cases.map((c) => [c.measured.id, c.measured])));
  return cases.map((c) => ({ ...c, measured: withProgress.get(c.measured.id) as typeof c.measured }));
}

/** Checked apart from the results' columns to say what a results file that lacks them needs. */
function requireCaseColumns(file: string, row: CsvRow): void {
  const missing = CASE_COLUMNS.filter((column) => row[column] === undefined);
  if (missing.length === 0) return;
  throw new InputError(
    `missing case column${missing.length > 1 ? 's' : ''} ${missing.map((column) => `'${column}'`).join(', ')} ` +
      '(a measured.csv of calibrate names its cases by id: give their grid with --grid)',
    { file, line: 1, column: 1 },
  );
}

function parseMeasuredCase(row: CsvRow): MeasuredCase {
  const ramMB = boundedCell(row, 'ram_mb', CASE_LIMITS.ramMB);
  const ramKiB = isBlank(row, 'ram_kib') ? undefined : exactRamOf(row, ramMB);
  const bandwidthMbps = boundedCell(row, 'max_bandwidth_mbit_s', CASE_LIMITS.bandwidthMbps);
  const downtimeLimitMs = boundedCell(row, 'downtime_limit_ms', CASE_LIMITS.downtimeLimitMs);
  const settings: CaseSettings = {
    convergenceTimeoutSeconds: boundedCell(row, 'timeout_s', CASE_LIMITS.convergenceTimeoutSeconds),
    warmupSeconds: isBlank(row, 'warmup_s') ? DEFAULT_WARMUP_SECONDS : boundedCell(row, 'warmup_s', CASE_LIMITS.warmupSeconds),
  };
  const workload = workloadOf(row, ramMB, settings);
  const measured = parseResult(row);
  const migrationCase = { id: measured.id, ramMB, ...(ramKiB === undefined ? {} : { ramKiB }), workload, bandwidthMbps, downtimeLimitMs, training: false };
  return { migrationCase, settings, measured };
}

function exactRamOf(row: CsvRow, ramMB: number): number {
  const ramKiB = numberCell(row, 'ram_kib');
  if (!Number.isInteger(ramKiB) || Math.floor(ramKiB / 1024) !== ramMB) {
    throw new BadCellError('ram_kib', `ram_kib: expected a whole number of KiB from ${ramMB * 1024} to ${ramMB * 1024 + 1023} (ram_mb ${ramMB}), got ${quoted(row.ram_kib ?? '')}`);
  }
  return ramKiB;
}

function workloadOf(row: CsvRow, ramMB: number, settings: CaseSettings): CaseWorkload {
  const kind = row.workload ?? '';
  switch (kind) {
    case 'idle':
      requireNone(row, 'buffer_mb', 'an idle guest has no buffer');
      requireNone(row, 'dirty_mb_s', 'an idle guest dirties nothing');
      return { kind: 'idle' };
    case 'buffer': {
      requireNone(row, 'dirty_mb_s', 'a buffer is filled once and then held; a guest that keeps rewriting it is workload dirty');
      const sleepMs = (settings.warmupSeconds + settings.convergenceTimeoutSeconds) * 1000 + HELD_BEYOND_THE_CASE_MS;
      return { kind: 'memory', bufferMB: bufferOf(row, ramMB), sleepMs };
    }
    case 'dirty':
    case 'rewrite':
    case 'sweep':
      return { kind, bufferMB: bufferOf(row, ramMB), rateMBps: boundedCell(row, 'dirty_mb_s', CASE_LIMITS.dirtyMBps) };
    default:
      throw new BadCellError('workload', `workload: expected idle, buffer, dirty, rewrite or sweep, got ${quoted(kind)}`);
  }
}

function bufferOf(row: CsvRow, ramMB: number): number {
  const bufferMB = boundedCell(row, 'buffer_mb', CASE_LIMITS.bufferMB);
  if (bufferMB >= ramMB) throw new BadCellError('buffer_mb', `buffer_mb: a ${bufferMB} MB buffer does not fit in a ${ramMB} MB guest`);
  return bufferMB;
}

/** A cell the workload has no use for must say so (empty or 0) rather than be silently ignored. */
function requireNone(row: CsvRow, column: string, why: string): void {
  if (isBlank(row, column) || Number(row[column]) === 0) return;
  throw new BadCellError(column, `${column}: ${why}; leave it empty, got ${quoted(row[column] ?? '')}`);
}
