import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MigrationRecord, RequestRecord } from '../../src/record/records.ts';
import { IntervalIndex } from '../../src/report/interval-index.ts';
import { streamRequests } from '../../src/report/read-run.ts';
import {
  SERVER_PERFORMANCE_COLUMNS,
  serverPerformanceCells,
  ServerPerformance,
  type Phase,
} from '../../src/report/server-performance.ts';
import { TimeBuckets } from '../../src/report/time-buckets.ts';
import { withTempDir } from '../support/cli.ts';
import { migration, request, writeRun } from './run-fixture.ts';

function assertClose(actual: number | null | undefined, expected: number, message?: string): void {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) < 1e-9, `${message ?? ''} ${actual} ≠ ${expected}`);
}

const MIGRATIONS: MigrationRecord[] = [
  migration({ vm: 'vm1', started_s: 10, ended_s: 20 }),
  migration({ vm: 'vm2', started_s: 30, ended_s: 40 }),
  // Refused at once: took no time.
  migration({ vm: 'vm1', started_s: 50, ended_s: 50, status: 'failed' }),
  migration({ vm: 'vm3', started_s: 0, ended_s: 5, kind: 'setup' }),
];

function phaseOf(served: RequestRecord): Phase {
  const performance = new ServerPerformance(MIGRATIONS);
  performance.add(served);
  const { migration: during, normal } = performance.result();
  assert.equal(during.responses + normal.responses, 1);
  return during.responses === 1 ? 'migration' : 'normal';
}

describe('server performance: which requests felt a migration', () => {
  it('counts a request inside a migration of its server', () => {
    assert.equal(phaseOf(request({ sent_s: 12, received_s: 13 })), 'migration');
  });

  it('counts requests straddling the start or the end', () => {
    assert.equal(phaseOf(request({ sent_s: 9.5, received_s: 10.5 })), 'migration');
    assert.equal(phaseOf(request({ sent_s: 19.8, received_s: 20.3 })), 'migration');
  });

  it('counts a request spanning a whole migration', () => {
    assert.equal(phaseOf(request({ sent_s: 9, received_s: 21 })), 'migration');
  });

  it('does not count requests that only touch a migration at its start or end', () => {
    assert.equal(phaseOf(request({ sent_s: 9, received_s: 10 })), 'normal');
    assert.equal(phaseOf(request({ sent_s: 20, received_s: 21 })), 'normal');
  });

  it('does not count a request served by another VM than the one migrating', () => {
    assert.equal(phaseOf(request({ sent_s: 12, received_s: 13, server: 'vm2' })), 'normal');
    assert.equal(phaseOf(request({ sent_s: 12, received_s: 13, server: 'vm9' })), 'normal');
  });

  it('counts setup migrations, but not one that took no time', () => {
    assert.equal(phaseOf(request({ sent_s: 1, received_s: 2, server: 'vm3' })), 'migration');
    assert.equal(phaseOf(request({ sent_s: 49.9, received_s: 50.1 })), 'normal');
  });
});

