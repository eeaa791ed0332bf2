import { COUNTERS } from '../monitor/counters.ts';
import type { MigrationProgress } from '../platforms/platform.ts';
import type { ActionRecord, DecisionRecord, MigrationRecord, MigrationRow, RecordSink, RequestRecord, SampleRecord } from '../record/records.ts';
import type { MigrationStart, PlannedAction, RunObserver } from '../run/run-observer.ts';

/**
 * How much the live state keeps: the sim makes millions of records, and every snapshot goes
 * to every page, so each list is cut to its most recent entries.
 */
export const LIVE_LIMITS = {
  /** Points of the host CPU series (sampling rounds). */
  cpuPoints: 600,
  latencyBuckets: 600,
  endedMigrations: 50,
  /** Fired actions shown, the latest; and waiting ones, the next. */
  actionsShown: 100,
  /** Hosts with counters and a CPU series; more are left out. */
  hosts: 256,
  countersPerHost: 32,
  clientTypes: 16,
} as const;

export interface InFlightMigration extends MigrationStart {
  /** The platform's last word on it, null before the first (or on a platform that says nothing). */
  progress: MigrationProgress | null;
}

/** An action still to fire, `due_s` counted from the last one that fired as the script counts it. */
export interface WaitingAction {
  due_s: number;
  action: string;
  args: string;
  line: number;
}

/** What `/events` sends: the run as it stands, every list bounded by LIVE_LIMITS. */
export interface LiveSnapshot {
  status: 'running' | 'finished';
  /** The experiment time of the latest record or event, in seconds. */
  time_s: number;
  /** Each host's latest value of each counter. */
  counters: { host: string; values: Record<string, { value: number; unit: string }> }[];
  /** cpu.usagemhz of each host at each of the latest sampling rounds (null where a host had no sample). */
  cpu: { unit: string; time_s: number[]; hosts: { host: string; values: (number | null)[] }[] };
  /** Client latency of answered requests (status ok) by when they were answered, in buckets of `bucket_s` starting at `start_s`. */
  latency: { bucket_s: number; start_s: number[]; types: { client_type: string; mean_ms: (number | null)[]; max_ms: (number | null)[] }[] };
  in_flight: InFlightMigration[];
  /** The latest migrations that ended, the latest last. */
  ended: MigrationRow[];
  counts: { migrations: Record<string, number>; requests: Record<string, number>; decisions: Record<string, number> };
  actions: { fired: ActionRecord[]; fired_total: number; waiting: WaitingAction[]; waiting_total: number };
}

interface LatencyBucket {
  startS: number;
  byType: Map<string, { count: number; sumMs: number; maxMs: number }>;
}

/**
 * The run's live state for `run --serve`'s page, kept from its records and its observer calls:
 * bounded whatever the run's length. `version` grows with every change.
 */
export class LiveState implements RecordSink, RunObserver {
  private changes = 0;
  private status: LiveSnapshot['status'] = 'running';
  private timeS = 0;
  private readonly counters = new Map<string, Map<string, { value: number; unit: string }>>();
  private readonly cpuTimes: number[] = [];
  private readonly cpuByHost = new Map<string, (number | null)[]>();
  private readonly latency: LatencyBucket[] = [];
  private readonly clientTypes = new Set<string>();
  private readonly inFlight = new Map<string, InFlightMigration>();
  private readonly ended: MigrationRow[] = [];
  private readonly migrationCounts: Record<string, number> = {};
  private readonly requestCounts: Record<string, number> = {};
  private readonly decisionCounts: Record<string, number> = {};
  private planned: PlannedAction[] = [];
  private plannedIndex = new Map<number, number>();
  /** The planned action to fire next (an index into `planned`). */
  private nextAction = 0;
  /** When the last action fired, or the timeline started. */
  private lastFiredS = 0;
  /** No more actions fire: `end` fired, or one was interrupted. */
  private timelineOver = false;
  private readonly fired: ActionRecord[] = [];
  private firedTotal = 0;

