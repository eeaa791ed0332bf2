/**
 * The guest's workload server (guest/server.c), compiled with gcc and run natively on the
 * host over loopback: its endpoints, headers, keep-alive, bounds and memory budget, and the
 * checks of its data (words changed under a running job through /proc/PID/mem and the job's
 * file are counted).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { CORRUPT_WORDS_HEADER, PROCESSING_HEADER, SERVER_HEADER } from '../../src/load/http-load.ts';
import { exec, findExecutable } from '../../src/exec.ts';
import { GUEST_DIR } from '../../src/platforms/qemu/guest-image.ts';
import { serverSkipReason } from './support/lab-requirements.ts';

const skip = serverSkipReason();
const { after, before, describe, it } = needing(skip);

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
  const child = spawn(path.join(dir, 'vmm-server'), ['--bind', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderrOf.set(child, (stderrOf.get(child) ?? '') + chunk)));
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

/** What each server said on stderr (its console in the guest). */
const stderrOf = new Map<ChildProcess, string>();

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

/** The job file the server has open in `dataDir` (created and unlinked at once), or null. */
function openJobFile(pid: number, dataDir: string): { fdPath: string; size: number } | null {
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const fdPath = `/proc/${pid}/fd/${fd}`;
    let target: string;
    try {
      target = fs.readlinkSync(fdPath);
    } catch {
      continue; // closed meanwhile
    }
    if (target.startsWith(`${dataDir}/vmm-job-`) && target.endsWith(' (deleted)')) return { fdPath, size: fs.statSync(fdPath).size };
  }
  return null;
}

