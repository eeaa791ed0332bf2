/**
 * Debian's Chromium, driven by playwright-core, for the tests that open the report and the
 * live view. Every page opened here is watched: each URL it requests is recorded, and whatever
 * the test does not allow is aborted before it leaves the machine (and fails the test).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const MISSING = `Chromium is missing at ${CHROMIUM}: install Debian's chromium package (scripts/install-browser-deps.sh)`;

const LAUNCH_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 20_000;
/** For each of playwright's actions and waits that is given no timeout of its own. */
export const ACTION_TIMEOUT_MS = 15_000;

/** Why the browser tests cannot run here, or false. With CI=true always false: CI fails rather than skips. */
export function browserSkipReason(): string | false {
  if (process.env.CI === 'true') return false;
  return fs.existsSync(CHROMIUM) ? false : MISSING;
}

/**
 * Launches Chromium. Besides the page's routes (see openWatchedPage), no host name resolves
 * but 127.0.0.1, so that nothing the browser itself might fetch leaves the machine either.
 */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(MISSING);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    timeout: LAUNCH_TIMEOUT_MS,
  });
}

/** Closes the browser, if it was launched, within a bounded time. */
export async function closeChromium(browser: Browser | undefined): Promise<void> {
  if (browser === undefined) return;
  await withTimeout(browser.close(), CLOSE_TIMEOUT_MS, 'closing Chromium');
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Every URL the page (or anything it opened) requested, WebSockets too, in order. */
  requests: string[];
  /** Those that the routes aborted as not allowed. */
  refused: string[];
  /** Uncaught errors of the page's scripts. */
  errors: string[];
  /** Whether the test allows the page to request `url`. */
  allowed: (url: string) => boolean;
}

/** Allows only the file at `fileUrl` (a file:// URL). */
export function onlyFile(fileUrl: string): (url: URL) => boolean {
  const wanted = new URL(fileUrl).href;
  return (url) => {
    const bare = new URL(url.href);
    bare.hash = '';
    return bare.href === wanted;
  };
}

/** Allows only URLs of `origin` (as `http://127.0.0.1:PORT`). */
export function onlyOrigin(origin: string): (url: URL) => boolean {
  return (url) => url.origin === origin;
}

/**
 * Opens a page in a context of its own, `viewport` in CSS pixels. Every request of the
 * context is recorded as the browser makes it; one that `allowed` refuses is aborted by the
 * context's routes. Service workers are blocked (their requests would bypass the routes).
 */
export async function openWatchedPage(
  browser: Browser,
  options: { allowed: (url: URL) => boolean; viewport: { width: number; height: number } },
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: options.viewport, serviceWorkers: 'block' });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  const page = await context.newPage();
  const allowed = (url: string): boolean => URL.canParse(url) && options.allowed(new URL(url));
  const watched: WatchedPage = { page, context, requests: [], refused: [], errors: [], allowed };
  const watchErrors = (opened: Page): void => {
    opened.on('pageerror', (error) => watched.errors.push(`${opened.url()}: ${error.name}: ${error.message}`));
  };
  watchErrors(page);
  context.on('page', watchErrors);
  context.on('request', (request) => watched.requests.push(request.url()));
  await context.route(
    () => true,
    (route) => {
      if (allowed(route.request().url())) return route.fallback();
      watched.refused.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  // Routed WebSockets raise no request event: they are recorded here.
  await context.routeWebSocket(
    () => true,
    (socket) => {
      watched.requests.push(socket.url());
      if (allowed(socket.url())) {
        socket.connectToServer();
        return;
      }
      watched.refused.push(socket.url());
      return socket.close();
    },
  );
  return watched;
}

/** The page requested `first` first and nothing the test does not allow (`allowedText` says what it allows), and its scripts threw nothing. */
export function assertOnlyAllowedRequests(watched: WatchedPage, first: string, allowedText: string): void {
  assert.equal(watched.requests[0], first, `the page itself was requested first: ${watched.requests.join(' ')}`);
  const others = watched.requests.filter((url) => !watched.allowed(url));
  assert.deepEqual(others, [], `the page requested something other than ${allowedText}; all its requests: ${watched.requests.join(' ')}`);
  assert.deepEqual(watched.refused, [], `requests aborted as not ${allowedText}`);
  assert.deepEqual(watched.errors, [], "the page's scripts threw no error");
}

/** A text's leading number ("1,234.5 s" is 1234.5), or undefined when it does not start with one. */
export function leadingNumber(text: string): number | undefined {
  const match = /^\s*(-?[\d,]*\.?\d+(?:e[-+]?\d+)?)/i.exec(text);
  return match ? Number((match[1] as string).replaceAll(',', '')) : undefined;
}

/** Polls `probe` every 100 ms until it returns something other than undefined; fails after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = ACTION_TIMEOUT_MS): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const KEEP = 'VM_MONITORING_KEEP_TEST_RUNS';

/**
 * A browser test file's temporary directory (a fresh mkdtemp under os.tmpdir()), holding the
 * runs it makes, their reports and the screenshots, each in the run directory it shows
 * (RUN_DIR/screenshots/NAME.png). The directory is left in place only when
 * VM_MONITORING_KEEP_TEST_RUNS is set (where the runs and screenshots should outlive the
 * tests, as a CI's artifacts); otherwise it is removed at the end. A failing test prints its
 * screenshots' paths either way.
 */
export class BrowserTestDir {
  readonly path: string;
  private readonly screenshots: string[] = [];

  constructor(name: string) {
    this.path = fs.mkdtempSync(path.join(os.tmpdir(), `vmm-browser-${name}-`));
  }

  /** Saves a screenshot of `page` as `runDir/screenshots/name.png` and returns its path. */
  async screenshot(page: Page, runDir: string, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
    const file = path.join(runDir, 'screenshots', `${name}.png`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: options.fullPage ?? false, timeout: ACTION_TIMEOUT_MS });
    this.screenshots.push(file);
    return file;
  }

  /** Runs a test's body; when it fails, prints the paths of the screenshots it took (as the test's diagnostic). */
  async run(t: TestContext, body: () => Promise<void>): Promise<void> {
    const before = this.screenshots.length;
    try {
      await body();
    } catch (error) {
      const mine = this.screenshots.slice(before);
      const where = process.env[KEEP] ? `kept: ${KEEP} is set` : `removed at the end unless ${KEEP}=1`;
      t.diagnostic(`screenshots (${where}): ${mine.length > 0 ? mine.join(' ') : 'none taken by this test'}`);
      throw error;
    }
  }

  /** Removes the directory unless VM_MONITORING_KEEP_TEST_RUNS is set, in which case it says where it is. */
  finish(): void {
    if (process.env[KEEP]) {
      process.stderr.write(`browser test runs kept in ${this.path} (${KEEP} is set)\n`);
      return;
    }
    fs.rmSync(this.path, { recursive: true, force: true });
  }
}
