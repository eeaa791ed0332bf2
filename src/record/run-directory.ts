import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { openBufferedFile } from './buffered-file.ts';
import type { BufferedWriter } from './buffered-writer.ts';
import { ACTION_COLUMNS, MIGRATION_COLUMNS, REQUEST_COLUMNS, SAMPLE_COLUMNS } from './columns.ts';
import { CsvFile } from './csv-file.ts';
import { errorCode } from './error-code.ts';
import type { ActionRecord, MigrationRecord, MigrationRow, RecordSink, RequestRecord, SampleRecord } from './records.ts';

/**
 * A run's output directory: `run.json` plus one CSV file per record type, each row
 * written as its record arrives, and `migration-details.jsonl` with what platforms tell
 * of their migrations beyond the CSV columns.
 */
export class RunDirectory implements RecordSink {
  readonly dir: string;
  readonly #runInfo: Record<string, unknown>;
  readonly #samples: CsvFile<SampleRecord>;
  readonly #actions: CsvFile<ActionRecord>;
  readonly #migrations: CsvFile<MigrationRow>;
  readonly #migrationDetails: BufferedWriter;
  readonly #requests: CsvFile<RequestRecord>;

  private constructor(dir: string, runInfo: Record<string, unknown>) {
    this.dir = dir;
    this.#runInfo = runInfo;
    this.#samples = new CsvFile(path.join(dir, 'samples.csv'), SAMPLE_COLUMNS);
    this.#actions = new CsvFile(path.join(dir, 'actions.csv'), ACTION_COLUMNS);
    this.#migrations = new CsvFile(path.join(dir, 'migrations.csv'), MIGRATION_COLUMNS);
    this.#migrationDetails = openBufferedFile(path.join(dir, 'migration-details.jsonl'));
    this.#requests = new CsvFile(path.join(dir, 'requests.csv'), REQUEST_COLUMNS);
  }

  /** Creates `dir`, which must be missing or empty, with run.json and the CSV files with their headers. */
  static open(dir: string, runInfo: Record<string, unknown>): RunDirectory {
    createEmptyDirectory(dir);
    writeJson(path.join(dir, 'run.json'), runInfo);
    return new RunDirectory(dir, runInfo);
  }

  sample(record: SampleRecord): void {
    this.#samples.append(record);
  }

  action(record: ActionRecord): void {
    this.#actions.append(record);
  }

  migration(record: MigrationRecord): void {
    const { details, ...row } = record;
    this.#migrations.append(row);
    if (details) {
      const key = { vm: row.vm, source: row.source, target: row.target, requested_s: row.requested_s, kind: row.kind, status: row.status };
      this.#migrationDetails.write(`${JSON.stringify({ ...key, ...details })}\n`);
    }
  }

  request(record: RequestRecord): void {
    this.#requests.append(record);
  }

  /** Writes buffered rows now; they also go out by themselves within about a second. */
  flush(): void {
    for (const file of this.#files()) file.flush();
  }

  /** Closes the CSV files, then rewrites run.json with `extra` merged over the run info. */
  finish(extra: Record<string, unknown>): void {
    for (const file of this.#files()) file.close();
    // After the CSV files, so a run.json that says how the run ended means they are complete.
    writeJson(path.join(this.dir, 'run.json'), { ...this.#runInfo, ...extra });
  }

  #files(): { flush(): void; close(): void }[] {
    return [this.#samples, this.#actions, this.#migrations, this.#migrationDetails, this.#requests];
  }
}

/** Creates `dir`, which must be missing or empty: a run or calibration never mixes with an earlier one. */
export function createEmptyDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new InputError(`output directory ${dir} exists and is not a directory`);
    }
    throw error;
  }
  if (fs.readdirSync(dir).length > 0) {
    throw new InputError(`output directory ${dir} already exists and is not empty; choose another or empty it`);
  }
}

// Through a temporary file and a rename, so a crash never leaves a half-written run.json.
function writeJson(file: string, value: unknown): void {
  const temporary = `${file}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(temporary, file);
}
