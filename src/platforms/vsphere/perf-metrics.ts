import type { PerfMetricId } from './vim-client.ts';

/** A counter of ours (`cpu.usagemhz.average`, MHz) found under the server's key. */
export interface ResolvedCounter {
  key: number;
  name: string;
  unit: string;
}

/**
 * The metrics to query for one host, from what the server says it has (QueryAvailablePerfMetric).
 *
 * `each` (the default, the seed's way): every instance of a counter (CPUs, NICs), for the
 * monitor to average; the host-wide aggregate instance `""` is left out when instances exist,
 * since averaging a total with its own parts means nothing. A counter with only the aggregate
 * keeps it. `aggregate`: only `""` where the server has it, else the instances.
 */
export function selectMetrics(
  available: readonly PerfMetricId[],
  counters: ReadonlyMap<number, ResolvedCounter>,
  instances: 'each' | 'aggregate',
): PerfMetricId[] {
  const byCounter = new Map<number, PerfMetricId[]>();
  for (const metric of available) {
    if (!counters.has(metric.counterId)) continue;
    const list = byCounter.get(metric.counterId) ?? [];
    if (!list.some((m) => m.instance === metric.instance)) list.push(metric);
    byCounter.set(metric.counterId, list);
  }
  return [...byCounter.values()].flatMap((metrics) => {
    const aggregate = metrics.filter((m) => m.instance === '');
    const parts = metrics.filter((m) => m.instance !== '');
    if (instances === 'aggregate') return aggregate.length > 0 ? aggregate : parts;
    return parts.length > 0 ? parts : aggregate;
  });
}