describe('server performance (seed Table 2)', () => {
  const REQUESTS: RequestRecord[] = [
    // During migrations: latencies 100, 200, 300, 400; one error.
    request({ sent_s: 12, received_s: 13, latency_ms: 100, processing_ms: 99 }),
    request({ sent_s: 9.5, received_s: 10.5, latency_ms: 200 }),
    request({ sent_s: 19.8, received_s: 20.3, latency_ms: 300, processing_ms: 299 }),
    request({ sent_s: 1, received_s: 2, latency_ms: 400, processing_ms: 399, server: 'vm3' }),
    request({ sent_s: 14, received_s: 15, latency_ms: 1, status: 'error' }),
    // Normal: latencies 50, 100, 150, 100, 100; one aborted.
    request({ sent_s: 9, received_s: 10, latency_ms: 50, processing_ms: 40 }),
    request({ sent_s: 20, received_s: 21, latency_ms: 100 }),
    request({ sent_s: 0, received_s: 1, latency_ms: 150 }),
    request({ sent_s: 49.9, received_s: 50.1, latency_ms: 100 }),
    request({ sent_s: 12, received_s: 13, latency_ms: 100, server: 'vm2' }),
    request({ sent_s: 13, received_s: 14, latency_ms: 1000, server: 'vm2', status: 'aborted' }),
  ];
  // Server-seconds: vm1 is active over [0, 50.1] and migrating for 10 s of it; vm2 over [12, 14],
  // its migration later; vm3 over [1, 2], all within its setup migration.
  const MIGRATION_SECONDS = 10 + 1;
  const NORMAL_SECONDS = 40.1 + 2;

  async function tableOfRun(): Promise<ReturnType<ServerPerformance['result']>> {
    return withTempDir(async (dir) => {
      writeRun(dir, { migrations: MIGRATIONS, requests: REQUESTS });
      const performance = new ServerPerformance(MIGRATIONS);
      await streamRequests(dir, (served) => performance.add(served));
      return performance.result();
    });
  }

  it('splits latencies into migration and normal, errors apart', async () => {
    const { migration: during, normal } = await tableOfRun();
    const { std: duringStd, ...duringLatency } = during.latencyMs;
    assert.deepEqual(duringLatency, { count: 4, min: 100, max: 400, mean: 250 });
    assertClose(duringStd, Math.sqrt((150 ** 2 + 50 ** 2 + 50 ** 2 + 150 ** 2) / 3));
    const { std: normalStd, ...normalLatency } = normal.latencyMs;
    assert.deepEqual(normalLatency, { count: 5, min: 50, max: 150, mean: 100 });
    assertClose(normalStd, Math.sqrt((50 ** 2 + 50 ** 2) / 4));
    assert.deepEqual([during.responses, during.errors, during.aborted], [4, 1, 0]);
    assert.deepEqual([normal.responses, normal.errors, normal.aborted], [5, 0, 1]);
    assertClose(during.processingMeanMs, (99 + 299 + 399) / 3);
    assert.equal(normal.processingMeanMs, 40);
  });

  it('gives responses per server-second of each phase', async () => {
    const { migration: during, normal } = await tableOfRun();
    assertClose(during.seconds, MIGRATION_SECONDS);
    assertClose(normal.seconds, NORMAL_SECONDS);
    assertClose(during.responsesPerSecond, 4 / MIGRATION_SECONDS);
    assertClose(normal.responsesPerSecond, 5 / NORMAL_SECONDS);
  });

  it('gives the changes of normal against migration', async () => {
    const { normalAgainstMigration: change } = await tableOfRun();
    assertClose(change.responsesPerSecond, ((5 / NORMAL_SECONDS) / (4 / MIGRATION_SECONDS) - 1) * 100);
    assert.equal(change.latencyMin, -50);
    assert.equal(change.latencyMax, -62.5);
    assert.equal(change.latencyMean, -60);
    assertClose(change.latencyStd, (Math.sqrt(5000 / 4) / Math.sqrt(50000 / 3) - 1) * 100);
  });

  it('lays out two rows per run in the order of the columns, changes on the normal row', async () => {
    const [during, normal] = serverPerformanceCells('cpu', await tableOfRun());
    const at = (header: string): number => SERVER_PERFORMANCE_COLUMNS.findIndex((column) => column.header === header);
    assert.equal(normal?.length, SERVER_PERFORMANCE_COLUMNS.length);
    assert.deepEqual([during?.[at('run')], during?.[at('phase')], during?.[at('max [ms]')]], ['cpu', 'migration', 400]);
    assert.deepEqual([normal?.[at('phase')], normal?.[at('max [ms]')], normal?.[at('max change')]], ['normal', 150, -62.5]);
    assert.equal(during?.[at('max change')], null);
  });

  it('has no rate for a phase that never happened', () => {
    const performance = new ServerPerformance([]);
    performance.add(request({ sent_s: 0, received_s: 1 }));
    const { migration: during, normal, normalAgainstMigration } = performance.result();
    assert.equal(during.responsesPerSecond, null);
    assert.equal(normal.responsesPerSecond, 1);
    assert.equal(normalAgainstMigration.responsesPerSecond, null);
  });

  it('counts a request nobody answered as an error without stretching any server\'s time', () => {
    const performance = new ServerPerformance([]);
    performance.add(request({ sent_s: 0, received_s: 1 }));
    performance.add(request({ sent_s: 50, received_s: 60, server: '', status: 'error' }));
    const { normal } = performance.result();
    assert.equal(normal.errors, 1);
    assert.equal(normal.seconds, 1);
  });

  it('buckets the latency of ok requests by the time they were received', () => {
    const performance = new ServerPerformance([]);
    performance.add(request({ sent_s: 0, received_s: 0.5, latency_ms: 10 }));
    performance.add(request({ sent_s: 1, received_s: 1.5, latency_ms: 20 }));
    performance.add(request({ sent_s: 1, received_s: 1.7, latency_ms: 40 }));
    performance.add(request({ sent_s: 1, received_s: 1.8, latency_ms: 900, status: 'error' }));
    performance.add(request({ sent_s: 9, received_s: 9.9, latency_ms: 5 }));
    assert.deepEqual(performance.latencyOverTime(10), {
      bucketSeconds: 1,
      points: [
        [0.5, 10, 10],
        [1.5, 30, 40],
        [9.5, 5, 5],
      ],
    });
  });
});

describe('TimeBuckets', () => {
  it('merges its buckets as later times arrive, into 1-2-5 widths', () => {
    const buckets = new TimeBuckets();
    buckets.add(0.5, 10);
    buckets.add(1.5, 20);
    buckets.add(9.9, 60);
    buckets.add(25, 7);
    // 25 s in at most 10 buckets: 2.5 s each at least, so 5 s.
    assert.deepEqual(buckets.series(10), {
      bucketSeconds: 5,
      points: [
        [2.5, 15, 20],
        [7.5, 60, 60],
        [27.5, 7, 7],
      ],
    });
    assert.equal(buckets.series(1000).bucketSeconds, 0.05);
  });

  it('keeps up with times far apart', () => {
    const buckets = new TimeBuckets();
    buckets.add(0, 1);
    buckets.add(86_400 * 365, 3);
    const { bucketSeconds, points } = buckets.series(1000);
    assert.ok(bucketSeconds >= 86_400 * 365 / 1000);
    assert.deepEqual(points.map(([, mean]) => mean), [1, 3]);
  });
});

describe('IntervalIndex', () => {
  it('finds an overlap with an interval hidden under a later-starting one', () => {
    const index = new IntervalIndex([
      { start: 2, end: 3 },
      { start: 0, end: 10 },
    ]);
    assert.equal(index.overlaps(5, 6), true);
    assert.equal(index.overlaps(10, 11), false);
    assert.equal(index.coveredSeconds(-5, 20), 10);
  });

  it('covers only the part of the intervals inside the asked span', () => {
    const index = new IntervalIndex([
      { start: 0, end: 10 },
      { start: 12, end: 15 },
    ]);
    assert.equal(index.overlaps(10, 12), false);
    assert.equal(index.coveredSeconds(5, 13), 6);
  });
});
