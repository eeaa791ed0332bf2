import path from 'node:path';
import type { MigrationKind } from '../record/records.ts';
import { readJsonLines } from './json-lines.ts';
import { MIGRATION_KINDS } from './migration-kinds.ts';

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
  const flagged: FlaggedMigration[] = [];
  await readJsonLines(path.join(dir, MIGRATION_DETAILS), (value) => {
    const migration = flaggedMigration(value);
    if (migration) flagged.push(migration);
  });
  return flagged;
}

function flaggedMigration(line: unknown): FlaggedMigration | null {
  if (typeof line !== 'object' || line === null) return null;
  const { vm, source, target, kind, requested_s: requestedS, integrity } = line as Record<string, unknown>;
  if ((integrity as { flagged?: unknown } | undefined)?.flagged !== true) return null;
  if (typeof vm !== 'string' || typeof source !== 'string' || typeof target !== 'string' || typeof requestedS !== 'number') return null;
  return { vm, source, target, kind: MIGRATION_KINDS.find((known) => known === kind) ?? 'script', requested_s: requestedS };
}

/**
 * The migrations with their details lines (matched by VM and request time, which the CSV has
 * to the millisecond); a migration without one keeps what it had.
 */
export async function withMigrationDetails<M extends { vm: string; requested_s: number; details?: Record<string, unknown> }>(dir: string, migrations: readonly M[]): Promise<M[]> {
  const linesOf = new Map<unknown, Record<string, unknown>[]>();
  await readJsonLines(path.join(dir, MIGRATION_DETAILS), (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const line = value as Record<string, unknown>;
    const ofVm = linesOf.get(line.vm);
    if (ofVm) ofVm.push(line);
    else linesOf.set(line.vm, [line]);
  });
  return migrations.map((migration) => {
    const line = linesOf.get(migration.vm)?.find((candidate) => typeof candidate.requested_s === 'number' && Math.abs(candidate.requested_s - migration.requested_s) < 0.001);
    return line === undefined ? migration : { ...migration, details: line };
  });
}
