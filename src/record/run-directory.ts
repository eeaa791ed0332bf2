import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { createMissingLevels, writeAll } from '../own-files.ts';
import { createBufferedFile } from './buffered-file.ts';
import type { BufferedWriter } from './buffered-writer.ts';
import { ACTION_COLUMNS, DECISION_COLUMNS, MIGRATION_COLUMNS, REQUEST_COLUMNS, SAMPLE_COLUMNS } from './columns.ts';
import { CsvFile } from './csv-file.ts';
import { errorCode } from './error-code.ts';
import { writeRequestLine, writeSampleLine } from './record-lines.ts';
import type { ActionRecord, DecisionRecord, MigrationRecord, MigrationRow, RecordSink, RequestRecord, SampleRecord } from './records.ts';

/**
 * Besides the writers' own second of wall time: on the sim, a wall second is thousands of
 * experiment seconds, so everything is also written out each time the experiment passes
 * another minute, and a killed run keeps all but its last experiment minute.
 */
const FLUSH_EVERY_EXPERIMENT_S = 60;

export interface RunDirectoryOptions {
  /** Hears, once, of the first record that could not be written (a full disk); the run should end. */
  onWriteError?: (reason: string) => void;
}

/**
 * A run's output directory: `run.json` plus one CSV file per record type, each row
 * written as its record arrives, and `migration-details.jsonl` with what platforms tell
 * of their migrations beyond the CSV columns, and `decisions.csv` when a placement policy
 * (DRS, maintenance) decided anything. A write error never throws: the file keeps its
 * whole rows, later records are dropped, and run.json ends up saying the run failed and why.
 */
export class RunDirectory implements RecordSink {
  readonly dir: string;
  readonly #runInfo: Record<string, unknown>;
  readonly #onWriteError: (reason: string) => void;
  readonly #samples: CsvFile<SampleRecord>;
  readonly #actions: CsvFile<ActionRecord>;
  readonly #migrations: CsvFile<MigrationRow>;
  readonly #migrationDetails: BufferedWriter;
  readonly #requests: CsvFile<RequestRecord>;
  /** Made at the first decision: a run without a placement policy has the seed's files only. */
  #decisions: CsvFile<DecisionRecord> | undefined;
  #writeError: string | undefined;
  #nextFlushS = FLUSH_EVERY_EXPERIMENT_S;

  private constructor(dir: string, runInfo: Record<string, unknown>, options: RunDirectoryOptions) {
    this.dir = dir;
    this.#runInfo = runInfo;
    this.#onWriteError = options.onWriteError ?? (() => {});
    this.#samples = new CsvFile(path.join(dir, 'samples.csv'), SAMPLE_COLUMNS, this.#failedWriting('samples.csv'), writeSampleLine);
    this.#actions = new CsvFile(path.join(dir, 'actions.csv'), ACTION_COLUMNS, this.#failedWriting('actions.csv'));
    this.#migrations = new CsvFile(path.join(dir, 'migrations.csv'), MIGRATION_COLUMNS, this.#failedWriting('migrations.csv'));
    this.#migrationDetails = createBufferedFile(path.join(dir, 'migration-details.jsonl'), this.#failedWriting('migration-details.jsonl'));
    this.#requests = new CsvFile(path.join(dir, 'requests.csv'), REQUEST_COLUMNS, this.#failedWriting('requests.csv'), writeRequestLine);
  }

  /** Creates `dir`, which must be missing or empty, with run.json and the CSV files with their headers. */
  static open(dir: string, runInfo: Record<string, unknown>, options: RunDirectoryOptions = {}): RunDirectory {
    createEmptyDirectory(dir);
    writeJson(path.join(dir, 'run.json'), runInfo, RUN_JSON_RESERVE_BYTES);
    return new RunDirectory(dir, runInfo, options);
  }

  /** The first write error, if any: then run.json says the run failed, whatever `finish` is told. */
  get writeError(): string | undefined {
    return this.#writeError;
  }

  sample(record: SampleRecord): void {
    this.#samples.append(record);
    this.#reached(record.time_s);
  }

  action(record: ActionRecord): void {
    this.#actions.append(record);
    this.#reached(record.fired_s);
  }

