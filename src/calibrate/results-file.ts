import { z } from 'zod';
import { InputError, quoted } from '../errors.ts';
import { CsvFile } from '../record/csv-file.ts';
import { BadCellError, readCsvRows, type CsvRow } from '../report/csv-reader.ts';
import { boundedCell, isBlank } from './csv-cells.ts';
import type { CaseResult, MigrationCase } from './migration-case.ts';

/** A case's result as one row of measured.csv or predicted.csv: convergence as yes or no. */
type ResultRow = Omit<CaseResult, 'converged'> & { converged: string };

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

/** Reads a results file, keeping the results of `cases`; every case must be there. */
export async function readResults(file: string, cases: readonly MigrationCase[]): Promise<Map<string, CaseResult>> {
  const results = new Map<string, CaseResult>();
  await readCsvRows(file, REQUIRED_RESULT_COLUMNS, (row) => {
    const result = parseResult(row);
    results.set(result.id, result);
  });
  const missing = cases.find((migrationCase) => !results.has(migrationCase.id));
  if (missing) throw new InputError(`${file}: no result for the grid's case ${missing.id}`);
  return results;
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
