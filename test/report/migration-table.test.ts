import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import type { MigrationRecord } from '../../src/record/records.ts';
import {
  lightHeavyPairs,
  MIGRATION_TIME_COLUMNS,
  migrationTimeCells,
  migrationTimeRows,
  type LabelledMigrations,
} from '../../src/report/migration-table.ts';
import { readMigrations } from '../../src/report/read-run.ts';
import { withTempDir } from '../support/cli.ts';
import { migration, writeRun } from './run-fixture.ts';

function assertClose(actual: number | null | undefined, expected: number, message?: string): void {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) < 1e-9, `${message ?? ''} ${actual} ≠ ${expected}`);
}

function succeeded(durationMs: number, fields: Partial<MigrationRecord> = {}): MigrationRecord {
  return migration({ duration_ms: durationMs, ...fields });
}

/** Durations 1000, 2000, 3000, 4000 ms: mean 2500, std √(5/3)·1000. */
const LIGHT: MigrationRecord[] = [
  succeeded(3000, { downtime_ms: 100, client_downtime_ms: 250, bytes: 1e6, passes: 2 }),
  succeeded(1000, { downtime_ms: 300, client_downtime_ms: 650, bytes: 3e6, passes: 4 }),
  succeeded(4000),
  succeeded(2000),
  migration({ kind: 'setup', duration_ms: 99_000 }),
  migration({ kind: 'setup', status: 'failed', duration_ms: 1 }),
  migration({ status: 'failed', duration_ms: 10 }),
  migration({ status: 'interrupted', duration_ms: 50_000 }),
];

/** Durations 1500, 2000, 3000, 5000 ms: mean 2875, squared deviations 7 187 500. */
const HEAVY: MigrationRecord[] = [succeeded(1500), succeeded(2000), succeeded(3000), succeeded(5000)];

async function writtenAndReadBack(runs: Record<string, MigrationRecord[]>, tmp: string): Promise<LabelledMigrations[]> {
  const labelled: LabelledMigrations[] = [];
  for (const [label, migrations] of Object.entries(runs)) {
    const dir = path.join(tmp, label);
    writeRun(dir, { migrations });
    labelled.push({ label, migrations: await readMigrations(dir) });
  }
  return labelled;
}

describe('migration time table (seed Table 1)', () => {
  it('summarizes succeeded script migrations, leaving setup out and counting failures apart', async () => {
    await withTempDir(async (tmp) => {
      const [light] = migrationTimeRows(await writtenAndReadBack({ 'cpu/light': LIGHT }, tmp));
      assert.equal(light?.label, 'cpu/light');
      assert.equal(light?.succeeded, 4);
      assert.equal(light?.failed, 2);
      const { std, ...duration } = light!.durationMs;
      assert.deepEqual(duration, { count: 4, min: 1000, max: 4000, mean: 2500 });
      assertClose(std, Math.sqrt(5 / 3) * 1000);
      assert.equal(light?.downtimeMeanMs, 200);
      assert.equal(light?.downtimeMaxMs, 300);
      assert.equal(light?.clientDowntimeMeanMs, 450);
      assert.equal(light?.bytesMean, 2e6);
      assert.equal(light?.passesMean, 3);
      assert.equal(light?.changeFrom, undefined);
    });
  });

  it('gives the percentage change of heavy against light', () => {
    const rows = migrationTimeRows(
      [
        { label: 'cpu/light', migrations: LIGHT },
        { label: 'cpu/heavy', migrations: HEAVY },
      ],
      [{ base: 'cpu/light', other: 'cpu/heavy' }],
    );
    const change = rows[1]?.changeFrom;
    assert.equal(change?.base, 'cpu/light');
    assert.equal(change?.min, 50);
    assert.equal(change?.max, 25);
    assert.equal(change?.mean, 15);
    assertClose(change?.std, (Math.sqrt(7_187_500 / 3) / (Math.sqrt(5 / 3) * 1000) - 1) * 100);
    assert.equal(rows[0]?.changeFrom, undefined);
  });

  it('gives nothing to average for a run without succeeded migrations', () => {
    const [row] = migrationTimeRows([{ label: 'failing', migrations: [migration({ status: 'failed' })] }]);
    assert.deepEqual(row, {
      label: 'failing',
      succeeded: 0,
      failed: 1,
      durationMs: { count: 0, min: null, max: null, mean: null, std: null },
      downtimeMeanMs: null,
      downtimeMaxMs: null,
      clientDowntimeMeanMs: null,
      bytesMean: null,
      passesMean: null,
    });
  });

  it('refuses a pair naming a run that is not there', () => {
    assert.throws(
      () => migrationTimeRows([{ label: 'light', migrations: LIGHT }], [{ base: 'light', other: 'heavy' }]),
      (error: unknown) => error instanceof InputError && /no run labelled 'heavy'/.test(error.message),
    );
  });

  it('lays out cells in the order of the columns, changes after their statistic', () => {
    const rows = migrationTimeRows(
      [
        { label: 'light', migrations: LIGHT },
        { label: 'heavy', migrations: HEAVY },
      ],
      [{ base: 'light', other: 'heavy' }],
    );
    const [light, heavy] = rows.map(migrationTimeCells);
    assert.equal(heavy?.length, MIGRATION_TIME_COLUMNS.length);
    const at = (header: string): number => MIGRATION_TIME_COLUMNS.findIndex((column) => column.header === header);
    assert.equal(heavy?.[at('run')], 'heavy');
    assert.equal(heavy?.[at('min [ms]')], 1500);
    assert.equal(heavy?.[at('min change')], 50);
    assert.equal(heavy?.[at('average [ms]')], 2875);
    assert.equal(heavy?.[at('average change')], 15);
    assert.equal(light?.[at('min change')], null, 'no change for the base');
  });
});

describe('lightHeavyPairs', () => {
  it('pairs X/light with X/heavy and light with heavy, heavy against light', () => {
    assert.deepEqual(lightHeavyPairs(['memory2/heavy', 'cpu/light', 'memory2/light', 'cpu/heavy', 'memory/light', 'light', 'heavy']), [
      { base: 'cpu/light', other: 'cpu/heavy' },
      { base: 'memory2/light', other: 'memory2/heavy' },
      { base: 'light', other: 'heavy' },
    ]);
  });

  it('pairs the sample scripts\' names, light-X with heavy-X', () => {
    assert.deepEqual(lightHeavyPairs(['heavy-cpu', 'light-cpu', 'light-memory2']), [{ base: 'light-cpu', other: 'heavy-cpu' }]);
  });

  it('leaves other labels alone', () => {
    assert.deepEqual(lightHeavyPairs(['cpu', 'memory', 'lightweight', 'heavyweight', 'a/light', 'b/heavy']), []);
  });
});
