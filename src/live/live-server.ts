import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError } from '../errors.ts';
import { livePageHtml } from './live-page.ts';
import type { LiveState } from './live-state.ts';
import type { RunMetrics } from './run-metrics.ts';
import type { ServeAddress } from './serve-address.ts';

export interface LiveServerOptions {
  metrics: RunMetrics;
  live: LiveState;
  /** Wall milliseconds between two snapshots to the same page, at least. */
  snapshotEveryMs?: number;
  /** Pages that may follow /events at once; more get 503. */
  maxEventClients?: number;
  /** How long the report waits for the pages that saw the run end, at most. */
  reportWaitMs?: number;
}

export interface LiveServer {
  /** Where it listens, e.g. http://127.0.0.1:9100 (the port chosen when 0 was asked). */
  url: string;
  /**
   * The run has ended: tells every page (event `finished`), serves `reportHtml` at /report
   * (none: /report says so) until each page following /events then has fetched it or
   * `reportWaitMs` have passed, and closes. Resolves once closed; later calls wait for the same.
   */
  finish(reportHtml: string | undefined): Promise<void>;
}

const PLAIN = { 'content-type': 'text/plain; charset=utf-8' };
/** The live page runs its own inline script and style, and reaches nothing but its origin. */
const PAGE_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'";

interface EventClient {
  response: http.ServerResponse;
  /** The state's version this page last got. */
  sentVersion: number;
  /** Its socket's buffer is full: it gets no snapshot until the buffer drains. */
  blocked: boolean;
}

const message = (json: string): string => `data: ${json}\n\n`;

/**
 * `run --serve`: `/` the live page, `/events` the run's state as server-sent events (a
 * snapshot on connect, then at most every `snapshotEveryMs` while it changes, `finished` at
 * the end), `/report` the run's report once written, `/metrics` in Prometheus' text format.
 */
export async function startLiveServer(address: ServeAddress, options: LiveServerOptions): Promise<LiveServer> {
  const { metrics, live, snapshotEveryMs = 250, maxEventClients = 16, reportWaitMs = 10_000 } = options;
  const clients = new Set<EventClient>();
  let finished: { report: string | undefined; event: string } | undefined;
  /** Pages that saw `finished` and have not fetched /report yet. */
  let awaitedPages = 0;
  let allFetched: (() => void) | undefined;

  const send = (client: EventClient, data: string, version: number): void => {
    client.sentVersion = version;
    if (client.response.write(data)) return;
    client.blocked = true;
    client.response.once('drain', () => (client.blocked = false));
  };

  const ticker = setInterval(() => {
    const version = live.version;
    let data: string | undefined;
    for (const client of clients) {
      if (client.blocked || client.sentVersion === version) continue;
      data ??= message(JSON.stringify(live.snapshot()));
      send(client, data, version);
    }
  }, snapshotEveryMs).unref();

  const followEvents = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    if (!finished && clients.size >= maxEventClients) {
      response.writeHead(503, { ...PLAIN, 'retry-after': '5' }).end(`${maxEventClients} pages follow this run already\n`);
      return;
    }
    request.socket.setNoDelay(true);
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    if (finished) {
      response.end(finished.event);
      return;
    }
    const client: EventClient = { response, sentVersion: -1, blocked: false };
    clients.add(client);
    response.on('close', () => clients.delete(client));
    send(client, message(JSON.stringify(live.snapshot())), live.version);
  };

  const serveReport = (response: http.ServerResponse): void => {
    if (!finished) {
      response.writeHead(404, PLAIN).end('the report is written when the run ends\n');
      return;
    }
    response.on('close', () => {
      awaitedPages--;
      if (awaitedPages <= 0) allFetched?.();
    });
    if (finished.report === undefined) response.writeHead(404, PLAIN).end('this run wrote no report (see what it said on stderr)\n');
    else response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(finished.report);
  };

  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET') {
      response.writeHead(405, { ...PLAIN, allow: 'GET' }).end('vm-monitoring serves GET only\n');
      return;
    }
    switch (path) {
      case '/':
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': PAGE_POLICY }).end(livePageHtml());
        return;
      case '/events':
        followEvents(request, response);
        return;
      case '/report':
        serveReport(response);
        return;
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
          (error: unknown) => response.writeHead(500, PLAIN).end(`${String(error)}\n`),
        );
        return;
      default:
        response.writeHead(404, PLAIN).end('vm-monitoring serves / (the live page), /events, /report and /metrics\n');
    }
  });
  // A scraper's kept-alive connection must not hold the tool open after the run.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new InputError(`--serve ${hostPort(address.host, address.port)}: cannot listen there: ${error.code === 'EADDRINUSE' ? 'the address is in use' : error.message}`));
    });
    server.listen(address.port, address.host, () => resolve());
  });
  const { address: host, port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const finish = (reportHtml: string | undefined): Promise<void> => {
    closing ??= (async () => {
      clearInterval(ticker);
      if (!live.isFinished) live.finish();
      finished = { report: reportHtml, event: `event: finished\ndata: ${JSON.stringify(live.snapshot())}\n\n` };
      awaitedPages = clients.size;
      for (const client of clients) client.response.end(finished.event);
      if (awaitedPages > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, reportWaitMs);
          allFetched = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    })();
    return closing;
  };
  return { url: `http://${hostPort(host, port)}`, finish };
}

/** `host:port`, an IPv6 address in brackets. */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