  /** `latencyBucketSeconds`: the width of the latency buckets (the sampling interval reads well). */
  constructor(private readonly latencyBucketSeconds = 10) {}

  get version(): number {
    return this.changes;
  }

  get isFinished(): boolean {
    return this.status === 'finished';
  }

  /** The run has ended. */
  finish(): void {
    this.status = 'finished';
    this.changed();
  }

  timeline(actions: PlannedAction[]): void {
    this.planned = actions;
    this.plannedIndex = new Map(actions.map((action, index) => [action.line, index]));
    this.nextAction = 0;
    this.lastFiredS = actions.length > 0 ? (actions[0] as PlannedAction).scheduled_s - (actions[0] as PlannedAction).delay_s : this.timeS;
    this.changed();
  }

  migrationStarted(start: MigrationStart): void {
    this.inFlight.set(start.vm, { ...start, progress: null });
    this.advanceTo(start.requested_s);
    this.changed();
  }

  migrationProgress(vm: string, progress: MigrationProgress): void {
    const migration = this.inFlight.get(vm);
    if (!migration) return;
    const { at_s, pass, transferred, remaining, status } = progress;
    migration.progress = { at_s, pass, transferred, remaining, status };
    // At least this late: `at_s` counts from the platform's start, at or after the request.
    this.advanceTo(migration.requested_s + at_s);
    this.changed();
  }

  sample(record: SampleRecord): void {
    this.advanceTo(record.time_s);
    let values = this.counters.get(record.host);
    if (!values) {
      if (this.counters.size >= LIVE_LIMITS.hosts) return;
      values = new Map();
      this.counters.set(record.host, values);
    }
    if (values.has(record.counter) || values.size < LIVE_LIMITS.countersPerHost) values.set(record.counter, { value: record.value, unit: record.unit });
    if (record.counter === COUNTERS.cpuUsage.name) this.addCpuPoint(record.host, record.time_s, record.value);
    this.changed();
  }

  action(record: ActionRecord): void {
    this.advanceTo(record.fired_s);
    this.fired.push(record);
    if (this.fired.length > LIVE_LIMITS.actionsShown) this.fired.shift();
    this.firedTotal++;
    const index = this.plannedIndex.get(record.line);
    if (index !== undefined) this.nextAction = index + 1;
    this.lastFiredS = record.fired_s;
    if (record.status === 'interrupted' || record.action === 'end') this.timelineOver = true;
    this.changed();
  }

  migration(record: MigrationRecord): void {
    this.advanceTo(record.ended_s);
    // A refused migration never started: it leaves one in flight of the same VM alone.
    if (this.inFlight.get(record.vm)?.requested_s === record.requested_s) this.inFlight.delete(record.vm);
    // Without the platform's details: a snapshot goes to every page several times a second.
    const row: MigrationRecord = { ...record };
    delete row.details;
    this.ended.push(row);
    if (this.ended.length > LIVE_LIMITS.endedMigrations) this.ended.shift();
    count(this.migrationCounts, record.status);
    this.changed();
  }

  request(record: RequestRecord): void {
    this.advanceTo(record.received_s);
    count(this.requestCounts, record.status);
    if (record.status === 'ok') this.addLatency(record.client_type, record.received_s, record.latency_ms);
    this.changed();
  }

  decision(record: DecisionRecord): void {
    this.advanceTo(record.time_s);
    count(this.decisionCounts, record.outcome);
    this.changed();
  }

