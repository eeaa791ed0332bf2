import { isPolicyMigration } from '../report/migration-kinds.ts';
import type { MigrationRecord, RecordSink, RequestRecord } from '../record/records.ts';

/** A one-line status on stderr, redrawn about once a second, only when stderr is a terminal. */
export class Progress implements RecordSink {
  private migrations = 0;
  private failedMigrations = 0;
  private interruptedMigrations = 0;
  /** Started by the placement policy (DRS, DPM, maintenance), counted apart: the script's own are what the progress expects. */
  private policyMigrations = 0;
  private requests = 0;
  private lastTimeS = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly expectedMigrations: number) {
    if (process.stderr.isTTY) this.timer = setInterval(() => this.draw(), 1000).unref();
  }

  sample(record: { time_s: number }): void {
    this.lastTimeS = record.time_s;
  }

  action(record: { fired_s: number }): void {
    this.lastTimeS = record.fired_s;
  }

  migration(record: MigrationRecord): void {
    if (isPolicyMigration(record.kind)) this.policyMigrations++;
    if (record.kind !== 'script') return;
    this.migrations++;
    if (record.status === 'failed') this.failedMigrations++;
    if (record.status === 'interrupted') this.interruptedMigrations++;
  }

  request(_record: RequestRecord): void {
    this.requests++;
  }

  decision(record: { time_s: number }): void {
    this.lastTimeS = record.time_s;
  }

  get summary(): string {
    const notSucceeded = [
      ...(this.failedMigrations > 0 ? [`${this.failedMigrations} failed`] : []),
      ...(this.interruptedMigrations > 0 ? [`${this.interruptedMigrations} interrupted`] : []),
    ];
    const note = notSucceeded.length > 0 ? ` (${notSucceeded.join(', ')})` : '';
    const policy = this.policyMigrations > 0 ? `, ${this.policyMigrations} by the placement policy` : '';
    return `${this.migrations} migrations${note}${policy}, ${this.requests} requests`;
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    process.stderr.write('\r\x1b[K');
  }

  private draw(): void {
    process.stderr.write(`\r\x1b[Kt=${Math.round(this.lastTimeS)} s  migrations ${this.migrations}/${this.expectedMigrations}  requests ${this.requests}`);
  }
}
