/**
 * The browser tests' request watch, on pages made to break it: a file:// page that fetches
 * the web, a sibling file and a WebSocket, and an HTTP page on loopback that also calls
 * another loopback origin. Each request is recorded, the ones not allowed are aborted (the
 * other origin's server sees none), and the assertion the browser tests use fails on them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { needing } from '../support/needing.ts';
import {
  assertOnlyAllowedRequests,
  BrowserTestDir,
  browserSkipReason,
  closeChromium,
  launchChromium,
  onlyFile,
  onlyOrigin,
  openWatchedPage,
  waitFor,
} from './support/browser.ts';

const { describe, it, before, after } = needing(browserSkipReason());

const VIEWPORT = { width: 800, height: 600 };

/** An HTTP server on 127.0.0.1 answering `body` (as HTML) at every path, counting what it was asked. */
async function serve(body: string): Promise<{ origin: string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((request, response) => {
    paths.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'text/html', 'access-control-allow-origin': '*' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    paths,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the browser tests\' request watch', { timeout: 120_000 }, () => {
  let browser: Browser | undefined;
  const dir = new BrowserTestDir('watch');

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    await closeChromium(browser);
    dir.finish();
  });

  it('records and aborts what a file:// page requests besides itself, and the check fails on it', async () => {
    const file = path.join(dir.path, 'page.html');
    fs.writeFileSync(path.join(dir.path, 'sibling.png'), '');
    fs.writeFileSync(
      file,
      '<!doctype html><title>t</title><img src="http://example.com/x.png"><img src="sibling.png">' +
        "<script>fetch('https://example.org/y').catch(() => {}); new WebSocket('ws://example.net/');</script>",
    );
    const url = pathToFileURL(file).href;
    const watched = await openWatchedPage(browser!, { allowed: onlyFile(url), viewport: VIEWPORT });
    try {
      await watched.page.goto(url);
      const outside = ['http://example.com/x.png', pathToFileURL(path.join(dir.path, 'sibling.png')).href, 'https://example.org/y', 'ws://example.net/'];
      await waitFor('the four requests', async () => (outside.every((wanted) => watched.refused.includes(wanted)) ? true : undefined));
      assert.equal(watched.requests[0], url);
      assert.deepEqual([...watched.refused].sort(), [...outside].sort(), 'each aborted');
      assert.deepEqual([...watched.requests.slice(1)].sort(), [...outside].sort(), 'each recorded');
      assert.throws(() => assertOnlyAllowedRequests(watched, url, 'the page'), /requested something other than the page/);
    } finally {
      await watched.context.close();
    }
  });

  it('lets a page on 127.0.0.1:PORT reach its origin only: another origin\'s server gets nothing', async () => {
    const other = await serve('other');
    const own = await serve(
      "<!doctype html><title>t</title><script>fetch('/data').then(() => { document.title = 'fetched'; });" +
        ` fetch('${other.origin}/secret').catch(() => {});</script>`,
    );
    const watched = await openWatchedPage(browser!, { allowed: onlyOrigin(own.origin), viewport: VIEWPORT });
    try {
      await watched.page.goto(`${own.origin}/`);
      await waitFor("the page's own fetch", async () => ((await watched.page.title()) === 'fetched' ? true : undefined));
      await waitFor("the other origin's request", async () => (watched.refused.length > 0 ? true : undefined));
      assert.deepEqual(watched.refused, [`${other.origin}/secret`]);
      assert.deepEqual(own.paths, ['/', '/data'], 'its own server was asked for the page and its data');
      assert.deepEqual(other.paths, [], 'nothing reached the other origin');
      assert.throws(() => assertOnlyAllowedRequests(watched, `${own.origin}/`, own.origin), /requested something other than/);
    } finally {
      await watched.context.close();
      await own.close();
      await other.close();
    }
  });
});
