/**
 * The report page (report.html) in a real Chromium, on reports of real sim runs: one run's
 * (`run --report`) and two runs' (`report DIR1 DIR2`). At 1400 and 800 px the page never
 * scrolls sideways and every table sits in a `div.table-wrap` within the viewport; hovering a
 * chart fills its legend; a migration row opens its view with its passes; a sortable header
 * sorts; the distributions have their CDF charts; and the page loads nothing but itself.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { runCli, type CliResult } from '../support/cli.ts';
import { needing } from '../support/needing.ts';
import {
  assertOnlyAllowedRequests,
  BrowserTestDir,
  browserSkipReason,
  closeChromium,
  launchChromium,
  leadingNumber,
  onlyFile,
  openWatchedPage,
  waitFor,
} from './support/browser.ts';

const { describe, it, before, after } = needing(browserSkipReason());

const WIDTHS = [1400, 800] as const;
const HEIGHT = 900;
const CLI_TIMEOUT_MS = 120_000;

interface Report {
  /** report.html's file:// URL. */
  url: string;
  /** The directory the screenshots of this report go into: the run directory, or the report's own for several runs. */
  screenshotDir: string;
}

function ok(result: CliResult, what: string): void {
  assert.equal(result.code, 0, `${what}: exit ${result.code}\nstderr: ${result.stderr}`);
}

/** What names a table in a message: its id or class, and its place among the page's tables. */
async function tableName(table: Locator, index: number): Promise<string> {
  const id = await table.getAttribute('id');
  const className = await table.getAttribute('class');
  return `table ${index + 1}${id ? `#${id}` : ''}${className ? `.${className.trim().replace(/\s+/g, '.')}` : ''}`;
}

/**
 * The page does not scroll sideways, and every table of the report (not uPlot's legends,
 * which are tables inside their `.uplot` chart) is inside a `div.table-wrap` whose box (where
 * it is rendered: a closed dialog's are not) is within the viewport. Fails with every table
 * that does not.
 */
async function assertFitsWidth(page: Page, width: number): Promise<void> {
  const innerWidth = await page.evaluate<number>('window.innerWidth');
  assert.equal(innerWidth, width);
  const problems: string[] = [];
  const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
  if (scrollWidth > innerWidth) problems.push(`the page scrolls sideways: scrollWidth ${scrollWidth} > innerWidth ${innerWidth}`);
  const tables = page.locator('table:not(.uplot table)');
  const count = await tables.count();
  if (count === 0) problems.push('the page has no table');
  for (let i = 0; i < count; i++) {
    const table = tables.nth(i);
    const name = await tableName(table, i);
    const wrap = table.locator('xpath=ancestor::div[contains(concat(" ", normalize-space(@class), " "), " table-wrap ")][1]');
    if ((await wrap.count()) === 0) {
      problems.push(`${name} is not inside a div.table-wrap`);
      continue;
    }
    const box = await wrap.boundingBox();
    if (box !== null && !(box.x >= -0.5 && box.x + box.width <= width + 0.5)) {
      problems.push(`the div.table-wrap of ${name} spans ${box.x} to ${box.x + box.width} px`);
    }
  }
  assert.deepEqual(problems, [], `at ${width} px`);
}

