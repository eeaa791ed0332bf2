/** The probe over a balancer's TCP address and a configured path, against a stand-in HTTP server that stops answering for a while. */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { PROCESSING_HEADER, SERVER_HEADER } from '../../src/load/http-load.ts';
import { Probe } from '../../src/load/probe.ts';
import { RealClock } from '../../src/run/real-clock.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('the probe asks the configured path over TCP, and its longest gap is the time the server held its answers back', async () => {
  const paths = new Set<string>();
  let holdUntil = 0;
  const server = http.createServer((request, response) => {
    paths.add(request.url ?? '');
    const answer = (): void => {
      response.writeHead(200, { [SERVER_HEADER]: 'web1', [PROCESSING_HEADER]: '0', 'content-length': '2' });
      response.end('ok');
    };
    const waitMs = holdUntil - performance.now();
    if (waitMs > 0) setTimeout(answer, waitMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const probe = new Probe(new RealClock(), { host: '127.0.0.1', port }, 'web1', 5, 30, '/lb/web1/health');
    probe.start();
    await sleep(200);
    holdUntil = performance.now() + 300;
    await sleep(500);
    const result = await probe.finish(5);
    assert.deepEqual([...paths], ['/lb/web1/health']);
    assert.ok(result.maxGapMs >= 280 && result.maxGapMs < 450, `gap ${result.maxGapMs} ms`);
    assert.ok(result.answers > 20, `${result.answers} answers`);
    assert.equal(result.errors, 0);
    assert.equal(result.settled, true);
    // Its other gaps are the 5 ms polling, far under the held answer: the probe's own resolution.
    assert.ok(result.gapP50Ms !== null && result.gapP50Ms >= 4 && result.gapP50Ms < 50, `median other gap ${result.gapP50Ms} ms`);
    assert.ok(result.gapP99Ms !== null && result.gapP99Ms >= result.gapP50Ms && result.gapP99Ms < 200, `p99 other gap ${result.gapP99Ms} ms`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('an answer from another server than the probed VM is not an answer from it', async () => {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { [SERVER_HEADER]: 'web2', [PROCESSING_HEADER]: '0', 'content-length': '0' });
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const probe = new Probe(new RealClock(), { host: '127.0.0.1', port }, 'web1', 5, 30);
    probe.start();
    const result = await probe.finish(0.3);
    assert.equal(result.answers, 0);
    assert.ok(result.errors > 0);
    assert.equal(result.settled, false);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
