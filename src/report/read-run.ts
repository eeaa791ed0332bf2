import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { ACTION_COLUMNS, DECISION_COLUMNS, MIGRATION_COLUMNS, REQUEST_COLUMNS, SAMPLE_COLUMNS } from '../record/columns.ts';
import { errorCode } from '../record/error-code.ts';
import type { ActionRecord, DecisionRecord, MigrationRecord, RequestRecord, SampleRecord } from '../record/records.ts';
import { hasDataRow, readCsvRows } from './csv-reader.ts';
import { parseAction, parseDecision, parseMigration, parseRequest, parseSample } from './parse-records.ts';

/** What run.json holds: the run's parameters (see `describeRun`) and how it ended. */
export type RunInfo = Record<string, unknown>;

/** The files of a run directory, as RunDirectory writes them. */
const RUN_JSON = 'run.json';
const SAMPLES_CSV = 'samples.csv';
const ACTIONS_CSV = 'actions.csv';
const MIGRATIONS_CSV = 'migrations.csv';
const REQUESTS_CSV = 'requests.csv';
const DECISIONS_CSV = 'decisions.csv';

/** Reads run.json; the first thing to read of a run, as it also checks that `dir` is a run directory. */
export async function readRunInfo(dir: string): Promise<RunInfo> {
  await checkDirectory(dir);
  const file = path.join(dir, RUN_JSON);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (error) {
    const reason = errorCode(error) === 'ENOENT' ? 'no such file (is this a run directory?)' : (error as Error).message;
    throw new InputError(`cannot read ${file}: ${reason}`);
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (error) {
    throw jsonError(file, text, error as Error);
  }
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new InputError('expected a JSON object', { file, line: 1, column: 1 });
  }
  return info as RunInfo;
}

/** client_downtime_ms came later: runs recorded before it still read, with it null. */
const REQUIRED_MIGRATION_COLUMNS = MIGRATION_COLUMNS.filter((column) => column !== 'client_downtime_ms');

export async function readMigrations(dir: string): Promise<MigrationRecord[]> {
  const migrations: MigrationRecord[] = [];
  await readCsvRows(path.join(dir, MIGRATIONS_CSV), REQUIRED_MIGRATION_COLUMNS, (row) => migrations.push(parseMigration(row)));
  return migrations;
}

export async function readActions(dir: string): Promise<ActionRecord[]> {
  const actions: ActionRecord[] = [];
  await readCsvRows(path.join(dir, ACTIONS_CSV), ACTION_COLUMNS, (row) => actions.push(parseAction(row)));
  return actions;
}

/** The placement policy's decisions; undefined when the run has no decisions.csv (its script has no policy action). */
export async function readDecisions(dir: string): Promise<DecisionRecord[] | undefined> {
  const file = path.join(dir, DECISIONS_CSV);
  if (!fs.existsSync(file)) return undefined;
  const decisions: DecisionRecord[] = [];
  await readCsvRows(file, DECISION_COLUMNS, (row) => decisions.push(parseDecision(row)));
  return decisions;
}

export function streamSamples(dir: string, onSample: (sample: SampleRecord) => void): Promise<void> {
  return readCsvRows(path.join(dir, SAMPLES_CSV), SAMPLE_COLUMNS, (row) => onSample(parseSample(row)));
}

/** corrupt_words came later: runs recorded before it still read, with it null (not checked). */
const REQUIRED_REQUEST_COLUMNS = REQUEST_COLUMNS.filter((column) => column !== 'corrupt_words');

export function streamRequests(dir: string, onRequest: (request: RequestRecord) => void): Promise<void> {
  return readCsvRows(path.join(dir, REQUESTS_CSV), REQUIRED_REQUEST_COLUMNS, (row) => onRequest(parseRequest(row)));
}

/** Throws when the run recorded nothing to report on; reads only the first rows of its files. */
export async function assertRunNotEmpty(dir: string): Promise<void> {
  for (const name of [SAMPLES_CSV, MIGRATIONS_CSV, REQUESTS_CSV]) {
    if (await hasDataRow(path.join(dir, name))) return;
  }
  throw new InputError(`run directory ${dir} is empty: no samples, migrations or requests`);
}

async function checkDirectory(dir: string): Promise<void> {
  let stats: fs.Stats;
  try {
    stats = await fs.promises.stat(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new InputError(`run directory ${dir} does not exist`);
    throw new InputError(`cannot read run directory ${dir}: ${(error as Error).message}`);
  }
  if (!stats.isDirectory()) throw new InputError(`run directory ${dir} is not a directory`);
}

/** JSON.parse says where it stopped only as a character offset, when at all. */
function jsonError(file: string, text: string, error: Error): InputError {
  const offset = /at position (\d+)/.exec(error.message)?.[1];
  const message = `bad JSON: ${error.message.replace(/ in JSON at position \d+.*$/, '')}`;
  if (offset === undefined) return new InputError(`${file}: ${message}`);
  const before = text.slice(0, Number(offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  return new InputError(message, { file, line: before.split('\n').length, column: before.length - lineStart + 1 });
}
