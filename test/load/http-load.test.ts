import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CORRUPT_WORDS_HEADER, HttpLoad, type HttpLoadTarget } from '../../src/load/http-load.ts';
import type { RequestRecord } from '../../src/record/records.ts';
import { RealClock } from '../../src/run/real-clock.ts';

/**
 * A stand-in workload server for this unit test: `/slow` never answers, `/fail` answers 500,
 * `/checked?words=N` says its checks found N words wrong.
 */
function startServer(listen: (server: Server) => void): Server {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/slow')) return;
    res.setHeader('x-server', 'vm-test');
    res.setHeader('x-processing-ms', '1.5');
    const words = /^\/checked\?words=(.*)$/.exec(req.url ?? '')?.[1];
    if (words !== undefined) res.setHeader(CORRUPT_WORDS_HEADER, decodeURIComponent(words));
    res.statusCode = req.url?.startsWith('/fail') ? 500 : 200;
    res.end('{}');
  });
  listen(server);
  return server;
}

const paths = { cpu: '/cpu', memory: '/fail', memory2: '/slow' };

function target(overrides: Partial<HttpLoadTarget>): HttpLoadTarget {
  return { baseUrl: 'http://lb', paths, requestTimeoutSeconds: 5, maxRequestsPerClient: 1000, errorPauseSeconds: 0.01, ...overrides };
}

describe('HttpLoad', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'http-load-'));
  const socketPath = path.join(dir, 'lb.sock');
  let server: Server;
  before(async () => {
    server = startServer((s) => s.listen(socketPath));
    await new Promise((resolve) => server.once('listening', resolve));
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records what the server says, through a unix socket, until the clients are stopped', async () => {
    const records: RequestRecord[] = [];
    const clock = new RealClock();
    const load = new HttpLoad(clock, target({ socketPath }), (r) => records.push(r));
    load.addClients('cpu', 2);
    await clock.sleepUntil(0.3);
    await load.stopAll();
    const count = records.length;
    assert.ok(count > 10, `${count} requests`);
    assert.ok(records.every((r) => r.status === 'ok' && r.server === 'vm-test' && r.processing_ms === 1.5));
    assert.ok(records.every((r) => r.corrupt_words === null), 'a server that checks nothing says nothing: cannot tell');
    assert.deepEqual(new Set(records.map((r) => r.client_id)), new Set(['cpu-1', 'cpu-2']));
    assert.ok(records.every((r) => r.received_s >= r.sent_s && r.latency_ms >= 0));
    await clock.sleepUntil(clock.now() + 0.05);
    assert.equal(records.length, count, 'no request after stopAll resolved');
  });

  it('counts a non-200 answer as an error and stops a client by itself after its request budget', async () => {
    const records: RequestRecord[] = [];
    const load = new HttpLoad(new RealClock(), target({ socketPath, maxRequestsPerClient: 3 }), (r) => records.push(r));
    load.addClients('memory', 1);
    await load.stopAll();
    assert.equal(records.length, 1, 'stopAll lets the in-flight request finish, then the client stops');
    const bounded = new HttpLoad(new RealClock(), target({ socketPath, maxRequestsPerClient: 3, paths: { ...paths, memory: '/cpu' } }), (r) =>
      records.push(r),
    );
    bounded.addClients('memory', 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await bounded.stopAll();
    assert.equal(records.length, 4);
    assert.equal(records[0]?.status, 'error');
  });

  it('gives up in-flight requests on an interrupt and records them as aborted', async () => {
    const records: RequestRecord[] = [];
    const load = new HttpLoad(new RealClock(), target({ socketPath }), (r) => records.push(r));
    load.addClients('memory2', 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const interrupt = new AbortController();
    const stopped = load.stopAll(interrupt.signal);
    interrupt.abort();
    await stopped;
    assert.equal(records.length, 2);
    assert.ok(records.every((r) => r.status === 'aborted' && r.processing_ms === null));
  });

  it('records the corrupt words a server reports, as a corrupt request when there are any, and no pause after one', async () => {
    const answers = async (words: string): Promise<RequestRecord[]> => {
      const records: RequestRecord[] = [];
      const load = new HttpLoad(
        new RealClock(),
        target({ socketPath, maxRequestsPerClient: 3, errorPauseSeconds: 60, paths: { ...paths, cpu: `/checked?words=${encodeURIComponent(words)}` } }),
        (r) => records.push(r),
      );
      load.addClients('cpu', 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await load.stopAll();
      return records;
    };
    assert.deepEqual((await answers('0')).map((r) => [r.status, r.corrupt_words]), [['ok', 0], ['ok', 0], ['ok', 0]]);
    assert.deepEqual((await answers('17')).map((r) => [r.status, r.corrupt_words]), [['corrupt', 17], ['corrupt', 17], ['corrupt', 17]]);
    assert.deepEqual((await answers('many')).map((r) => [r.status, r.corrupt_words]), [['ok', null], ['ok', null], ['ok', null]]);
  });

  it('counts the requests sent by a time that still wait for their answer', async () => {
    const clock = new RealClock();
    const load = new HttpLoad(clock, target({ socketPath }), () => {});
    load.addClients('memory2', 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(load.unansweredSentBy(clock.now()), 2);
    assert.equal(load.unansweredSentBy(-1), 0, 'none was sent before the run started');
    await load.stopAll(AbortSignal.abort());
    assert.equal(load.unansweredSentBy(clock.now()), 0);
  });
});
