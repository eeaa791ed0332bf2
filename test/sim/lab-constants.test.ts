import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { casesOf, loadGrid } from '../../src/calibrate/grid.ts';
import type { CaseResult, MigrationCase } from '../../src/calibrate/migration-case.ts';
import { readResults } from '../../src/calibrate/results-file.ts';
import { withSourceProcesses } from '../../src/calibrate/source-process.ts';
import { median } from '../../src/report/statistics.ts';
import {
  LAB_GUEST_NONZERO_PER_RAM_MB,
  LAB_SYNC_SECONDS_PER_PAGE,
  LAB_SYNC_SECONDS_PER_PAGE_PER_DIRTY_MBPS,
  LAB_SYNC_SCAN_SECONDS_PER_PAGE,
  LAB_WORD_SYNC_SECONDS_PER_PAGE,
  LAB_GUEST_OS_DIRTY_MBPS,
  LAB_TLB_ENTRY_SYNC_SECONDS,
  LAB_BOOT_TLB_ENTRIES,
  LAB_FIRST_COPY_PAGE_SECONDS,
  LAB_ZERO_PAGE_SECONDS,
  costSpreadOf,
  switchoverStallOf,
  labConstantsOf,
  SAVED_LAB_CONSTANTS,
  setupSecondsPerPageOf,
} from '../../src/platforms/sim/calibration-runner.ts';

const MEASURED = 'samples/calibrate/measured-2026-11-25';

interface Progress { at_s: number; status: string; pass: number; transferred: number; remaining: number; normal_pages: number }
const details = readFileSync(`${MEASURED}/measured-details.jsonl`, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { id: string; qemu: { progress: Progress[] } });
const near = (actual: number, expected: number): boolean => Math.abs(actual / expected - 1) < 0.005;

test('the per-page sync\'s cost per dirty page is the idle cases\' setup time per page of RAM, less its test of every page', async () => {
  const gridCases = casesOf(loadGrid('samples/calibrate/grid.yaml'));
  const measured = await readResults(`${MEASURED}/measured.csv`, gridCases);
  const perPage = setupSecondsPerPageOf(withSourceProcesses(gridCases, measured).filter((c) => c.training), measured);
  assert.ok(perPage !== null && near(perPage - LAB_SYNC_SCAN_SECONDS_PER_PAGE, LAB_SYNC_SECONDS_PER_PAGE), `${perPage}`);
});

test('the saved constants are what calibrate measures on the fit halves of the saved grids', async () => {
  const cases: MigrationCase[] = [];
  const measured = new Map<string, CaseResult>();
  for (const [grid, results] of [['samples/calibrate/grid.yaml', `${MEASURED}/measured.csv`], ['samples/calibrate/whole-mib-2026-12-02/grid.yaml', 'samples/calibrate/whole-mib-2026-12-02/measured.csv']] as const) {
    const gridCases = casesOf(loadGrid(grid));
    const gridMeasured = await readResults(results, gridCases);
    cases.push(...withSourceProcesses(gridCases, gridMeasured));
    for (const [id, result] of gridMeasured) measured.set(id, result);
  }
  const constants = labConstantsOf(cases, measured);
  const savedNear = (actual: number, saved: number): boolean => Math.abs(actual / saved - 1) < 0.01;
  assert.ok(savedNear(constants.syncScanSecondsPerPage, LAB_SYNC_SCAN_SECONDS_PER_PAGE), `scan ${constants.syncScanSecondsPerPage}`);
  assert.ok(savedNear(constants.syncSecondsPerPage, LAB_SYNC_SECONDS_PER_PAGE), `per dirty page ${constants.syncSecondsPerPage}`);
  assert.ok(savedNear(constants.wordSyncSecondsPerPage, LAB_WORD_SYNC_SECONDS_PER_PAGE), `word-wise ${constants.wordSyncSecondsPerPage}`);
  assert.ok(savedNear(constants.guestOsDirtyMBps, LAB_GUEST_OS_DIRTY_MBPS), `idle dirtying ${constants.guestOsDirtyMBps}`);
  assert.ok(savedNear(constants.tlbEntrySyncSeconds, LAB_TLB_ENTRY_SYNC_SECONDS), `per TLB entry ${constants.tlbEntrySyncSeconds}`);
  assert.ok(savedNear(constants.bootTlbEntries, LAB_BOOT_TLB_ENTRIES), `after a boot ${constants.bootTlbEntries}`);
});

