import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { errorCode } from '../record/error-code.ts';
import type { MigrationKind } from '../record/records.ts';

const MIGRATION_DETAILS = 'migration-details.jsonl';

/** A migration whose details line says its VM's memory is in doubt (`integrity.flagged`). */
export interface FlaggedMigration {
  vm: string;
  source: string;
  target: string;
  kind: MigrationKind;
  requested_s: number;
}

/**
 * The migrations that migration-details.jsonl flags; none when the run has no such file or
 * its platform flags nothing. A bad line is an error at that line, except a last line
 * without its newline: the run was cut short while writing it.
 */
export async function readFlaggedMigrations(dir: string): Promise<FlaggedMigration[]> {
  const file = path.join(dir, MIGRATION_DETAILS);
  const flagged: FlaggedMigration[] = [];
  const take = (text: string, line: number): void => {
    if (text.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new InputError(`bad JSON: ${(error as Error).message}`, { file, line, column: 1 });
    }
    const migration = flaggedMigration(parsed);
    if (migration) flagged.push(migration);
  };
  let pending = '';
  let line = 1;
  try {
    for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const lines = (pending + (chunk as string)).split('\n');
      pending = lines.pop() as string;
      for (const text of lines) take(text, line++);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    if (errorCode(error) === 'ENOENT') return [];
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    take(pending, line);
  } catch {
    // the unfinished last line of a run cut short
  }
  return flagged;
}

function flaggedMigration(line: unknown): FlaggedMigration | null {
  if (typeof line !== 'object' || line === null) return null;
  const { vm, source, target, kind, requested_s: requestedS, integrity } = line as Record<string, unknown>;
  if ((integrity as { flagged?: unknown } | undefined)?.flagged !== true) return null;
  if (typeof vm !== 'string' || typeof source !== 'string' || typeof target !== 'string' || typeof requestedS !== 'number') return null;
  return { vm, source, target, kind: kind === 'setup' ? 'setup' : 'script', requested_s: requestedS };
}
