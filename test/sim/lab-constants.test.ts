import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { casesOf, loadGrid } from '../../src/calibrate/grid.ts';
import { readResults } from '../../src/calibrate/results-file.ts';
import { median } from '../../src/report/statistics.ts';
import {
  LAB_GUEST_NONZERO_PER_RAM_MB,
  LAB_SYNC_SECONDS_PER_PAGE,
  LAB_SYNC_SECONDS_PER_PAGE_PER_DIRTY_MBPS,
  syncSecondsPerPageOf,
} from '../../src/platforms/sim/calibration-runner.ts';

const MEASURED = 'samples/calibrate/measured-2026-11-25';

interface Progress { at_s: number; status: string; pass: number; transferred: number; remaining: number; normal_pages: number }
const details = readFileSync(`${MEASURED}/measured-details.jsonl`, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { id: string; qemu: { progress: Progress[] } });
const near = (actual: number, expected: number): boolean => Math.abs(actual / expected - 1) < 0.005;

test('the sync cost per page is the idle cases\' setup time per page of RAM', async () => {
  const cases = casesOf(loadGrid('samples/calibrate/grid.yaml'));
  const perPage = syncSecondsPerPageOf(cases, await readResults(`${MEASURED}/measured.csv`, cases));
  assert.ok(perPage !== null && near(perPage, LAB_SYNC_SECONDS_PER_PAGE), `${perPage}`);
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