test('what a sync costs more per MB/s written is the 150 MB/s passes\' time without sending, per page', () => {
  const perPage = details
    .filter(({ id }) => id.includes('x150-') && !id.includes('-bw100-'))
    .flatMap(({ id, qemu }) => {
      const capBytesPerSecond = (Number(/-bw(\d+)-/.exec(id)?.[1]) * 1e6) / 8;
      const active = qemu.progress.filter((p) => p.status === 'active').slice(1);
      return active.slice(1).flatMap((b, i) => {
        const a = active[i] as Progress;
        if (b.pass !== a.pass + 1) return [];
        const idleSeconds = b.at_s - a.at_s - (b.transferred - a.transferred) / capBytesPerSecond;
        return [idleSeconds / (b.remaining / 4096)];
      });
    });
  assert.equal(perPage.length, 216);
  assert.ok(near(((median(perPage) as number) - LAB_SYNC_SECONDS_PER_PAGE) / 150, LAB_SYNC_SECONDS_PER_PAGE_PER_DIRTY_MBPS));
});

test('the idle guest\'s non-zero memory grows with RAM as the idle cases measured it', () => {
  const normalPages = (ram: number): number =>
    median(details.filter(({ id }) => id.startsWith(`ram${ram}-idle-`)).map(({ qemu }) => (qemu.progress.at(-1) as Progress).normal_pages)) as number;
  const perRamMB = ((normalPages(512) - normalPages(256)) * 4096) / (1024 * 1024) / 256;
  assert.ok(near(perRamMB, LAB_GUEST_NONZERO_PER_RAM_MB), `${perRamMB}`);
});

test('calibrate measures its constants on the fit cases only: each sync path from idle setups, the idle guest\'s dirtying from its bytes over time', () => {
  const idle = { kind: 'idle' } as const;
  const MB = 1024 * 1024;
  const cases: MigrationCase[] = [
    { id: 'padded-slow', ramMB: 256, ramKiB: 256 * 1024 + 8, workload: idle, bandwidthMbps: 100, downtimeLimitMs: 300, training: true },
    { id: 'padded-fast', ramMB: 256, ramKiB: 256 * 1024 + 8, workload: idle, bandwidthMbps: 1000, downtimeLimitMs: 300, training: true },
    { id: 'whole', ramMB: 512, workload: idle, bandwidthMbps: 1000, downtimeLimitMs: 300, training: true },
    { id: 'held-out', ramMB: 512, ramKiB: 512 * 1024 + 8, workload: idle, bandwidthMbps: 100, downtimeLimitMs: 30, training: false },
  ];
  const result = (id: string, total_ms: number, setup_ms: number, mb: number): [string, CaseResult] => [
    id,
    { id, converged: true, total_ms, downtime_ms: 5, setup_ms, bytes: mb * MB, passes: 3, reason: '' },
  ];
  const measured = new Map([
    result('padded-slow', 5000, 80, 60.4),
    result('padded-fast', 1000, 76, 60),
    result('whole', 600, 2, 64),
    result('held-out', 9000, 900, 500),
  ]);
  const constants = labConstantsOf(cases, measured);
  const pages = (ramKiB: number): number => ramKiB / 4;
  // No RAM size has idle cases on both paths to measure the test of every page: as saved, and taken off the setup's.
  assert.equal(constants.syncScanSecondsPerPage, LAB_SYNC_SCAN_SECONDS_PER_PAGE);
  assert.ok(near(constants.syncSecondsPerPage, 0.078 / pages(256 * 1024 + 8) - LAB_SYNC_SCAN_SECONDS_PER_PAGE), `${constants.syncSecondsPerPage}`);
  assert.ok(near(constants.wordSyncSecondsPerPage, 0.002 / pages(512 * 1024)), `${constants.wordSyncSecondsPerPage}`);
  assert.ok(near(constants.guestOsDirtyMBps, 0.1), `0.4 MB more in 4 s: ${constants.guestOsDirtyMBps}`);
  assert.equal(constants.syncSecondsPerPagePerDirtyMBps, LAB_SYNC_SECONDS_PER_PAGE_PER_DIRTY_MBPS, 'not measurable from totals: as saved');
  assert.deepEqual(labConstantsOf(cases.slice(2), measured), { ...SAVED_LAB_CONSTANTS, wordSyncSecondsPerPage: constants.wordSyncSecondsPerPage }, 'what the cases cannot measure is as saved');
});

