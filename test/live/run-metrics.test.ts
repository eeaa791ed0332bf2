/** The run's metrics registry on its own: the migrations in flight, counted from their starts to their records. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunMetrics } from '../../src/live/run-metrics.ts';
import type { MigrationRecord } from '../../src/record/records.ts';

function ended(vm: string, status: MigrationRecord['status'] = 'succeeded'): MigrationRecord {
  return {
    vm, source: 'h1', target: 'h2', requested_s: 1, started_s: 1, ended_s: 3, duration_ms: 2000, downtime_ms: 5,
    client_downtime_ms: null, bytes: 1e6, passes: 2, status, reason: '', kind: 'script',
  };
}

async function inFlight(metrics: RunMetrics, kind: string): Promise<number | undefined> {
  const gauge = (await metrics.registry.getMetricsAsJSON()).find((metric) => metric.name === 'vm_monitoring_migrations_in_flight');
  return gauge?.values.find((value) => value.labels.kind === kind)?.value;
}

test('migrations in flight rise as they start and fall as they end; a refused one, never started, does not count', async () => {
  const metrics = new RunMetrics();
  metrics.migrationStarted({ vm: 'vm1', source: 'h1', target: 'h2', kind: 'script', requested_s: 1 });
  metrics.migrationStarted({ vm: 'vm2', source: 'h1', target: 'h2', kind: 'drs', requested_s: 1 });
  assert.equal(await inFlight(metrics, 'script'), 1);
  assert.equal(await inFlight(metrics, 'drs'), 1);
  metrics.migration(ended('vm1', 'failed'));
  metrics.migration(ended('vm3', 'failed')); // refused at once: no start
  assert.equal(await inFlight(metrics, 'script'), 0);
  assert.equal(await inFlight(metrics, 'drs'), 1);
});
