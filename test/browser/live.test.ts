/**
 * `run --serve`'s live page in a real Chromium, while the run goes: on a paced sim run and on
 * a short run on the QEMU lab. The page says `running`, its experiment time moves on, it
 * shows what happens (a migration in flight, actions firing), and when the run ends it shows
 * the run's report; it reaches nothing but the live server's origin, and the run exits 0.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { labSkipReason } from '../qemu/support/lab-requirements.ts';
import { runCli, writeScript, type CliResult } from '../support/cli.ts';
import { needing } from '../support/needing.ts';
import {
  assertOnlyAllowedRequests,
  BrowserTestDir,
  browserSkipReason,
  closeChromium,
  launchChromium,
  leadingNumber,
  onlyOrigin,
  openWatchedPage,
  waitFor,
  withTimeout,
} from './support/browser.ts';

const VIEWPORT = { width: 1400, height: 900 };
const ANNOUNCED = /^serving the live view at (http:\/\/127\.0\.0\.1:\d+)\/ /m;

/**
 * The §3.2 light testbed with 8 migrations a minute apart (each about 15 s of experiment on
 * the sim): 540 s of experiment, about 27 s of wall time at --pace 20.
 */
const PACED_SCRIPT = [
  'esx1:vm01 esx2:vm02 esx3:vm03 esx4:vm04 esx5:vm05 esx6:',
  '0 add-client memory2 5',
  ...['vm05 esx6', 'vm04 esx5', 'vm03 esx4', 'vm02 esx3', 'vm01 esx2', 'vm05 esx1', 'vm04 esx6', 'vm03 esx5'].map((move) => `60 migrate ${move}`),
  '60 end',
];

/** One cpu client while vm01 moves once: the lab's shortest run that migrates. */
const QEMU_SCRIPT = ['esx1:vm01 esx2:', '0 add-client cpu 1', '5 migrate vm01 esx2', '10 end'];

/** Evaluated in the page: whether it is the live page, and how many migrations in flight and fired actions it lists. */
const LIVE_COUNTS = `({
  live: document.getElementById('live-status') !== null,
  inFlight: document.querySelectorAll('#in-flight [data-in-flight]').length,
  fired: document.querySelectorAll('#actions-fired li, #actions-fired tr:has(td)').length,
})`;

interface Followed {
  result: CliResult;
  /** The most `[data-in-flight]` elements seen at once, and the fewest and most fired actions listed. */
  inFlightSeen: number;
  firedSeen: { least: number; most: number };
}

/** The text of `selector` on `page`, trimmed. */
async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

/** The experiment time `#live-time` shows, in seconds. */
async function liveTime(page: Page): Promise<number> {
  const shown = await text(page, '#live-time');
  const seconds = leadingNumber(shown);
  assert.ok(seconds !== undefined, `#live-time starts with a number: '${shown}'`);
  return seconds;
}

/**
 * Runs `vm-monitoring run ARGS --serve 127.0.0.1:0 --out OUT` and follows its live page in
 * `browser` until the page shows the report, checking it on the way; returns how the run
 * ended and what the page showed. The child is killed if the checks fail before it ends.
 */