test('the cost spread and the switchover stall come from the 10th-90th percentile span of each case\'s repetitions', () => {
  const cases: MigrationCase[] = [100, 110, 121, 133.1, 146.41].map((_, i) => ({
    id: `idle-r${i + 1}`, ramMB: 256, workload: { kind: 'idle' }, bandwidthMbps: 1000, downtimeLimitMs: 300, training: true, repetition: i + 1,
  }));
  const measured = new Map(cases.map((c, i): [string, CaseResult] => [c.id, { id: c.id, converged: true, total_ms: 500, downtime_ms: 5 + 2 * i, setup_ms: 100 * 1.1 ** i, bytes: 1, passes: 3, reason: '' }]));
  // Five repetitions: the 10th and 90th percentiles sit 0.4 and 3.6 steps up.
  assert.ok(Math.abs((costSpreadOf(cases, measured) as number) - (3.2 * Math.log(1.1)) / 2.563) < 1e-9);
  assert.ok(Math.abs((switchoverStallOf(cases, measured) as number) - 0.0064 / 2.197) < 1e-9);
  assert.equal(costSpreadOf(cases.slice(0, 3), measured), null, 'too few repetitions to say');
  assert.equal(switchoverStallOf(cases.slice(0, 3), measured), null, 'too few repetitions to say');
  assert.equal(costSpreadOf(cases.map(({ repetition: _, ...c }) => c), measured), null, 'nothing repeated');
});

test('a zero page\'s time and a first copy\'s are the unthrottled cases\' total time per zero and per normal page (least squares, with a fixed part)', () => {
  const unthrottled = readFileSync('samples/calibrate/unthrottled-2026-12-02/measured-details.jsonl', 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; qemu: { total_time_ms: number; progress: (Progress & { duplicate_pages: number })[] } });
  assert.equal(unthrottled.length, 12);
  // Normal equations of total = fixed + perNormal x normal pages + perZero x zero pages.
  const rows = unthrottled.map(({ qemu }) => {
    const last = qemu.progress.at(-1) as Progress & { duplicate_pages: number };
    return { x: [1, last.normal_pages, last.duplicate_pages], y: qemu.total_time_ms / 1000 };
  });
  const a = [0, 1, 2].map((i) => [0, 1, 2].map((j) => rows.reduce((sum, r) => sum + r.x[i]! * r.x[j]!, 0)));
  const b = [0, 1, 2].map((i) => rows.reduce((sum, r) => sum + r.x[i]! * r.y, 0));
  // Gaussian elimination, 3 x 3.
  for (let k = 0; k < 3; k++) {
    for (let i = k + 1; i < 3; i++) {
      const f = a[i]![k]! / a[k]![k]!;
      for (let j = k; j < 3; j++) a[i]![j]! -= f * a[k]![j]!;
      b[i]! -= f * b[k]!;
    }
  }
  const x = [0, 0, 0];
  for (let i = 2; i >= 0; i--) x[i] = (b[i]! - [0, 1, 2].slice(i + 1).reduce((sum, j) => sum + a[i]![j]! * x[j]!, 0)) / a[i]![i]!;
  const [fixed, perNormal, perZero] = x as [number, number, number];
  assert.ok(Math.abs(perNormal / LAB_FIRST_COPY_PAGE_SECONDS - 1) < 0.005, `per normal page ${perNormal}`);
  assert.ok(Math.abs(perZero / LAB_ZERO_PAGE_SECONDS - 1) < 0.005, `per zero page ${perZero}`);
  assert.ok(fixed > 0.05 && fixed < 0.07, `fixed ${fixed} s`);
});
