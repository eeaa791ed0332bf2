import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { COUNTERS } from '../monitor/counters.ts';
import type { ActionRecord, DecisionRecord, MigrationRecord, RecordSink, RequestRecord, SampleRecord } from '../record/records.ts';
import type { MigrationStart } from '../run/run-observer.ts';

const PREFIX = 'vm_monitoring';

/** Each host counter in Prometheus' terms: base units in the name, the factor from vCenter's unit. */
const HOST_GAUGES: Record<string, { name: string; help: string; factor: number }> = {
  [COUNTERS.cpuUsage.name]: { name: 'host_cpu_usage_hertz', help: 'CPU the host used, averaged over the last sample (cpu.usagemhz.average)', factor: 1e6 },
  [COUNTERS.memConsumed.name]: { name: 'host_memory_consumed_bytes', help: 'Memory consumed (mem.consumed.average)', factor: 1024 },
  [COUNTERS.memActive.name]: { name: 'host_memory_active_bytes', help: 'Memory active (mem.active.average)', factor: 1024 },
  [COUNTERS.memShared.name]: { name: 'host_memory_shared_bytes', help: 'Memory shared (mem.shared.average)', factor: 1024 },
  [COUNTERS.memSwapUsed.name]: { name: 'host_memory_swap_used_bytes', help: 'Swap used (mem.swapused.average)', factor: 1024 },
  [COUNTERS.netUsage.name]: { name: 'host_network_usage_bytes_per_second', help: 'Network traffic (net.usage.average)', factor: 1024 },
  [COUNTERS.vmCount.name]: { name: 'host_vms', help: 'VMs on the host (vm.count)', factor: 1 },
  [COUNTERS.power.name]: { name: 'host_power_watts', help: 'Power the host drew (power.power.average)', factor: 1 },
};

const SECONDS_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const DOWNTIME_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * A run's records as Prometheus metrics (`/metrics` of `run --serve`), in a registry of its
 * own: host counters as gauges of their last sample, migrations, requests, actions and
 * decisions as counters, and migration and request times as histograms, in seconds.
 */
export class RunMetrics implements RecordSink {
  readonly registry = new Registry();
  private readonly hostGauges = new Map<string, { gauge: Gauge; factor: number }>();
  private readonly experimentTime: Gauge;
  private readonly migrations: Counter;
  private readonly inFlight: Gauge;
  /** The migrations started and not ended yet, by VM (a VM moves once at a time): a refused one never started. */
  private readonly started = new Map<string, string>();
  private readonly migratedBytes: Counter;
  private readonly migrationSeconds: Histogram;
  private readonly downtimeSeconds: Histogram;
  private readonly clientDowntimeSeconds: Histogram;
  private readonly requests: Counter;
  private readonly requestSeconds: Histogram;
  private readonly actions: Counter;
  private readonly decisions: Counter;

  constructor() {
    const registers = [this.registry];
    for (const [counter, { name, help, factor }] of Object.entries(HOST_GAUGES)) {
      this.hostGauges.set(counter, { gauge: new Gauge({ name: `${PREFIX}_${name}`, help, labelNames: ['host'], registers }), factor });
    }
    this.experimentTime = new Gauge({ name: `${PREFIX}_experiment_time_seconds`, help: 'Experiment time of the latest record', registers });
    this.migrations = new Counter({ name: `${PREFIX}_migrations_total`, help: 'Migrations that ended, by kind and status', labelNames: ['kind', 'status'], registers });
    this.inFlight = new Gauge({ name: `${PREFIX}_migrations_in_flight`, help: 'Migrations started and not ended yet, by kind', labelNames: ['kind'], registers });
    this.migratedBytes = new Counter({ name: `${PREFIX}_migration_transferred_bytes_total`, help: 'Bytes the ended migrations sent, where the platform says', labelNames: ['kind'], registers });
    this.migrationSeconds = new Histogram({ name: `${PREFIX}_migration_duration_seconds`, help: 'Migration time, from the request to completion, of succeeded migrations', labelNames: ['kind'], buckets: SECONDS_BUCKETS, registers });
    this.downtimeSeconds = new Histogram({ name: `${PREFIX}_migration_downtime_seconds`, help: 'Downtime the platform reported, of succeeded migrations', labelNames: ['kind'], buckets: DOWNTIME_BUCKETS, registers });
    this.clientDowntimeSeconds = new Histogram({ name: `${PREFIX}_migration_client_downtime_seconds`, help: "The probe's longest gap during a succeeded migration", labelNames: ['kind'], buckets: DOWNTIME_BUCKETS, registers });
    this.requests = new Counter({ name: `${PREFIX}_requests_total`, help: 'Client requests that ended, by client type and status', labelNames: ['client_type', 'status'], registers });
    this.requestSeconds = new Histogram({ name: `${PREFIX}_request_latency_seconds`, help: 'What clients waited for an answer', labelNames: ['client_type'], buckets: LATENCY_BUCKETS, registers });
    this.actions = new Counter({ name: `${PREFIX}_actions_total`, help: "The script's actions, by action and status", labelNames: ['action', 'status'], registers });
    this.decisions = new Counter({ name: `${PREFIX}_policy_decisions_total`, help: "The placement policy's decisions, by policy and outcome", labelNames: ['policy', 'outcome'], registers });
  }

  sample(record: SampleRecord): void {
    const host = this.hostGauges.get(record.counter);
    host?.gauge.set({ host: record.host }, record.value * host.factor);
    this.experimentTime.set(record.time_s);
  }

  action(record: ActionRecord): void {
    this.actions.inc({ action: record.action, status: record.status });
    this.experimentTime.set(record.fired_s);
  }

  migrationStarted(start: MigrationStart): void {
    this.started.set(start.vm, start.kind);
    this.inFlight.inc({ kind: start.kind });
  }

  migration(record: MigrationRecord): void {
    const kind = record.kind;
    const startedKind = this.started.get(record.vm);
    if (startedKind !== undefined) {
      this.started.delete(record.vm);
      this.inFlight.dec({ kind: startedKind });
    }
    this.migrations.inc({ kind, status: record.status });
    if (record.bytes !== null) this.migratedBytes.inc({ kind }, record.bytes);
    if (record.status === 'succeeded') {
      this.migrationSeconds.observe({ kind }, record.duration_ms / 1000);
      if (record.downtime_ms !== null) this.downtimeSeconds.observe({ kind }, record.downtime_ms / 1000);
      if (record.client_downtime_ms !== null) this.clientDowntimeSeconds.observe({ kind }, record.client_downtime_ms / 1000);
    }
    this.experimentTime.set(record.ended_s);
  }

  request(record: RequestRecord): void {
    this.requests.inc({ client_type: record.client_type, status: record.status });
    if (record.status === 'ok') this.requestSeconds.observe({ client_type: record.client_type }, record.latency_ms / 1000);
  }

  decision(record: DecisionRecord): void {
    this.decisions.inc({ policy: record.policy, outcome: record.outcome });
    this.experimentTime.set(record.time_s);
  }
}
