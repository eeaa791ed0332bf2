/**
 * The records of a run. Field names are the CSV column names; times are seconds since the
 * run started.
 */

export interface SampleRecord {
  time_s: number;
  host: string;
  counter: string;
  value: number;
  unit: string;
}

export type ActionStatus = 'fired' | 'interrupted';

export interface ActionRecord {
  scheduled_s: number;
  fired_s: number;
  action: string;
  args: string;
  postponed_ms: number;
  status: ActionStatus;
  line: number;
}

export type MigrationStatus = 'succeeded' | 'failed' | 'interrupted';
/**
 * `setup` migrations bring VMs to the placement line before the timeline starts; `script` ones
 * are the script's `migrate`; `drs`, `dpm` (emptying a host for standby) and `maintenance` ones
 * the placement policy started.
 */
export type MigrationKind = 'setup' | 'script' | 'drs' | 'dpm' | 'maintenance';

/** A migration as migrations.csv holds it. */
export interface MigrationRow {
  vm: string;
  source: string;
  target: string;
  requested_s: number;
  started_s: number;
  ended_s: number;
  duration_ms: number;
  downtime_ms: number | null;
  /** What clients felt: the longest gap between answers of a probe polling the VM during the migration. */
  client_downtime_ms: number | null;
  bytes: number | null;
  passes: number | null;
  status: MigrationStatus;
  reason: string;
  kind: MigrationKind;
}

export interface MigrationRecord extends MigrationRow {
  /** The platform's own account of the migration, kept in migration-details.jsonl. */
  details?: Record<string, unknown>;
}

/** `corrupt`: answered, but the server's checks found words of its data wrong (`corrupt_words` > 0). */
export type RequestStatus = 'ok' | 'error' | 'aborted' | 'corrupt';

export interface RequestRecord {
  client_type: string;
  client_id: string;
  sent_s: number;
  received_s: number;
  latency_ms: number;
  server: string;
  processing_ms: number | null;
  status: RequestStatus;
  /** The words of its data the server found wrong when it checked them: 0 when clean, null when it cannot tell. */
  corrupt_words: number | null;
}

export type DecisionPolicy = 'drs' | 'dpm' | 'maintenance';
/**
 * `move`: a migration asked of the dispatcher; `none`: nothing to do, and why; `done`: a step
 * completed (a host in maintenance is empty, out of maintenance, or awake); `failed`: a move
 * that must be made cannot be; `power-off`: DPM empties a host for standby; `standby`: the
 * host is in standby; `power-on`: DPM wakes a host.
 */
export type DecisionOutcome = 'move' | 'none' | 'done' | 'failed' | 'power-off' | 'standby' | 'power-on';

/** What the placement policy saw and chose at one moment, as decisions.csv holds it. */
export interface DecisionRecord {
  time_s: number;
  policy: DecisionPolicy;
  /** The level in force: DPM's on DPM's rows, DRS's on the others; null when off (maintenance moves are made at any level). */
  level: number | null;
  /** Each host's CPU use as a fraction of its capacity, `host=0.62` separated by spaces, as last sampled. */
  loads: string;
  /** The population standard deviation of those fractions: the imbalance DRS acts on. */
  spread: number | null;
  outcome: DecisionOutcome;
  vm: string;
  source: string;
  target: string;
  reason: string;
}

/** Where a run's records go, as they happen. */
export interface RecordSink {
  sample(record: SampleRecord): void;
  action(record: ActionRecord): void;
  migration(record: MigrationRecord): void;
  request(record: RequestRecord): void;
  decision(record: DecisionRecord): void;
}