/** Waits until the server has a job file open in `dataDir`. */
async function jobFile(pid: number, dataDir: string): Promise<{ fdPath: string; size: number }> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const file = openJobFile(pid, dataDir);
    if (file) return file;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no job file in ${dataDir}`);
}

/**
 * The address of a page inside the first megabyte of the process's private writable memory
 * filled with `byte`: a job's buffer, not its 64 KiB staging buffer that holds the fill too.
 */
function findFilledPage(pid: number, byte: number): number {
  const pagesInRun = 256;
  const mem = fs.openSync(`/proc/${pid}/mem`, 'r');
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const match = /^([0-9a-f]+)-([0-9a-f]+) rw-p 00000000 00:00 0\s*$/.exec(line);
      if (!match) continue;
      const start = Number.parseInt(match[1] as string, 16);
      const end = Number.parseInt(match[2] as string, 16);
      const page = Buffer.alloc(4096);
      let run = 0;
      for (let at = start; at < end; at += 4096) {
        fs.readSync(mem, page, 0, 4096, at);
        run = page.every((b) => b === byte) ? run + 1 : 0;
        if (run === pagesInRun) return at - (pagesInRun / 2) * 4096;
      }
    }
  } finally {
    fs.closeSync(mem);
  }
  throw new Error(`no megabyte of 0x${byte.toString(16)} in process ${pid}`);
}

/** Overwrites the 64-bit words at `offsets` (bytes) of a file or of process memory with `junk`. */
function overwriteWords(file: string, base: number, offsets: number[], junk = 0xa5): void {
  const fd = fs.openSync(file, 'r+');
  try {
    for (const offset of offsets) fs.writeSync(fd, Buffer.alloc(8, junk), 0, 8, base + offset);
  } finally {
    fs.closeSync(fd);
  }
}

describe('guest workload server (native)', () => {
  let dir = '';
  let server: RunningServer | undefined;
  let budgeted: RunningServer | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-server-'));
    const gcc = findExecutable('gcc') as string;
    await exec(gcc, ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', path.join(dir, 'vmm-server'), path.join(GUEST_DIR, 'server.c')], {
      timeoutMs: 120_000,
    });
    server = await startServer(dir, ['--name', 'vm-test', '--data-dir', dir]);
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

  it('rewrites random pages of a filled buffer at a rate on /rewrite, some of them more than once', async () => {
    const answer = await get(server as RunningServer, '/rewrite?mb=4&rate=20&ms=300');
    assert.equal(answer.status, 200, answer.body);
    assert.match(answer.body, /^rewrite mb=4 rate=20 ms=300 order=0 fill_ms=\d+ rewritten_mb=[\d.]+ distinct_mb=[\d.]+ took_ms=\d+\n$/);
    const rewritten = Number(/rewritten_mb=([\d.]+)/.exec(answer.body)?.[1]);
    const distinct = Number(/distinct_mb=([\d.]+)/.exec(answer.body)?.[1]);
    assert.ok(rewritten > 4 && rewritten < 8, `about 20 MB/s for 0.3 s: ${answer.body}`);
    // Pages drawn uniformly with replacement: of W MB rewritten in B MB, B (1 - e^(-W/B)) are distinct (a sweep would give all 4).
    const expected = 4 * (1 - Math.exp(-rewritten / 4));
    assert.ok(Math.abs(distinct - expected) < 0.2, `${distinct} MB distinct of ${rewritten} MB rewritten, expected ${expected.toFixed(2)}: ${answer.body}`);
    assert.equal(answer.headers[CORRUPT_WORDS_HEADER], '0');
  });

  it('rewrites a filled buffer in page order on /rewrite?order=1: every page once before any twice', async () => {
    const answer = await get(server as RunningServer, '/rewrite?mb=4&rate=20&ms=300&order=1');
    assert.equal(answer.status, 200, answer.body);
    assert.match(answer.body, /^rewrite mb=4 rate=20 ms=300 order=1 fill_ms=/);
    const rewritten = Number(/rewritten_mb=([\d.]+)/.exec(answer.body)?.[1]);
    const distinct = Number(/distinct_mb=([\d.]+)/.exec(answer.body)?.[1]);
    assert.ok(rewritten > 4 && rewritten < 8, `about 20 MB/s for 0.3 s: ${answer.body}`);
    assert.equal(distinct, 4, `a sweep of more than the buffer touches all of it: ${answer.body}`);
    assert.equal(answer.headers[CORRUPT_WORDS_HEADER], '0');
    const short = await get(server as RunningServer, '/rewrite?mb=8&rate=10&ms=300&order=1');
    const shortRewritten = Number(/rewritten_mb=([\d.]+)/.exec(short.body)?.[1]);
    assert.equal(Number(/distinct_mb=([\d.]+)/.exec(short.body)?.[1]), shortRewritten, `under one sweep, every page written is a new one: ${short.body}`);
  });

  it('stops a page writer early, freeing its data, when its client goes away', async () => {
    const s = server as RunningServer;
    const pid = s.child.pid as number;
    for (const job of ['/dirty?mb=4&rate=4&ms=60000', '/rewrite?mb=4&rate=4&ms=60000']) {
      const request = http.get({ host: '127.0.0.1', port: s.port, path: job, agent: false });
      request.on('error', () => {}); // destroyed below
      await jobFile(pid, dir);
      request.destroy();
      let freed = false;
      for (let attempt = 0; attempt < 100 && !freed; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        freed = openJobFile(pid, dir) === null;
      }
      assert.ok(freed, `${job}: the job's file was still open 2 s after its client went away`);
    }
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
      '/memory?mb=0', '/memory?mb=5000', '/memory?ms=3600001', '/memory2?mb=-1', '/dirty?rate=0',
      '/rewrite?mb=0', '/rewrite?mb=4097', '/rewrite?rate=0', '/rewrite?rate=100001', '/rewrite?ms=3600001', '/rewrite?seed=1', '/rewrite?order=2', '/ping?x']) {
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

  it('says how many words its checks found wrong on every job answer (none here), and nothing on other answers', async () => {
    const s = server as RunningServer;
    for (const job of ['/cpu?digits=10', '/cpu?digits=4000', '/memory?mb=3&ms=10', '/memory2?mb=3&ms=100', '/dirty?mb=3&rate=30&ms=200',
      '/rewrite?mb=3&rate=30&ms=200']) {
      const answer = await get(s, job);
      assert.equal(answer.status, 200, `${job}: ${answer.body}`);
      assert.equal(answer.headers[CORRUPT_WORDS_HEADER], '0', `${job} checked its data and found it intact`);
    }
    assert.equal((await get(s, '/ping')).headers[CORRUPT_WORDS_HEADER], undefined);
    assert.equal((await get(s, '/cpu?digits=0')).headers[CORRUPT_WORDS_HEADER], undefined);
    assert.equal((await get(budgeted as RunningServer, '/memory?mb=9&ms=0')).headers[CORRUPT_WORDS_HEADER], undefined);
  });

  it('keeps a quarter of a memory job in an unlinked file of its data directory, and answers 503 without one', async () => {
    const s = server as RunningServer;
    const job = get(s, '/memory?mb=8&ms=1000');
    const file = await jobFile(s.child.pid as number, dir);
    assert.equal(file.size, 2 * 1024 * 1024, 'a quarter of 8 MB');
    assert.equal((await job).headers[CORRUPT_WORDS_HEADER], '0');
    assert.equal(openJobFile(s.child.pid as number, dir), null, 'the file went with the job');

    const homeless = await startServer(dir, ['--name', 'homeless', '--data-dir', path.join(dir, 'missing')]);
    try {
      for (const job of ['/memory?mb=1&ms=0', '/memory2?mb=1&ms=0', '/dirty?mb=1&ms=0', '/rewrite?mb=1&ms=0', '/cpu?digits=8']) {
        const answer = await get(homeless, job);
        assert.equal(answer.status, 503, job);
        assert.match(answer.body, /^cannot make the job's file in .*missing: No such file or directory\n$/);
      }
    } finally {
      stopServer(homeless);
    }
  });

  it('counts the words changed under a job, in its memory and in its file, and says so on its console', async () => {
    const s = server as RunningServer;
    const pid = s.child.pid as number;
    // memory: 5 MB of 0x5a, 3.75 MB in memory and 1.25 MB in the file; 2 words changed in memory, 3 in the file.
    const held = get(s, '/memory?mb=5&ms=1500');
    const file = await jobFile(pid, dir);
    await new Promise((resolve) => setTimeout(resolve, 400)); // filled by now
    overwriteWords(`/proc/${pid}/mem`, findFilledPage(pid, 0x5a), [0, 4088]);
    overwriteWords(file.fdPath, 0, [8, 65536, file.size - 8]);
    assert.equal((await held).headers[CORRUPT_WORDS_HEADER], '5');

    // dirty: what it never rewrites (all but each page's first word) is checked at the end.
    const dirtying = get(s, '/dirty?mb=4&rate=4&ms=1500');
    const dirtyFile = await jobFile(pid, dir);
    await new Promise((resolve) => setTimeout(resolve, 400)); // zeroed by now
    overwriteWords(dirtyFile.fdPath, 0, [16, 4096 * 7 + 800]);
    assert.equal((await dirtying).headers[CORRUPT_WORDS_HEADER], '2');

    // rewrite: a page's first word is checked for its last version when the page is next rewritten or at the end, the rest at the end.
    const rewriting = get(s, '/rewrite?mb=4&rate=4&ms=1500');
    const rewriteFile = await jobFile(pid, dir);
    await new Promise((resolve) => setTimeout(resolve, 400)); // filled by now
    overwriteWords(rewriteFile.fdPath, 0, [4096 * 3, 24, 4096 * 9 + 1000]);
    assert.equal((await rewriting).headers[CORRUPT_WORDS_HEADER], '3');
    assert.match(stderrOf.get(s.child) ?? '', /^vmm-server: memory: 5 corrupt words$/m);
    assert.match(stderrOf.get(s.child) ?? '', /^vmm-server: dirty: 2 corrupt words$/m);
    assert.match(stderrOf.get(s.child) ?? '', /^vmm-server: rewrite: 3 corrupt words$/m);
  });
});