  migration(record: MigrationRecord): void {
    const { details, ...row } = record;
    this.#migrations.append(row);
    if (details) {
      const key = { vm: row.vm, source: row.source, target: row.target, requested_s: row.requested_s, kind: row.kind, status: row.status };
      this.#migrationDetails.write(`${JSON.stringify({ ...key, ...details })}\n`);
    }
    this.#reached(row.ended_s);
  }

  request(record: RequestRecord): void {
    this.#requests.append(record);
    this.#reached(record.received_s);
  }

  decision(record: DecisionRecord): void {
    this.#decisions ??= new CsvFile(path.join(this.dir, 'decisions.csv'), DECISION_COLUMNS, this.#failedWriting('decisions.csv'));
    this.#decisions.append(record);
    this.#reached(record.time_s);
  }

  /** Writes buffered rows now; they also go out by themselves within about a second. */
  flush(): void {
    for (const file of this.#files()) file.flush();
  }

  /** Closes the files, then rewrites run.json with `extra` merged over the run info. */
  finish(extra: Record<string, unknown>): void {
    for (const file of this.#files()) file.close();
    const lost = this.#writeError === undefined ? {} : { status: 'failed', error: this.#writeError };
    // After the files, so a run.json that says how the run ended means they are complete.
    writeJson(path.join(this.dir, 'run.json'), { ...this.#runInfo, ...extra, ...lost });
  }

  #reached(experimentS: number): void {
    if (experimentS < this.#nextFlushS) return;
    this.flush();
    this.#nextFlushS = (Math.floor(experimentS / FLUSH_EVERY_EXPERIMENT_S) + 1) * FLUSH_EVERY_EXPERIMENT_S;
  }

  #failedWriting(file: string): (error: Error) => void {
    return (error) => {
      if (this.#writeError !== undefined) return;
      this.#writeError = `cannot write ${path.join(this.dir, file)}: ${error.message}`;
      this.#onWriteError(this.#writeError);
    };
  }

  #files(): { flush(): void; close(): void }[] {
    return [this.#samples, this.#actions, this.#migrations, this.#migrationDetails, this.#requests, ...(this.#decisions ? [this.#decisions] : [])];
  }
}

/**
 * Creates `dir` (see createMissingLevels), which must be missing or empty: a run or
 * calibration never mixes with an earlier one.
 */
export function createEmptyDirectory(dir: string): void {
  const absolute = createMissingLevels(dir, 'output directory');
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(absolute);
  } catch (error) {
    throw new InputError(`cannot read output directory ${dir}: ${(error as Error).message}`);
  }
  if (stats.isSymbolicLink()) throw new InputError(`output directory ${dir} is a symbolic link; give the directory itself`);
  if (!stats.isDirectory()) throw new InputError(`output directory ${dir} exists and is not a directory`);
  if (fs.readdirSync(absolute).length > 0) {
    throw new InputError(`output directory ${dir} already exists and is not empty; choose another or empty it`);
  }
  try {
    fs.accessSync(absolute, fs.constants.W_OK);
  } catch {
    throw new InputError(`output directory ${dir} is not writable`);
  }
}

/** Codes of a disk with no room left for run.json's new copy. */
const NO_ROOM_CODES = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Room kept at the end of the first run.json (JSON allows trailing white space), so that
 * its last version, a few hundred bytes longer, fits in the blocks it already has.
 */
const RUN_JSON_RESERVE_BYTES = 4096;

/**
 * Through a new temporary file and a rename, so a crash never leaves a half-written run.json.
 * When the disk is too full for the copy, over the old one in place, within the room it keeps:
 * a run that failed for want of space must still say so.
 */
function writeJson(file: string, value: unknown, reserveBytes = 0): void {
  const text = JSON.stringify(value, null, 2) + '\n' + ' '.repeat(reserveBytes);
  const temporary = `${file}.tmp`;
  try {
    fs.rmSync(temporary, { force: true });
    fs.writeFileSync(temporary, text, { flag: 'wx' });
    fs.renameSync(temporary, file);
  } catch (error) {
    if (!NO_ROOM_CODES.has(errorCode(error) ?? '')) throw error;
    fs.rmSync(temporary, { force: true });
    overwriteInPlace(file, text);
  }
}

function overwriteInPlace(file: string, text: string): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
  try {
    const bytes = Buffer.from(text);
    writeAll(fd, bytes, 0);
    fs.ftruncateSync(fd, bytes.length);
  } finally {
    fs.closeSync(fd);
  }
}