async function followLiveRun(
  browser: Browser,
  dir: BrowserTestDir,
  args: string[],
  options: { out: string; name: string; timeoutMs: number },
): Promise<Followed> {
  let child: ChildProcess | undefined;
  let announce: (origin: string) => void = () => {};
  const announced = new Promise<string>((resolve) => (announce = resolve));
  const running = runCli([...args, '--serve', '127.0.0.1:0', '--out', options.out], {
    timeoutMs: options.timeoutMs,
    onSpawn: (spawned) => (child = spawned),
    onStderr: (_child, stderr) => {
      const origin = ANNOUNCED.exec(stderr)?.[1];
      if (origin !== undefined) announce(origin);
    },
  });
  const ended = running.then(
    (result) => result,
    (error: unknown) => error as Error,
  );
  try {
    const origin = await Promise.race([
      announced,
      ended.then((result) => {
        throw new Error(`the run ended before it announced the live view: ${result instanceof Error ? result.message : `exit ${result.code}, stderr: ${result.stderr}`}`);
      }),
    ]);
    const watched = await openWatchedPage(browser, { allowed: onlyOrigin(origin), viewport: VIEWPORT });
    try {
      const { page } = watched;
      await page.goto(`${origin}/`);
      await waitFor("#live-status to read 'running'", async () => ((await text(page, '#live-status')) === 'running' ? true : undefined));
      const firstTime = await liveTime(page);
      await page.waitForTimeout(3000);
      const secondTime = await liveTime(page);
      assert.ok(secondTime > firstTime, `#live-time moved on in 3 s: ${firstTime}, then ${secondTime}`);
      assert.equal(await text(page, '#live-status'), 'running', 'still running');
      // The run directory exists by now (its run.json is written first): the screenshot goes there.
      await waitFor('the run directory', async () => (fs.existsSync(path.join(options.out, 'run.json')) ? true : undefined));
      await dir.screenshot(page, options.out, `${options.name}-running`);

      let inFlightSeen = 0;
      const firedSeen = { least: Number.POSITIVE_INFINITY, most: 0 };
      await waitFor(
        'the page to show the report at /report',
        async () => {
          if (new URL(page.url()).pathname === '/report') return true;
          // Read in one go from one document, so that the report, once there, cannot be read as the live page.
          const shown = await page.evaluate<{ live: boolean; inFlight: number; fired: number }>(LIVE_COUNTS).catch(() => undefined);
          if (shown?.live) {
            inFlightSeen = Math.max(inFlightSeen, shown.inFlight);
            firedSeen.least = Math.min(firedSeen.least, shown.fired);
            firedSeen.most = Math.max(firedSeen.most, shown.fired);
          }
          return undefined;
        },
        options.timeoutMs,
      );
      await page.locator('table#migrations').waitFor({ state: 'attached' });
      await page.waitForLoadState('load');
      await dir.screenshot(page, options.out, `${options.name}-report`);

      const result = await withTimeout(running, 60_000, 'the run, after its page showed the report');
      assert.equal(result.code, 0, `the run exits 0; stderr: ${result.stderr}`);
      assertOnlyAllowedRequests(watched, `${origin}/`, `the live server's origin ${origin}`);
      return { result, inFlightSeen, firedSeen };
    } finally {
      await watched.context.close();
    }
  } finally {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await ended;
  }
}

const sim = needing(browserSkipReason());

sim.describe('the live page of a paced sim run, in Chromium', { timeout: 240_000 }, () => {
  let browser: Browser | undefined;
  const dir = new BrowserTestDir('live');

  sim.before(async () => {
    browser = await launchChromium();
  });

  sim.after(async () => {
    await closeChromium(browser);
    dir.finish();
  });

  sim.it('follows the run (running, time moving, migrations in flight, actions firing), then shows its report', (t) =>
    dir.run(t, async () => {
      const script = writeScript(dir.path, 'paced.txt', PACED_SCRIPT);
      const out = path.join(dir.path, 'paced');
      const followed = await followLiveRun(browser!, dir, ['run', script, '--pace', '20', '--report'], { out, name: 'live', timeoutMs: 180_000 });
      t.diagnostic(`seen: up to ${followed.inFlightSeen} migrations in flight, ${followed.firedSeen.least} to ${followed.firedSeen.most} actions fired`);
      assert.ok(followed.inFlightSeen >= 1, 'a [data-in-flight] element in #in-flight at some point');
      assert.ok(followed.firedSeen.most > followed.firedSeen.least, `#actions-fired grew: from ${followed.firedSeen.least} to ${followed.firedSeen.most} listed`);
      assert.match(followed.result.stderr, /^completed: 8 migrations, /m);
    }));
});

const qemu = needing(browserSkipReason() || labSkipReason());

qemu.describe('the live page of a run on the QEMU lab, in Chromium', { timeout: 1_000_000 }, () => {
  let browser: Browser | undefined;
  const dir = new BrowserTestDir('live-qemu');
  const labDir = path.join(dir.path, 'lab');

  qemu.before(async () => {
    browser = await launchChromium();
  });

  qemu.after(async () => {
    await Lab.down(labDir);
    await closeChromium(browser);
    dir.finish();
  });

  qemu.it('follows a run with one migration on real VMs, then shows its report', (t) =>
    dir.run(t, async () => {
      const config = path.join(dir.path, 'lab.yaml');
      fs.writeFileSync(config, [`labDir: ${labDir}`, 'accelerator: tcg', 'load: { requestTimeoutSeconds: 60 }', 'probe: { settleSeconds: 10 }', ''].join('\n'));
      const script = writeScript(dir.path, 'qemu.txt', QEMU_SCRIPT);
      const out = path.join(dir.path, 'qemu');
      // Booting TCG guests on a busy 2-core machine can take minutes.
      const followed = await followLiveRun(browser!, dir, ['run', script, '--platform', 'qemu', '--config', config, '--report'], { out, name: 'live-qemu', timeoutMs: 900_000 });
      t.diagnostic(`seen: up to ${followed.inFlightSeen} migrations in flight, ${followed.firedSeen.least} to ${followed.firedSeen.most} actions fired`);
      assert.match(followed.result.stderr, /^completed: 1 migrations, /m);
    }));
});