describe('the report page in Chromium', { concurrency: 1, timeout: 300_000 }, () => {
  let browser: Browser | undefined;
  const dir = new BrowserTestDir('report');
  const reports: Report[] = [];

  before(async () => {
    const single = path.join(dir.path, 'light-memory2');
    const cpu = ['light-cpu', 'heavy-cpu'].map((name) => path.join(dir.path, name));
    const several = path.join(dir.path, 'cpu-report');
    const [run, ...cpuRuns] = await Promise.all([
      runCli(['run', 'samples/3.2/light-memory2.txt', '--out', single, '--report'], { timeoutMs: CLI_TIMEOUT_MS }),
      ...cpu.map((out) => runCli(['run', `samples/3.2/${path.basename(out)}.txt`, '--out', out], { timeoutMs: CLI_TIMEOUT_MS })),
    ]);
    ok(run!, 'run light-memory2 --report');
    cpuRuns.forEach((result, i) => ok(result, `run ${cpu[i]}`));
    ok(await runCli(['report', ...cpu, '--out', several], { timeoutMs: CLI_TIMEOUT_MS }), 'report light-cpu heavy-cpu');
    reports.push(
      { url: pathToFileURL(path.join(single, 'report', 'report.html')).href, screenshotDir: single },
      { url: pathToFileURL(path.join(several, 'report.html')).href, screenshotDir: several },
    );
    for (const report of reports) assert.ok(fs.existsSync(new URL(report.url)), report.url);
    browser = await launchChromium();
  });

  after(async () => {
    await closeChromium(browser);
    dir.finish();
  });

  /** Opens `report` at `width` x HEIGHT, runs `body` on it, then checks it requested nothing but itself. */
  async function onReport(report: Report, width: number, body: (page: Page) => Promise<void>): Promise<void> {
    const watched = await openWatchedPage(browser!, { allowed: onlyFile(report.url), viewport: { width, height: HEIGHT } });
    try {
      await watched.page.goto(report.url, { waitUntil: 'load' });
      await body(watched.page);
      assertOnlyAllowedRequests(watched, report.url, 'report.html itself');
    } finally {
      await watched.context.close();
    }
  }

  // The reports are made in `before`: the tests name them by their place in `reports`.
  for (const [which, label] of ['one run', 'two runs'].entries()) {

    for (const width of WIDTHS) {
      it(`${label}, ${width} px: no sideways scroll, every table in a div.table-wrap within the viewport`, (t) =>
        dir.run(t, () =>
          onReport(reports[which]!, width, async (page) => {
            await dir.screenshot(page, reports[which]!.screenshotDir, `report-${width}`, { fullPage: true });
            await assertFitsWidth(page, width);
          }),
        ));
    }

    it(`${label}: hovering a chart's plotting area shows numbers in its legend`, (t) =>
      dir.run(t, () =>
        onReport(reports[which]!, 1400, async (page) => {
          const chart = page.locator('div[data-chart]').filter({ has: page.locator('.uplot .u-over') }).first();
          assert.ok((await page.locator('div[data-chart]').count()) > 0, 'the report has div[data-chart] charts');
          const over = chart.locator('.u-over');
          const values = chart.locator('.u-legend .u-value');
          await over.scrollIntoViewIfNeeded();
          const before = await values.allTextContents();
          assert.ok(before.length > 0, `the chart ${await chart.getAttribute('data-chart')} has .u-legend .u-value cells`);
          assert.ok(before.every((text) => text.trim() === '' || text.trim() === '--'), `before any hover the legend reads -- or nothing: ${before.join(' | ')}`);
          const box = await over.boundingBox();
          assert.ok(box !== null, '.u-over is rendered');
          await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
          const after = await waitFor('a number in the legend', async () => {
            const texts = await values.allTextContents();
            return texts.some((text) => leadingNumber(text) !== undefined) ? texts : undefined;
          });
          assert.ok(after.some((text) => leadingNumber(text) !== undefined), after.join(' | '));
        }),
      ));

    for (const width of WIDTHS) {
      it(`${label}, ${width} px: a click on a migration opens its view with its passes`, (t) =>
        dir.run(t, () =>
          onReport(reports[which]!, width, async (page) => {
            const rows = page.locator('table#migrations tr[data-migration]');
            assert.ok((await rows.count()) > 0, 'table#migrations has tr[data-migration] rows');
            const view = page.locator('dialog#migration-view');
            assert.equal(await view.getAttribute('open'), null, 'the view is closed before the click');
            await rows.first().click();
            await page.locator('dialog#migration-view[open]').waitFor({ state: 'visible' });
            const passes = view.locator('table.passes tr:has(td)');
            assert.ok((await passes.count()) >= 1, 'dialog#migration-view holds a table.passes with a row');
            await dir.screenshot(page, reports[which]!.screenshotDir, `migration-view-${width}`);
            await assertFitsWidth(page, width);
            await view.locator('button.close').click();
            await page.locator('dialog#migration-view[open]').waitFor({ state: 'detached' });
          }),
        ));
    }

    it(`${label}: a click on a sortable header of table#migrations sorts its column`, (t) =>
      dir.run(t, () =>
        onReport(reports[which]!, 1400, async (page) => {
          const headers = page.locator('table#migrations th[data-sort]');
          const count = await headers.count();
          assert.ok(count > 0, 'table#migrations has th[data-sort] headers');
          let varied = 0;
          for (let i = 0; i < count; i++) if ((await assertSorts(page, headers.nth(i))) > 1) varied++;
          assert.ok(varied > 0, 'some sortable column has different values, so that sorting it moves rows');
        }),
      ));

    it(`${label}: the distributions have CDF charts drawn and a percentile table`, (t) =>
      dir.run(t, () =>
        onReport(reports[which]!, 1400, async (page) => {
          const cdfs = page.locator('section#distributions div[data-chart^="cdf-"]');
          const count = await cdfs.count();
          assert.ok(count >= 1, 'section#distributions has div[data-chart^="cdf-"] charts');
          for (let i = 0; i < count; i++) {
            const id = await cdfs.nth(i).getAttribute('data-chart');
            assert.ok((await cdfs.nth(i).locator('canvas').count()) >= 1, `the chart ${id} has a canvas`);
          }
          assert.ok((await page.locator('section#distributions table#percentiles tr:has(td)').count()) >= 1, 'table#percentiles has rows');
        }),
      ));
  }
});

