/**
 * The second harness (harness/measure.ts) for real: two migrations on fresh TCG guests, an
 * idle 256 MiB one at 1000 Mbit/s and a sweep, whose measured.csv calibrate's case-column
 * reader must take, with sane figures and per-pass progress; and a run stopped by SIGTERM that
 * leaves no QEMU and no temp dir behind. Outside CI it skips without QEMU or gcc.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMeasuredCases } from '../../src/calibrate/measured-cases-file.ts';
import { needing } from '../support/needing.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MEASURE = path.join(ROOT, 'harness', 'measure.ts');
const RUN_TIMEOUT_MS = 80_000;
const MIB = 1 << 20;

function skipReason(): string | false {
  if (process.env.CI === 'true') return false;
  const missing = [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['gcc', 'gcc'],
  ].filter(([program]) => spawnSync('sh', ['-c', `command -v ${program}`]).status !== 0);
  if (missing.length === 0) return false;
  return `needs the Debian package${missing.length > 1 ? 's' : ''} ${missing.map(([, pkg]) => pkg).join(' ')} (${missing.map(([program]) => program).join(', ')})`;
}

const { describe, it, after } = needing(skipReason());

interface Run {
  code: number | null;
  stderr: string;
}

/** Runs the harness on `cases` with its temp dirs under `tmp`; `onStderr` sees its messages as they come. */
function measure(base: string, name: string, cases: object[], onStderr?: (text: string, pid: number) => void): Promise<Run> {
  const grid = path.join(base, `${name}.json`);
  fs.writeFileSync(grid, JSON.stringify({ warmup_s: 3, timeout_s: 30, poll_ms: 50, cases }));
  const tmp = path.join(base, `${name}-tmp`);
  fs.mkdirSync(tmp);
  const child = spawn(process.execPath, ['--import', 'tsx', MEASURE, '--grid', grid, '--out', path.join(base, name)], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
    onStderr?.(stderr, child.pid as number);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the harness did not finish within ${RUN_TIMEOUT_MS / 1000} s: ${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** The QEMU pids the harness announced ("source pid N, destination pid M"). */
function announcedPids(stderr: string): number[] {
  return [...stderr.matchAll(/source pid (\d+), destination pid (\d+)/g)].flatMap((match) => [Number(match[1]), Number(match[2])]);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids of `pids` still running after a few seconds (a QEMU killed as the harness exited is reaped by init a moment later). */
async function stillRunning(pids: readonly number[]): Promise<number[]> {
  const deadline = Date.now() + 5_000;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return pids.filter(isRunning);
}

/** What the harness left in its TMPDIR (tsx keeps a cache of its own there). */
function harnessTempDirs(tmp: string): string[] {
  return fs.readdirSync(tmp).filter((name) => name.startsWith('second-harness-'));
}

describe('the second harness', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'second-harness-test-'));
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  it('measures an idle and a sweep migration into a measured.csv that calibrate reads, and leaves nothing running', async () => {
    const idle = { ram_mb: 256, buffer_mb: 0, dirty_mb_s: 0, max_bandwidth_mbit_s: 1000, downtime_limit_ms: 30 };
    const sweep = { ram_mb: 256, buffer_mb: 32, dirty_mb_s: 10, max_bandwidth_mbit_s: 1000, downtime_limit_ms: 300 };
    const run = await measure(base, 'mini', [idle, sweep]);
    assert.equal(run.code, 0, run.stderr);

    const cases = await readMeasuredCases(path.join(base, 'mini', 'measured.csv'));
    assert.deepEqual(cases.map((c) => c.migrationCase.id), ['writer-ram256-idle-bw1000-dl30', 'writer-ram256-sweep32x10-bw1000-dl300']);
    assert.deepEqual(cases.map((c) => c.migrationCase.workload), [{ kind: 'idle' }, { kind: 'sweep', bufferMB: 32, rateMBps: 10 }]);
    for (const { migrationCase, settings, measured } of cases) {
      const what = `${measured.id}: ${JSON.stringify(measured)}`;
      assert.deepEqual(settings, { warmupSeconds: 3, convergenceTimeoutSeconds: 30 });
      assert.equal(measured.converged, true, what);
      // At least the guest's kernel (tens of MB), at most its RAM plus the working set again and headers.
      const ramBytes = migrationCase.ramMB * MIB;
      const bufferBytes = migrationCase.workload.kind === 'sweep' ? migrationCase.workload.bufferMB * MIB : 0;
      assert.ok(measured.bytes > 10 * MIB + bufferBytes && measured.bytes < ramBytes + 2 * bufferBytes, what);
      // max-bandwidth holds the stream but for the last burst in the downtime: no faster than 1000 Mbit/s by much.
      assert.ok(measured.total_ms >= ((measured.bytes * 8) / 1e9) * 1000 * 0.7, what);
      assert.ok(measured.downtime_ms !== null && measured.downtime_ms >= 0 && measured.downtime_ms < 1000, what);
      // A completed migration syncs its dirty bitmap at the start and again at the switchover.
      assert.ok(measured.passes >= 2, what);
      const progress = measured.progress ?? [];
      assert.ok(progress.length >= 2, `${what}: per-pass progress`);
      assert.equal(progress[0]?.pass, 1, what);
      assert.equal(progress.at(-1)?.pass, measured.passes, what);
      assert.equal(progress.at(-1)?.transferred, measured.bytes, what);
      // One record per pass while active (a pass shorter than the poll has none), then the final one.
      for (let index = 1; index < progress.length; index++) {
        const [before, record] = [progress[index - 1]!, progress[index]!];
        assert.ok(record.at_s > before.at_s && record.transferred >= before.transferred, what);
        assert.ok(index === progress.length - 1 ? record.pass >= before.pass : record.pass > before.pass, what);
      }
    }

    const details = fs.readFileSync(path.join(base, 'mini', 'measured-details.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(details.map((line) => line.qemu.destination), [{ status: 'running', console_trouble: null }, { status: 'running', console_trouble: null }]);
    const harness = JSON.parse(fs.readFileSync(path.join(base, 'mini', 'harness.json'), 'utf8'));
    assert.match(harness.qemu_version, /QEMU emulator version/);
    assert.deepEqual(harness.failed_cases, []);

    const pids = announcedPids(run.stderr);
    assert.equal(pids.length, 4, run.stderr);
    assert.deepEqual(await stillRunning(pids), []);
    assert.deepEqual(harnessTempDirs(path.join(base, 'mini-tmp')), []);
  });

  it('stopped by SIGTERM mid-case, takes its QEMUs and temp dirs down and keeps the header it wrote', async () => {
    const idle = { ram_mb: 256, buffer_mb: 0, dirty_mb_s: 0, max_bandwidth_mbit_s: 200, downtime_limit_ms: 30 };
    let signalled = false;
    const run = await measure(base, 'stopped', [idle], (stderr, pid) => {
      if (signalled || announcedPids(stderr).length === 0) return;
      signalled = true;
      setTimeout(() => process.kill(pid, 'SIGTERM'), 1000);
    });
    assert.equal(run.code, 143, run.stderr);
    assert.match(run.stderr, /SIGTERM: taking down/);
    const pids = announcedPids(run.stderr);
    assert.equal(pids.length, 2, run.stderr);
    assert.deepEqual(await stillRunning(pids), []);
    assert.deepEqual(harnessTempDirs(path.join(base, 'stopped-tmp')), []);
    assert.match(fs.readFileSync(path.join(base, 'stopped', 'measured.csv'), 'utf8'), /^id,ram_mb,[^\n]*\n$/);
  });
});
