import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { PlatformOptions } from '../../../src/platforms/platform.ts';
import type { MigrationIntegrity } from '../../../src/load/integrity.ts';
import type { QemuMigrationStats } from '../../../src/platforms/qemu/migration.ts';
import { openQemuPlatform, type QemuPlatform } from '../../../src/platforms/qemu/qemu-platform.ts';
import { fanOut } from '../../../src/record/fan-out.ts';
import type { ActionRecord, MigrationRecord, RecordSink, RequestRecord, SampleRecord } from '../../../src/record/records.ts';
import { RunDirectory } from '../../../src/record/run-directory.ts';
import type { RunOutcome } from '../../../src/run/runner.ts';
import { describeRun, executeRun, prepareRun } from '../../../src/run/session.ts';
import { parseScript } from '../../../src/script/parse.ts';
import { placementOf } from '../../../src/script/validate.ts';
import { readCsvFile } from '../../support/cli.ts';

export interface QemuRun {
  /** The run directory the run was recorded into, as `vm-monitoring run --out` writes it. */
  dir: string;
  samples: SampleRecord[];
  actions: ActionRecord[];
  migrations: MigrationRecord[];
  requests: RequestRecord[];
  outcome: RunOutcome;
  runJson: Record<string, unknown>;
}

/** Platform options as the CLI builds them (no TLS settings: the lab is reached over unix sockets). */
export function platformOptions(configPath: string | undefined, placement: PlatformOptions['placement']): PlatformOptions {
  return { configPath, seed: 1, placement, caFile: undefined, insecure: false };
}

/** Opens the qemu platform for `script` with the config at `configPath`. */
export async function openForScript(script: string, configPath: string): Promise<QemuPlatform> {
  return openQemuPlatform(platformOptions(configPath, placementOf(parseScript(script, 'test.txt'))));
}

/**
 * Runs `script` on an open qemu platform in this process, as the CLI does: every record goes
 * to a run directory `out` (which must be missing or empty) and is also kept in memory.
 */
export async function runOnQemu(
  platform: QemuPlatform,
  script: string,
  options: { out: string; intervalSeconds?: number; signal?: AbortSignal },
): Promise<QemuRun> {
  const experiment = parseScript(script, 'test.txt');
  const prepared = await prepareRun(experiment, platform, options.intervalSeconds);
  const runJson = describeRun(prepared, { scriptPath: 'test.txt', scriptText: script, seed: 1, maxMigrationsPerHost: 4 });
  const run = {
    samples: [] as SampleRecord[],
    actions: [] as ActionRecord[],
    migrations: [] as MigrationRecord[],
    requests: [] as RequestRecord[],
  };
  const memory: RecordSink = {
    sample: (record) => run.samples.push(record),
    action: (record) => run.actions.push(record),
    migration: (record) => run.migrations.push(record),
    request: (record) => run.requests.push(record),
    decision: () => {},
  };
  const runDirectory = RunDirectory.open(options.out, runJson);
  let status = 'failed';
  try {
    const outcome = await executeRun(prepared, fanOut(runDirectory, memory), {
      maxMigrationsPerHost: 4,
      signal: options.signal ?? new AbortController().signal,
    });
    status = outcome.status;
    return { dir: options.out, ...run, outcome, runJson };
  } finally {
    runDirectory.finish({ status, ended_at: new Date().toISOString() });
  }
}

/** A line of migration-details.jsonl written for a qemu migration. */
export interface QemuDetailsLine {
  vm: string;
  source: string;
  target: string;
  requested_s: number;
  kind: string;
  status: string;
  qemu: QemuMigrationStats;
  integrity: MigrationIntegrity;
}

/** migrations.csv's rows and migration-details.jsonl's lines of a run directory. */
export function readMigrationFiles(dir: string): { rows: Record<string, string>[]; details: QemuDetailsLine[] } {
  const { rows } = readCsvFile(path.join(dir, 'migrations.csv'));
  const text = fs.readFileSync(path.join(dir, 'migration-details.jsonl'), 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'migration-details.jsonl ends with a newline');
  const details = text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as QemuDetailsLine);
  return { rows, details };
}

/** A number cell of a CSV file: null when empty. */
function cell(row: Record<string, string>, column: string): number | null {
  const text = row[column];
  assert.ok(text !== undefined, `column ${column}`);
  return text === '' ? null : Number(text);
}

/**
 * Asserts that the run directory's migration-details.jsonl has one line per row of
 * migrations.csv, in the same order, with QEMU's statistics agreeing with the row, and
 * returns the lines. For a succeeded migration: QEMU's total time, setup time and throughput
 * were read after completion, and the progress holds one record per pass (passes only grow,
 * never two records of one pass), ending with the completed one at QEMU's last pass.
 */
