import type { MigrationProgress } from '../platforms/platform.ts';
import type { MigrationKind } from '../record/records.ts';

/** A step of the script's timeline as the runner plans it when the timeline starts. */
export interface PlannedAction {
  /** When it fires if nothing before it is postponed: the timeline's start plus the delays up to it. */
  scheduled_s: number;
  /** Seconds after the previous action fired (the script's own timing). */
  delay_s: number;
  action: string;
  args: string;
  /** The script line, as its ActionRecord names it once fired. */
  line: number;
}

export interface MigrationStart {
  vm: string;
  source: string;
  target: string;
  kind: MigrationKind;
  requested_s: number;
}

/**
 * What goes on in a run that its records do not say until later (a live view): the timeline
 * ahead, and the migrations in flight. Their ends come as MigrationRecords, fired actions as
 * ActionRecords, through the RecordSink. Calls come from inside the run: an observer must not
 * throw, nor take long.
 */
export interface RunObserver {
  timeline(actions: PlannedAction[]): void;
  migrationStarted(start: MigrationStart): void;
  /** `vm` is moving (a VM moves once at a time); `progress.at_s` counts from the migration's start. */
  migrationProgress(vm: string, progress: MigrationProgress): void;
}
