/**
 * The guest's workload server (guest/server.c), compiled with gcc and run natively on the
 * host over loopback: its endpoints, headers, keep-alive, bounds and memory budget.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROCESSING_HEADER, SERVER_HEADER } from '../../src/load/http-load.ts';
import { exec, findExecutable } from '../../src/platforms/qemu/exec.ts';
import { GUEST_DIR } from '../../src/platforms/qemu/guest-image.ts';
import { serverSkipReason } from './support/lab-requirements.ts';

const skip = serverSkipReason();

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface RunningServer {
  child: ChildProcess;
  port: number;
  agent: http.Agent;
}

async function startServer(dir: string, args: string[]): Promise<RunningServer> {
  const child = spawn(path.join(dir, 'vmm-server'), ['--bind', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 5000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { child, port, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
}

function stopServer(server: RunningServer | undefined): void {
  if (!server) return;
  server.agent.destroy();
  if (server.child.pid !== undefined && server.child.exitCode === null) process.kill(server.child.pid, 'SIGKILL');
}

function get(server: RunningServer, requestPath: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: server.port, path: requestPath, agent: server.agent }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      })
      .on('error', reject);
  });
}

/** Raw bytes in, raw bytes out: for pipelining and malformed requests. */
function raw(port: number, text: string, waitForResponses: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      out += chunk;
      if ((out.match(/HTTP\/1\.1 /g) ?? []).length >= waitForResponses && /\r\n\r\n[^]*$/.test(out)) {
        setTimeout(() => {
          socket.destroy();
          resolve(out);
        }, 50);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
    socket.write(text);
  });
}

describe('guest workload server (native)', { skip }, () => {
  let dir = '';
  let server: RunningServer | undefined;
  let budgeted: RunningServer | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-server-'));
    const gcc = findExecutable('gcc') as string;
    await exec(gcc, ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', path.join(dir, 'vmm-server'), path.join(GUEST_DIR, 'server.c')], {
      timeoutMs: 120_000,
    });
    server = await startServer(dir, ['--name', 'vm-test']);
    budgeted = await startServer(dir, ['--name', 'small', '--max-mb', '8']);
  });

  after(() => {
    stopServer(server);
    stopServer(budgeted);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers /ping with its name and processing time on a kept-alive connection', async () => {
    const s = server as RunningServer;
    const first = await get(s, '/ping');
    const second = await get(s, '/ping');
    assert.equal(first.status, 200);
    assert.equal(first.body, 'pong\n');
    assert.equal(first.headers[SERVER_HEADER], 'vm-test');
    assert.ok(Number(first.headers[PROCESSING_HEADER]) >= 0, `processing header: ${first.headers[PROCESSING_HEADER]}`);
    assert.equal(first.headers.connection, 'keep-alive');
    assert.equal(second.status, 200);
  });

  it('computes pi to the asked precision on /cpu', async () => {
    const answer = await get(server as RunningServer, '/cpu?digits=200');
    assert.equal(answer.status, 200);
    assert.match(answer.body, /^digits=200 pi=3141592653589793238462643383279502884197169399375105820974944/);
    const longer = await get(server as RunningServer, '/cpu?digits=3000');
    assert.ok(Number(longer.headers[PROCESSING_HEADER]) > Number(answer.headers[PROCESSING_HEADER]), 'more digits take longer');
  });

  it('holds a filled buffer for the asked time on /memory, keeps refilling it on /memory2, dirties at a rate on /dirty', async () => {
    const s = server as RunningServer;
    const memory = await get(s, '/memory?mb=8&ms=150');
    assert.equal(memory.status, 200, memory.body);
    assert.ok(Number(memory.headers[PROCESSING_HEADER]) >= 150);
    const memory2 = await get(s, '/memory2?mb=4&ms=200');
    assert.equal(memory2.status, 200, memory2.body);
    const fills = Number(/fills=(\d+)/.exec(memory2.body)?.[1]);
    assert.ok(fills >= 2, `memory2 refills its buffer: ${memory2.body}`);
    assert.ok(Number(memory2.headers[PROCESSING_HEADER]) >= 200);
    const dirty = await get(s, '/dirty?mb=8&rate=20&ms=300');
    assert.equal(dirty.status, 200, dirty.body);
    const dirtied = Number(/dirtied_mb=([\d.]+)/.exec(dirty.body)?.[1]);
    assert.ok(dirtied > 4 && dirtied < 8, `about 20 MB/s for 0.3 s: ${dirty.body}`);
  });

  it('answers a ping at once while another connection computes', async () => {
    const s = server as RunningServer;
    const other = new http.Agent({ keepAlive: false });
    const slow = new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: s.port, path: '/memory?mb=1&ms=1500', agent: other }, (response) => {
        response.resume();
        response.on('end', () => resolve());
      }).on('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const ping = await get(s, '/ping');
    assert.equal(ping.status, 200);
    assert.ok(performance.now() - started < 500, 'the ping did not wait for the slow job');
    await slow;
    other.destroy();
  });

  it('refuses bad, unknown and out-of-range parameters with 400, unknown paths with 404', async () => {
    const s = server as RunningServer;
    for (const bad of ['/cpu?digits=0', '/cpu?digits=50001', '/cpu?digits=abc', '/cpu?digits=', '/cpu?x=1', '/cpu?digits=5&digits=6',
      '/memory?mb=0', '/memory?mb=5000', '/memory?ms=3600001', '/memory2?mb=-1', '/dirty?rate=0', '/ping?x']) {
      const answer = await get(s, bad);
      assert.equal(answer.status, 400, `${bad}: ${answer.body}`);
      assert.equal(answer.headers[SERVER_HEADER], 'vm-test');
    }
    assert.equal((await get(s, '/nothing')).status, 404);
  });

  it('answers pipelined requests in order, refuses a malformed request line and non-GET methods', async () => {
    const port = (server as RunningServer).port;
    const pipelined = await raw(port, 'GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /cpu?digits=8 HTTP/1.1\r\nHost: x\r\n\r\n', 2);
    assert.match(pipelined, /^HTTP\/1\.1 200 OK[^]*pong\n[^]*HTTP\/1\.1 200 OK[^]*digits=8/);
    assert.match(await raw(port, 'NONSENSE\r\n\r\n', 1), /^HTTP\/1\.1 400 /);
    assert.match(await raw(port, 'POST /ping HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc', 1), /^HTTP\/1\.1 405 /);
    assert.match(await raw(port, 'GET /ping HTTP/1.0\r\n\r\n', 1), /Connection: close/);
  });

  it('keeps memory jobs within its budget: 503 beyond it, fine again after', async () => {
    const s = budgeted as RunningServer;
    const tooBig = await get(s, '/memory?mb=9&ms=0');
    assert.equal(tooBig.status, 503, tooBig.body);
    const fits = await get(s, '/memory2?mb=8&ms=10');
    assert.equal(fits.status, 200, fits.body);
  });
});