export function assertMigrationDetails(dir: string): QemuDetailsLine[] {
  const { rows, details } = readMigrationFiles(dir);
  assert.equal(details.length, rows.length, 'one line of migration-details.jsonl per migration');
  rows.forEach((row, i) => {
    const line = details[i] as QemuDetailsLine;
    const stats = line.qemu;
    const label = `migration ${i + 1} (${row.vm} ${row.source}->${row.target} ${row.status}): ${JSON.stringify({ ...line, qemu: { ...stats, progress: stats.progress.length } })}`;
    assert.deepEqual([line.vm, line.source, line.target, line.kind, line.status], [row.vm, row.source, row.target, row.kind, row.status], label);
    assert.ok(Math.abs(line.requested_s - (cell(row, 'requested_s') as number)) < 0.001, label);
    assert.deepEqual([stats.vm, stats.source, stats.target], [line.vm, line.source, line.target], label);
    assert.equal(cell(row, 'bytes'), stats.transferred_bytes, `bytes agree: ${label}`);
    assert.equal(cell(row, 'passes'), stats.passes, `passes agree: ${label}`);
    if (row.status !== 'succeeded') return;
    assert.equal(cell(row, 'downtime_ms'), stats.downtime_ms, `downtime agrees: ${label}`);
    assert.equal(stats.status, 'completed', label);
    assert.ok(stats.total_time_ms !== null && stats.total_time_ms > 0, `total-time: ${label}`);
    assert.ok(stats.setup_time_ms !== null && stats.setup_time_ms >= 0, `setup-time: ${label}`);
    assert.ok(stats.mbps !== null && stats.mbps > 0, `mbps: ${label}`);
    assert.ok(stats.transferred_bytes !== null && stats.transferred_bytes > 0, label);
    assert.ok(stats.downtime_ms !== null && stats.downtime_ms >= 0 && stats.downtime_ms < stats.total_time_ms, label);
    assert.ok(stats.passes !== null && stats.passes >= 2, `a first pass and the final stop-and-copy: ${label}`);
    const probeGap = cell(row, 'client_downtime_ms');
    assert.ok(probeGap !== null && stats.probe !== null && Math.abs(probeGap - stats.probe.maxGapMs) < 0.001, `the probe's gap (CSV: 3 decimals): ${label}`);
    // One record per pass while it runs (the first poll may still see QEMU's setup, pass 0,
    // before its first dirty-bitmap sync), then the completed state, which may repeat the pass
    // number of the stop-and-copy pass when a poll saw that one running.
    const progress = stats.progress.map((record) => `${record.pass}:${record.status}`).join(' ');
    const running = stats.progress.slice(0, -1);
    const last = stats.progress.at(-1);
    assert.ok(running.length >= 1 && last !== undefined, `progress records: ${label}`);
    assert.ok(running.every((record, j) => j === 0 || record.pass > (running[j - 1]?.pass as number)), `one progress record per pass: ${progress}`);
    assert.ok(running.every((record) => (record.pass === 0 ? record.status === 'setup' : record.status === 'active')), `setup, then active passes: ${progress}`);
    assert.ok((running[0]?.pass as number) <= 1, `from the first pass: ${progress}`);
    assert.ok(last.status === 'completed' && last.pass === stats.passes && last.pass >= (running.at(-1)?.pass as number), `ends completed at pass ${stats.passes}: ${progress}`);
    assert.ok(new Set(stats.progress.map((record) => record.pass).filter((pass) => pass > 0)).size >= 2, `the first and the last pass at least: ${progress}`);
    const transferred = stats.progress.map((record) => record.transferred);
    assert.ok(transferred.every((bytes, j) => j === 0 || bytes >= (transferred[j - 1] as number)), `bytes sent only grow: ${transferred.join(' ')}`);
    assert.equal(stats.progress.at(-1)?.transferred, stats.transferred_bytes, label);
  });
  return details;
}

/**
 * Asserts that the run directory shows the VMs' memory intact: every answer was checked and
 * clean (no `corrupt` request, corrupt_words 0 wherever an answer came), and every migration's
 * integrity in migration-details.jsonl is unflagged, with the VM answering after it. Returns
 * the answers checked and, per migration, the requests checked across it.
 */
export function assertIntact(dir: string): { checkedRequests: number; checkedPerMigration: number[] } {
  const { rows } = readCsvFile(path.join(dir, 'requests.csv'));
  const corrupt = rows.filter((row) => row.status === 'corrupt' || (row.corrupt_words !== '' && row.corrupt_words !== '0'));
  assert.deepEqual(corrupt, [], `${corrupt.length} answers with corrupt words`);
  const unchecked = rows.filter((row) => (row.status === 'ok') !== (row.corrupt_words === '0'));
  assert.deepEqual(unchecked, [], 'every ok answer says its data was checked, and only those');
  const { details } = readMigrationFiles(dir);
  for (const line of details) {
    const label = `${line.vm} ${line.source}->${line.target} ${line.status}: ${JSON.stringify(line.integrity)}`;
    assert.ok(line.integrity !== undefined, `migration-details.jsonl has the migration's integrity: ${label}`);
    assert.deepEqual(
      [line.integrity.flagged, line.integrity.corrupt_requests, line.integrity.corrupt_words, line.integrity.answered_after],
      [false, 0, 0, true],
      label,
    );
  }
  return {
    checkedRequests: rows.filter((row) => row.corrupt_words === '0').length,
    checkedPerMigration: details.map((line) => line.integrity.checked_requests),
  };
}