const NUMBER = /^-?[\d,]*\.?\d+$/;

/** The cells are in `direction` order: as numbers when every non-empty one is a number, else as text; empty cells together at one end. */
function inOrder(cells: string[], direction: string): boolean {
  const sign = direction === 'ascending' ? 1 : -1;
  const filled = cells.filter((text) => text !== '');
  const firstFilled = cells.findIndex((text) => text !== '');
  const emptiesAtAnEnd = filled.length === 0 || cells.slice(firstFilled, firstFilled + filled.length).every((text) => text !== '');
  const numeric = filled.every((text) => NUMBER.test(text));
  const ordered = filled.every((text, i) => {
    if (i === 0) return true;
    const previous = filled[i - 1] as string;
    const order = numeric ? Number(text.replaceAll(',', '')) - Number(previous.replaceAll(',', '')) : text.localeCompare(previous);
    return sign * order >= 0;
  });
  return emptiesAtAnEnd && ordered;
}

/**
 * Clicking `header` sorts table#migrations by its column: after each of two clicks, aria-sort
 * is `ascending` or `descending` (the second click the other one), the column's cells are in
 * that order and the table has the same rows. Returns how many distinct values the column has.
 */
async function assertSorts(page: Page, header: Locator): Promise<number> {
  const column = await header.locator('xpath=preceding-sibling::*').count();
  const name = `${(await header.textContent())?.trim()} (column ${column + 1})`;
  const rowIds = async (): Promise<string[]> =>
    (await page.evaluate<string[]>("[...document.querySelectorAll('table#migrations tr[data-migration]')].map((row) => row.dataset.migration)")).sort();
  const before = await rowIds();
  const directions: string[] = [];
  let distinct = 0;
  for (let click = 0; click < 2; click++) {
    await header.click();
    const direction = await waitFor(`aria-sort on ${name}`, async () => {
      const value = await header.getAttribute('aria-sort');
      return value === 'ascending' || value === 'descending' ? value : undefined;
    });
    directions.push(direction);
    const cells = (await page.locator(`table#migrations tr[data-migration] > :nth-child(${column + 1})`).allTextContents()).map((text) => text.trim());
    assert.ok(inOrder(cells, direction), `${name} after click ${click + 1} (aria-sort ${direction}) is not in ${direction} order: ${cells.join(' | ')}`);
    assert.deepEqual(await rowIds(), before, `sorting by ${name} keeps every row`);
    distinct = new Set(cells).size;
  }
  assert.notEqual(directions[0], directions[1], `a second click on ${name} reverses the order: ${directions.join(', ')}`);
  return distinct;
}
