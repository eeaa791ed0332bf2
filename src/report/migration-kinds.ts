import type { MigrationKind } from '../record/records.ts';

/** Who starts the migrations of each kind: a kind added to MigrationKind must be placed here. */
const STARTED_BY: Record<MigrationKind, 'placement line' | 'script' | 'placement policy'> = {
  setup: 'placement line',
  script: 'script',
  drs: 'placement policy',
  maintenance: 'placement policy',
  dpm: 'placement policy',
};

/** Every kind migrations.csv may hold. */
export const MIGRATION_KINDS = Object.keys(STARTED_BY) as MigrationKind[];

/** The kinds started while the experiment runs, in the order the report shows them: the script's, then the policy's. */
export const EXPERIMENT_KINDS = MIGRATION_KINDS.filter((kind) => STARTED_BY[kind] !== 'placement line');

export function isPolicyMigration(kind: MigrationKind): boolean {
  return STARTED_BY[kind] === 'placement policy';
}

export const POLICY_KINDS = MIGRATION_KINDS.filter(isPolicyMigration);
