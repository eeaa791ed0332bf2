import { COUNTERS } from '../../monitor/counters.ts';
import type { CounterReading } from '../platform.ts';
import type { VsphereInventory } from './inventory.ts';
import { selectMetrics, type ResolvedCounter } from './perf-metrics.ts';
import { averageSeries } from './sample-window.ts';
import type { VimSession } from './session.ts';
import type { PerfMetricId } from './vim-client.ts';

/** vCenter keeps an hour of real-time samples: no query asks for more. */
const MAX_SAMPLES = 180;
/** vCenter's real-time refresh rate, for a server that does not say its own. */
const FALLBACK_REFRESH_SECONDS = 20;

/**
 * The hosts' performance counters: ours (vCenter's names and units) found by name among the
 * server's, read at its real-time refresh rate, each interval's samples averaged.
 */
export class HostCounters {
  refreshSeconds = FALLBACK_REFRESH_SECONDS;
  /** Our counters by the server's key. */
  private counters = new Map<number, ResolvedCounter>();
  /** The metrics to query for each host (by its reference's value), asked once. */
  private readonly hostMetrics = new Map<string, PerfMetricId[]>();
  /** The newest sample time already averaged, per host, so that no sample counts twice. */
  private readonly newestSample = new Map<string, number>();

  constructor(
    private readonly session: VimSession,
    private readonly inventory: VsphereInventory,
    private readonly instances: 'each' | 'aggregate',
  ) {}

  /** Finds our counters among the server's and its refresh rate (asked of the first host). */
  async resolve(): Promise<void> {
    const wanted = Object.values(COUNTERS).filter((c) => c.name !== COUNTERS.vmCount.name);
    const available = await this.session.run(() => this.session.client.perfCounters());
    this.counters = new Map(
      available.flatMap((info) => {
        const counter = wanted.find((c) => c.name === info.name);
        return counter ? [[info.key, { key: info.key, name: counter.name, unit: counter.unit }] as const] : [];
      }),
    );
    const firstHost = this.inventory.hosts.values().next().value;
    if (firstHost) this.refreshSeconds = (await this.session.run(() => this.session.client.refreshRate(firstHost.ref))) ?? FALLBACK_REFRESH_SECONDS;
  }

  /** Our counter names and the server's keys for them, for run.json. */
  keys(): Record<string, number> {
    return Object.fromEntries([...this.counters.values()].map((c) => [c.name, c.key]));
  }

  /** Every host's counters, each the mean of its samples newer than the last call's. */
  async sample(elapsedS: number): Promise<CounterReading[]> {
    if (this.counters.size === 0) return [];
    const hosts = [...this.inventory.hosts.values()];
    for (const host of hosts) {
      if (this.hostMetrics.has(host.ref.value)) continue;
      const available = await this.session.run(() => this.session.client.availablePerfMetrics(host.ref, this.refreshSeconds));
      this.hostMetrics.set(host.ref.value, selectMetrics(available, this.counters, this.instances));
    }
    const maxSample = Math.min(MAX_SAMPLES, Math.max(1, Math.ceil(elapsedS / this.refreshSeconds - 1e-9)));
    const specs = hosts
      .map((host) => ({ entity: host.ref, maxSample, metricId: this.hostMetrics.get(host.ref.value) ?? [], intervalId: this.refreshSeconds }))
      .filter((spec) => spec.metricId.length > 0);
    const metrics = await this.session.run(() => this.session.client.queryPerf(specs));
    const readings: CounterReading[] = [];
    for (const metric of metrics) {
      const host = this.inventory.hostName(metric.entity);
      if (host === undefined) continue;
      const after = this.newestSample.get(metric.entity.value) ?? -Infinity;
      const times = metric.sampleTimes.map((t) => t.getTime());
      for (const series of metric.series) {
        const counter = this.counters.get(series.id.counterId);
        const value = averageSeries(times, series.values, after);
        if (counter && value !== undefined) {
          readings.push({ host, counter: counter.name, instance: series.id.instance, value, unit: counter.unit });
        }
      }
      const newest = Math.max(...times.filter((t) => Number.isFinite(t)));
      if (Number.isFinite(newest)) this.newestSample.set(metric.entity.value, Math.max(after, newest));
    }
    return readings;
  }
}