  snapshot(): LiveSnapshot {
    const types = [...this.clientTypes];
    return {
      status: this.status,
      time_s: this.timeS,
      counters: [...this.counters].map(([host, values]) => ({ host, values: Object.fromEntries(values) })),
      cpu: {
        unit: COUNTERS.cpuUsage.unit,
        time_s: [...this.cpuTimes],
        hosts: [...this.cpuByHost].map(([host, values]) => ({ host, values: [...values] })),
      },
      latency: {
        bucket_s: this.latencyBucketSeconds,
        start_s: this.latency.map((bucket) => bucket.startS),
        types: types.map((type) => {
          const cells = this.latency.map((bucket) => bucket.byType.get(type));
          return {
            client_type: type,
            mean_ms: cells.map((cell) => (cell ? cell.sumMs / cell.count : null)),
            max_ms: cells.map((cell) => cell?.maxMs ?? null),
          };
        }),
      },
      in_flight: [...this.inFlight.values()].map((migration) => ({ ...migration, progress: migration.progress && { ...migration.progress } })),
      ended: [...this.ended],
      counts: { migrations: { ...this.migrationCounts }, requests: { ...this.requestCounts }, decisions: { ...this.decisionCounts } },
      actions: { fired: [...this.fired], fired_total: this.firedTotal, ...this.waiting() },
    };
  }

  private waiting(): { waiting: WaitingAction[]; waiting_total: number } {
    if (this.timelineOver) return { waiting: [], waiting_total: 0 };
    const waiting: WaitingAction[] = [];
    let dueS = this.lastFiredS;
    for (const action of this.planned.slice(this.nextAction, this.nextAction + LIVE_LIMITS.actionsShown)) {
      dueS += action.delay_s;
      waiting.push({ due_s: dueS, action: action.action, args: action.args, line: action.line });
    }
    return { waiting, waiting_total: this.planned.length - this.nextAction };
  }

  private addCpuPoint(host: string, timeS: number, value: number): void {
    let values = this.cpuByHost.get(host);
    if (!values) {
      values = this.cpuTimes.map(() => null);
      this.cpuByHost.set(host, values);
    }
    if (this.cpuTimes.at(-1) !== timeS) {
      this.cpuTimes.push(timeS);
      for (const series of this.cpuByHost.values()) series.push(null);
      if (this.cpuTimes.length > LIVE_LIMITS.cpuPoints) {
        this.cpuTimes.shift();
        for (const series of this.cpuByHost.values()) series.shift();
      }
    }
    values[values.length - 1] = value;
  }

  private addLatency(clientType: string, receivedS: number, latencyMs: number): void {
    if (!this.clientTypes.has(clientType)) {
      if (this.clientTypes.size >= LIVE_LIMITS.clientTypes) return;
      this.clientTypes.add(clientType);
    }
    const bucket = this.latencyBucket(Math.floor(receivedS / this.latencyBucketSeconds) * this.latencyBucketSeconds);
    if (!bucket) return;
    const cell = bucket.byType.get(clientType);
    if (cell) {
      cell.count++;
      cell.sumMs += latencyMs;
      cell.maxMs = Math.max(cell.maxMs, latencyMs);
    } else {
      bucket.byType.set(clientType, { count: 1, sumMs: latencyMs, maxMs: latencyMs });
    }
  }

  /** The bucket starting at `startS`, made if need be; undefined when it is older than every bucket kept. */
  private latencyBucket(startS: number): LatencyBucket | undefined {
    // Requests are recorded as they end, nearly in order: the bucket is the last one, or near it.
    let index = this.latency.length;
    while (index > 0 && (this.latency[index - 1] as LatencyBucket).startS > startS) index--;
    const before = this.latency[index - 1];
    if (before?.startS === startS) return before;
    if (index === 0 && this.latency.length >= LIVE_LIMITS.latencyBuckets) return undefined;
    const bucket: LatencyBucket = { startS, byType: new Map() };
    this.latency.splice(index, 0, bucket);
    if (this.latency.length > LIVE_LIMITS.latencyBuckets) this.latency.shift();
    return bucket;
  }

  private advanceTo(timeS: number): void {
    if (timeS > this.timeS) this.timeS = timeS;
  }

  private changed(): void {
    this.changes++;
  }
}

function count(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
