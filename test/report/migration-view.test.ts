/** What the report page shows of one migration and of their distributions, computed from records and details lines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MigrationRecord } from '../../src/record/records.ts';
import { percentilesTable } from '../../src/report/distributions.ts';
import type { RunSummary } from '../../src/report/load-runs.ts';
import { passRows } from '../../src/report/migration-passes.ts';
import { MigrationRequestTally } from '../../src/report/migration-requests.ts';
import { htmlTable } from '../../src/report/page/html-table.ts';
import { probeFloorMs } from '../../src/report/probe-floor.ts';
import { ServerPerformance } from '../../src/report/server-performance.ts';
import type { Table } from '../../src/report/table.ts';
import { migration, request } from './run-fixture.ts';

const MB = 1e6;

describe('passes from the platforms’ progress', () => {
  it("takes QEMU's query-migrate at each pass: bytes, duration, rates and their ratio, its own dirty rate where it measured one", () => {
    const rows = passRows({
      qemu: {
        progress: [
          { at_s: 0.5, status: 'active', pass: 1, transferred: 0, remaining: 256 * MB, dirty_pages_rate: 0 },
          { at_s: 2.5, status: 'active', pass: 2, transferred: 200 * MB, remaining: 40 * MB, dirty_pages_rate: 2441 },
          { at_s: 3.0, status: 'active', pass: 3, transferred: 240 * MB, remaining: 10 * MB, dirty_pages_rate: 2441 },
          { at_s: 3.1, status: 'completed', pass: 3, transferred: 250 * MB, remaining: 0 },
        ],
      },
    });
    assert.deepEqual(
      rows.map((row) => [row.pass, row.startS, row.durationS, row.bytes / MB]),
      [
        [0, 0, 0.5, 0],
        [1, 0.5, 2, 200],
        [2, 2.5, 0.5, 40],
        [3, 3, 0.10000000000000009, 10],
      ],
    );
    const [setup, first, second] = rows;
    assert.deepEqual([setup?.dirtyRate, setup?.convergenceRatio], [null, null], 'the setup has no rates of a pass');
    assert.equal(first?.transferRate, 100 * MB);
    // Pass 1 had no measured rate: what pass 2 found pending (40 MB) over pass 1's 2 s.
    assert.deepEqual([first?.dirtyRate, first?.dirtyRateMeasured], [20 * MB, false]);
    assert.equal(first?.convergenceRatio, 0.2);
    assert.deepEqual([second?.dirtyRate, second?.dirtyRateMeasured], [2441 * 4096, true]);
  });

  it("takes the sim's progress, its setup as pass 0 from the migration's start", () => {
    const rows = passRows({
      sim: {
        progress: [
          { at_s: 0, status: 'setup', pass: 0, transferred: 0, remaining: 0 },
          { at_s: 0.4, status: 'active', pass: 1, transferred: 0, remaining: 268 * MB },
          { at_s: 1, status: 'active', pass: 2, transferred: 70 * MB, remaining: 20 * MB },
          { at_s: 1.2, status: 'succeeded', pass: 2, transferred: 90 * MB, remaining: 0 },
        ],
      },
    });
    assert.deepEqual(
      rows.map((row) => [row.pass, row.startS, row.bytes / MB]),
      [
        [0, 0, 0],
        [1, 0.4, 70],
        [2, 1, 20],
      ],
    );
  });

  it("takes libvirt's job statistics at each iteration, polled: no setup row before its first poll", () => {
    const rows = passRows({
      libvirt: {
        progress: [
          { at_s: 0.6, iteration: 1, job: { memory_processed: '30000000', memory_remaining: '130000000', memory_dirty_rate: '0' } },
          { at_s: 0.9, iteration: 2, job: { memory_processed: '60000000', memory_remaining: '0', memory_dirty_rate: '100' } },
          { at_s: 0.95, iteration: 3, job: { memory_processed: '61000000', memory_remaining: '0' } },
        ],
      },
    });
    assert.deepEqual(
      rows.map((row) => [row.pass, row.bytes / MB, row.dirtyRate]),
      [
        [1, 30, 0],
        [2, 1, 100 * 4096],
      ],
    );
  });

  it('has none where the platform reports no passes', () => {
    assert.deepEqual(passRows(undefined), []);
    assert.deepEqual(passRows({ vsphere: { task: 'task-1' } }), []);
  });
});

describe('the requests a migration touched', () => {
  it('counts those overlapping it on the migrating VM, with their latency, and not those of other VMs or times', () => {
    const migrations: MigrationRecord[] = [migration({ started_s: 10, ended_s: 20 }), migration({ started_s: 30, ended_s: 31 }), migration({ vm: 'vm2', started_s: 10, ended_s: 20 })];
    const tally = new MigrationRequestTally(migrations);
    tally.add(request({ sent_s: 5, received_s: 11, latency_ms: 6000 }));
    tally.add(request({ sent_s: 19, received_s: 35, latency_ms: 16000 })); // overlaps both of vm1's
    tally.add(request({ sent_s: 21, received_s: 29, latency_ms: 8000 }));
    tally.add(request({ sent_s: 12, received_s: 13, status: 'error' }));
    tally.add(request({ sent_s: 12, received_s: 13, server: 'vm3' }));
    const [first, second, third] = tally.result();
    assert.deepEqual(first, { requests: 3, ok: 2, failed: 1, latencyMeanMs: 11000, latencyMaxMs: 16000 });
    assert.deepEqual([second?.requests, second?.latencyMaxMs], [1, 16000]);
    assert.equal(third?.requests, 0);
  });
});

describe('the distributions', () => {
  const probed = (clientDowntimeMs: number, probe: Record<string, unknown>): MigrationRecord => ({
    ...migration({ started_s: 0, ended_s: 2, client_downtime_ms: clientDowntimeMs, downtime_ms: clientDowntimeMs / 2 }),
    details: { qemu: { probe } },
  });

  it("gives the probe's floor: its other gaps' 99th percentile where recorded, else the mean time between answers", () => {
    assert.equal(probeFloorMs(probed(100, { maxGapMs: 100, answers: 40, gapP99Ms: 12 })), 12);
    assert.equal(probeFloorMs(probed(100, { maxGapMs: 100, answers: 40 })), 50);
    assert.equal(probeFloorMs(migration({})), null);
  });

  it('gives per run the percentiles of migration time, downtime and felt downtime over succeeded non-setup migrations', () => {
    const migrations = [
      ...Array.from({ length: 100 }, (_, i) => probed(i + 1, { maxGapMs: i + 1, answers: 100, gapP99Ms: 5 })),
      { ...migration({ client_downtime_ms: 10_000 }), kind: 'setup' as const },
      migration({ status: 'failed', client_downtime_ms: 20_000 }),
    ];
    const table = percentilesTable([{ label: 'run', migrations } as unknown as RunSummary]);
    const row = table.rows[0] ?? [];
    const at = (header: string): unknown => row[table.columns.findIndex((column) => column.header === header)];
    assert.deepEqual([at('migrations'), at('felt downtime p50 [ms]'), at('felt downtime p95 [ms]'), at('felt downtime p99 [ms]'), at('downtime p99 [ms]')], [100, 50, 95, 99, 49.5]);
    assert.equal(at('migration time p50 [ms]'), 2000);
    assert.equal(at('probe floor [ms]'), 5);
  });
});

describe('Table 2 says when its split means nothing', () => {
  it('leaves the changes out when requests last as long as migrations or longer, and says why', () => {
    const performance = new ServerPerformance([migration({ started_s: 100, ended_s: 110 })]);
    for (let t = 0; t < 400; t += 200) performance.add(request({ sent_s: t, received_s: t + 200, latency_ms: 200_000 }));
    assert.match(performance.result().splitNotMeaningful ?? '', /^not meaningful: requests \(200 s on average\) last as long as migrations \(10 s\) or longer$/);
  });

  it('keeps them for requests shorter than migrations', () => {
    const performance = new ServerPerformance([migration({ started_s: 100, ended_s: 110 })]);
    for (let t = 0; t < 200; t += 1) performance.add(request({ sent_s: t, received_s: t + 0.5, latency_ms: 500 }));
    assert.equal(performance.result().splitNotMeaningful, null);
  });
});

describe('tables on the page', () => {
  const table: Table = {
    id: 't',
    title: 'T',
    caption: '',
    columns: [
      { header: 'run', kind: 'text' },
      { header: 'short [ms]', kind: 'milliseconds' },
      { header: 'long [ms]', kind: 'milliseconds' },
      { header: 'bytes average', kind: 'bytes' },
      { header: 'change', kind: 'percent-change' },
    ],
    rows: [
      ['a', 250, 12_345, 627_535_142, null],
      ['b', 300, 9_000, 27_535_142_000, null],
    ],
  };
  const html = htmlTable(table);

  it('are in a box of their own that scrolls sideways', () => {
    assert.match(html, /^<div class="table-wrap"><table>/);
  });

  it('read in units a person reads: seconds from 10 s, MB or GB', () => {
    assert.match(html, /<th>short \[ms\]<\/th><th>long \[s\]<\/th><th>bytes average \[GB\]<\/th>/);
    assert.match(html, /<td>a<\/td><td class="number">250<\/td><td class="number">12\.3<\/td><td class="number">0\.6<\/td>/);
  });

  it('leave out a column empty in every row', () => {
    assert.doesNotMatch(html, /change/);
  });
});
