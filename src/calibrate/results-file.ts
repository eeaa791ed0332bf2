import path from 'node:path';
import { z } from 'zod';
import { InputError, quoted } from '../errors.ts';
import { CsvFile } from '../record/csv-file.ts';
import { BadCellError, readCsvRows, type CsvRow } from '../report/csv-reader.ts';
import { readJsonLines } from '../report/json-lines.ts';
import { boundedCell, isBlank } from './csv-cells.ts';
import type { CaseResult, MigrationCase } from './migration-case.ts';
import { caseProgressOf } from './pass-comparison.ts';

/** A case's result as one row of measured.csv or predicted.csv: convergence as yes or no; its progress is no column. */
type ResultRow = Omit<CaseResult, 'converged' | 'progress' | 'processes'> & { converged: string };

const RESULT_COLUMNS = ['id', 'converged', 'total_ms', 'downtime_ms', 'setup_ms', 'bytes', 'passes', 'reason'] as const;
/** What a results file must have: setup_ms and reason may be left out (a harness may not know them). */
export const REQUIRED_RESULT_COLUMNS = RESULT_COLUMNS.filter((column) => column !== 'setup_ms' && column !== 'reason');

/** Case results written as they come, so an interrupted calibration keeps what it measured. */
export class ResultsFile {
  readonly #file: CsvFile<ResultRow>;
  #writeError: Error | undefined;

  constructor(path: string) {
    this.#file = new CsvFile<ResultRow>(path, RESULT_COLUMNS, (error) => (this.#writeError = new Error(`cannot write ${path}: ${error.message}`)));
  }

  /** Writes the row at once; throws if it could not be written. */
  append(result: CaseResult): void {
    this.#file.append({ ...result, converged: result.converged ? 'yes' : 'no' });
    this.#file.flush();
    if (this.#writeError) throw this.#writeError;
  }

  close(): void {
    this.#file.close();
  }
}

/**
 * Reads a results file, keeping the results of `cases`; every case must be there. A
 * measured.csv's cases take their progress from the measured-details.jsonl the lab writes
 * beside it, where it has them (not a predicted.csv's, though it is in the same directory).
 */
export async function readResults(file: string, cases: readonly MigrationCase[]): Promise<Map<string, CaseResult>> {
  const results = new Map<string, CaseResult>();
  await readCsvRows(file, REQUIRED_RESULT_COLUMNS, (row) => {
    const result = parseResult(row);
    results.set(result.id, result);
  });
  const missing = cases.find((migrationCase) => !results.has(migrationCase.id));
  if (missing) throw new InputError(`${file}: no result for the grid's case ${missing.id}`);
  return withMeasuredAccounts(file, results);
}

/**
 * The results with their progress and QEMU processes from the measured-details.jsonl beside
 * `file`, where it is a measured.csv and that file has them.
 */
export async function withMeasuredAccounts(file: string, results: Map<string, CaseResult>): Promise<Map<string, CaseResult>> {
  if (path.basename(file) !== MEASURED_FILE) return results;
  const accounts = await readMeasuredAccounts(path.join(path.dirname(file), MEASURED_DETAILS_FILE), new Set(results.keys()));
  for (const [id, account] of accounts) results.set(id, { ...(results.get(id) as CaseResult), ...account });
  return results;
}

/** What the lab writes of a calibration's cases: the results, and QEMU's own account of each (one JSON line per case). */
export const MEASURED_FILE = 'measured.csv';
export const MEASURED_DETAILS_FILE = 'measured-details.jsonl';

const detailsLineSchema = z.object({
  id: z.string(),
  /** Null where the lab had no statistics of the case. */
  qemu: z
    .object({
      source_pid: z.number().int().positive().optional(),
      target_pid: z.number().int().positive().optional(),
      progress: z.array(
        z.object({
          at_s: z.number().nonnegative(),
          status: z.string(),
          pass: z.number().int().nonnegative(),
          transferred: z.number().nonnegative(),
          remaining: z.number().nonnegative(),
        }),
      ),
    })
    .nullable(),
});

/** What a measured-details.jsonl adds to a case's result. */
type MeasuredAccount = Pick<CaseResult, 'progress' | 'processes'>;

/**
 * The progress of the cases `ids` names, and the QEMU processes they migrated between, from a
 * measured-details.jsonl (one JSON line per case, QEMU's statistics under `qemu`); none when
 * there is no such file. A bad line is an error at that line, except a last line without its
 * newline: the lab was stopped while writing it.
 */
async function readMeasuredAccounts(file: string, ids: ReadonlySet<string>): Promise<Map<string, MeasuredAccount>> {
  const accounts = new Map<string, MeasuredAccount>();
  await readJsonLines(file, (json, line) => {
    const parsed = detailsLineSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(`${issue?.path.join('.') || 'the line'}: ${issue?.message ?? 'invalid'}`, { file, line, column: 1 });
    }
    const { id, qemu } = parsed.data;
    if (!qemu || !ids.has(id)) return;
    const { source_pid: source, target_pid: target } = qemu;
    accounts.set(id, { progress: caseProgressOf(qemu.progress), ...(source !== undefined && target !== undefined && { processes: { source, target } }) });
  });
  return accounts;
}

const NON_NEGATIVE = z.number().nonnegative();

/** A row of results (a measured.csv row, or the result columns of a measured file); throws BadCellError at a bad cell. */
export function parseResult(row: CsvRow): CaseResult {
  const number = (column: keyof ResultRow): number => boundedCell(row, column, NON_NEGATIVE);
  const optional = (column: keyof ResultRow): number | null => (isBlank(row, column) ? null : number(column));
  if (row.converged !== 'yes' && row.converged !== 'no') throw new BadCellError('converged', `converged: expected yes or no, got ${quoted(row.converged ?? '')}`);
  return {
    id: row.id as string,
    converged: row.converged === 'yes',
    total_ms: number('total_ms'),
    downtime_ms: optional('downtime_ms'),
    setup_ms: optional('setup_ms'),
    bytes: number('bytes'),
    passes: number('passes'),
    reason: row.reason ?? '',
  };
}
