/**
 * `run --serve`'s server on its own, over real HTTP on loopback: the live page, the events'
 * cap on pages, a page that does not read, and how long the report is served after the end.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { startLiveServer, type LiveServer, type LiveServerOptions } from '../../src/live/live-server.ts';
import { LiveState } from '../../src/live/live-state.ts';
import { RunMetrics } from '../../src/live/run-metrics.ts';
import { COUNTERS } from '../../src/monitor/counters.ts';
import { uplotScript } from '../../src/report/page/vendored-uplot.ts';
import { readEvents } from './support/event-stream.ts';

const servers: LiveServer[] = [];
after(() => Promise.all(servers.map((server) => server.finish(undefined))));

async function serve(options: Partial<LiveServerOptions> = {}): Promise<{ server: LiveServer; live: LiveState }> {
  const live = options.live ?? new LiveState();
  const server = await startLiveServer({ host: '127.0.0.1', port: 0 }, { metrics: new RunMetrics(), live, ...options });
  servers.push(server);
  return { server, live };
}

const timeout = (ms: number): AbortSignal => AbortSignal.timeout(ms);

/** Resolves with what `promise` gives, or rejects after `ms`. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))),
  ]);
}

describe('the live server', () => {
  it('serves the live page at /: the contract\'s elements, uPlot inline, nothing from another origin', async () => {
    const { server } = await serve();
    const response = await fetch(`${server.url}/`, { signal: timeout(10_000) });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'.*connect-src 'self'/);
    const html = await response.text();
    for (const id of ['live-status', 'live-time', 'live-counters', 'in-flight', 'actions-fired', 'actions-waiting']) {
      assert.match(html, new RegExp(`id="${id}"`), id);
    }
    assert.match(html, /<span id="live-status">running<\/span>/);
    assert.match(html, /<span id="live-time">\d/);
    assert.match(html, /data-chart="live-latency"/);
    assert.match(html, /data-chart="live-cpu"/);
    assert.ok(html.includes(uplotScript()), 'uPlot inline');
    assert.match(html, /new EventSource\('\/events'\)/);
    assert.match(html, /location\.assign\('\/report'\)/);
    // uPlot's licence banner names its home; nothing else names a place.
    const own = html.replace(uplotScript(), '');
    assert.doesNotMatch(own, /https?:\/\//i);
    assert.match(html, /<link rel="icon" href="data:,">/, 'no /favicon.ico either');
    assert.doesNotMatch(html.replace('<link rel="icon" href="data:,">', ''), /\s(src|href)=/i, 'no element loads anything');
    assert.doesNotMatch(html, /@import|url\(/i);
  });

  it('sends a snapshot on connect, then one when the run changes, at most every snapshotEveryMs', async () => {
    const { server, live } = await serve({ snapshotEveryMs: 200 });
    live.sample({ time_s: 20, host: 'h1', counter: COUNTERS.cpuUsage.name, value: 1, unit: 'MHz' });
    const controller = new AbortController();
    const response = await fetch(`${server.url}/events`, { signal: controller.signal });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const events = readEvents(response);
    const first = await within(5000, events.next(), 'the first snapshot');
    assert.equal(first.value?.event, 'message');
    assert.equal(JSON.parse(first.value!.data).time_s, 20);
    const startedMs = performance.now();
    const changes = setInterval(() => live.sample({ time_s: live.snapshot().time_s + 20, host: 'h1', counter: COUNTERS.cpuUsage.name, value: 2, unit: 'MHz' }), 5);
    const times: number[] = [];
    try {
      for (let i = 0; i < 4; i++) times.push(JSON.parse((await within(5000, events.next(), 'a snapshot')).value!.data).time_s);
    } finally {
      clearInterval(changes);
      controller.abort();
    }
    const elapsedMs = performance.now() - startedMs;
    assert.ok(times.every((t, i) => i === 0 || t > times[i - 1]!), `each snapshot later than the one before: ${times.join(' ')}`);
    // A change every 5 ms: 4 snapshots take 3 intervals at least (about 800 ms), not 20 ms.
    assert.ok(elapsedMs >= 3 * 200 - 50, `4 snapshots in ${elapsedMs.toFixed(0)} ms`);
  });

  it('lets 16 pages follow /events and refuses the 17th with 503 until one leaves', async () => {
    const { server } = await serve();
    const pages = await Promise.all(Array.from({ length: 16 }, async () => {
      const controller = new AbortController();
      const response = await fetch(`${server.url}/events`, { signal: controller.signal });
      assert.equal(response.status, 200);
      return { controller, response };
    }));
    try {
      const refused = await fetch(`${server.url}/events`, { signal: timeout(5000) });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '5');
      await refused.text();
      pages.pop()!.controller.abort();
      // The server hears of the closed connection a little later.
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const controller = new AbortController();
        const again = await fetch(`${server.url}/events`, { signal: controller.signal });
        status = again.status;
        if (status === 200) pages.push({ controller, response: again });
        else await again.text();
      }
      assert.equal(status, 200, 'a place freed is taken again');
    } finally {
      for (const page of pages) page.controller.abort();
    }
  });

  it('drops snapshots for a page that does not read, and sends it the latest once it reads again', async () => {
    // 200 hosts of 8 counters and 600 CPU points each: a snapshot of about 1.5 MB, changing every 10 ms.
    const live = new LiveState();
    const round = (t: number): void => {
      for (let host = 0; host < 200; host++) {
        for (const { name, unit } of Object.values(COUNTERS)) live.sample({ time_s: t, host: `host-${host}`, counter: name, value: t + host / 1000, unit });
      }
    };
    for (let t = 0; t < 600; t++) round(t);
    const size = JSON.stringify(live.snapshot()).length;
    assert.ok(size > 1e6, `a snapshot of ${size} bytes`);
    const { server } = await serve({ live, snapshotEveryMs: 10 });
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = 0;
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      text = (text + chunk.toString('latin1')).slice(-size * 3);
    });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
    socket.pause();
    let t = 600;
    const ticks = 150;
    try {
      for (let i = 0; i < ticks; i++) {
        round(t++);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      socket.resume();
      // Reads until nothing came for 500 ms.
      let last = -1;
      await within(30_000, (async () => {
        while (last !== received) {
          last = received;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      })(), 'reading what was buffered');
    } finally {
      socket.destroy();
    }
    // Written every tick, it would have been ticks x size bytes (over 200 MB); kernel buffers hold some megabytes.
    assert.ok(received < (ticks * size) / 4, `received ${received} bytes; every snapshot would be ${ticks * size}`);
    const lastData = text.slice(text.lastIndexOf('data: ') + 6, text.lastIndexOf('\n\n'));
    assert.equal(JSON.parse(lastData).time_s, t - 1, 'the latest state, once it reads again');
  });

  it('after the end: `finished` to each page, then /report until each has fetched it, then it stops', async () => {
    const { server, live } = await serve({ reportWaitMs: 10_000 });
    const before = await fetch(`${server.url}/report`, { signal: timeout(5000) });
    assert.equal(before.status, 404, 'no report while the run goes');
    await before.text();
    const response = await fetch(`${server.url}/events`, { signal: timeout(20_000) });
    const events = readEvents(response);
    await within(5000, events.next(), 'the first snapshot');
    live.sample({ time_s: 3000, host: 'h1', counter: COUNTERS.cpuUsage.name, value: 1, unit: 'MHz' });
    const startedMs = performance.now();
    const finishing = server.finish('<!doctype html><title>report</title><p>the report');
    let finished: { event: string; data: string } | undefined;
    for (;;) {
      const next = await within(5000, events.next(), 'the finished event');
      if (next.done) break;
      if (next.value.event === 'finished') finished = next.value;
    }
    assert.ok(finished, '`finished` came, and the stream ended after it');
    const final = JSON.parse(finished.data) as { status: string; time_s: number };
    assert.deepEqual([final.status, final.time_s], ['finished', 3000]);
    let stopped = false;
    void finishing.then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(stopped, false, 'it waits for the page to fetch the report');
    // A page connecting now is told at once that the run ended.
    const late = await fetch(`${server.url}/events`, { signal: timeout(5000) });
    assert.match(await late.text(), /^event: finished\ndata: \{"status":"finished"/);
    const report = await fetch(`${server.url}/report`, { signal: timeout(5000) });
    assert.equal(report.status, 200);
    assert.match(report.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(await report.text(), '<!doctype html><title>report</title><p>the report');
    await within(3000, finishing, 'stopping once the page has the report');
    assert.ok(performance.now() - startedMs < 5000);
    await assert.rejects(fetch(`${server.url}/metrics`, { signal: timeout(5000) }), 'nothing listens any more');
  });

  it('serves the report at most reportWaitMs to a page that never fetches it, and stops at once with no page', async () => {
    const { server } = await serve({ reportWaitMs: 700 });
    const controller = new AbortController();
    const response = await fetch(`${server.url}/events`, { signal: controller.signal });
    const events = readEvents(response);
    await within(5000, events.next(), 'the first snapshot');
    const startedMs = performance.now();
    await within(5000, server.finish(undefined), 'stopping');
    const waitedMs = performance.now() - startedMs;
    controller.abort();
    assert.ok(waitedMs >= 650 && waitedMs < 3000, `waited ${waitedMs.toFixed(0)} ms for the page`);

    const { server: alone } = await serve({ reportWaitMs: 60_000 });
    const aloneStartedMs = performance.now();
    await within(5000, alone.finish('<p>report'), 'stopping with no page');
    assert.ok(performance.now() - aloneStartedMs < 1000);
  });
});
