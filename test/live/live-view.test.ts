/**
 * `run --serve` with `--pace`: the live view of a real sim run, read as a page reads it (the
 * events at /events, then /report), from the CLI as a child process that must end by itself.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { LiveSnapshot } from '../../src/live/live-state.ts';
import { runCli } from '../support/cli.ts';
import { readEvents, type ServerEvent } from './support/event-stream.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-live-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const PACE = 200;

interface Watched {
  page: string;
  snapshots: LiveSnapshot[];
  /** Wall milliseconds at which each snapshot came. */
  arrivals: number[];
  finished: LiveSnapshot;
  report: { status: number; type: string; html: string };
  finishedAtMs: number;
}

/** Follows the run as a live page does: `/`, then /events to its `finished`, then /report. */
async function watch(url: string): Promise<Watched> {
  const signal = AbortSignal.timeout(90_000);
  const page = await (await fetch(`${url}/`, { signal })).text();
  const response = await fetch(`${url}/events`, { signal });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  const snapshots: LiveSnapshot[] = [];
  const arrivals: number[] = [];
  let finished: ServerEvent | undefined;
  for await (const event of readEvents(response)) {
    if (event.event === 'finished') {
      finished = event;
      break;
    }
    assert.equal(event.event, 'message');
    snapshots.push(JSON.parse(event.data) as LiveSnapshot);
    arrivals.push(performance.now());
  }
  assert.ok(finished, 'a `finished` event ended the stream');
  const finishedAtMs = performance.now();
  const report = await fetch(`${url}/report`, { signal });
  return {
    page, snapshots, arrivals, finished: JSON.parse(finished.data) as LiveSnapshot, finishedAtMs,
    report: { status: report.status, type: report.headers.get('content-type') ?? '', html: await report.text() },
  };
}

describe('run --serve: the live view', () => {
  it('streams a paced sim run\'s state while it goes, says when it has finished, then serves its report and ends', async () => {
    const out = path.join(tmp, 'run');
    let url: string | undefined;
    let watching: Promise<Watched> | undefined;
    // 3,258 s of experiment at 200 per wall second: about 16 s.
    const result = await runCli(['run', 'samples/3.2/light-memory2.txt', '--serve', '127.0.0.1:0', '--pace', String(PACE), '--out', out], {
      timeoutMs: 120_000,
      onStderr: (_child, stderr) => {
        url ??= /serving the live view at (http:\/\/127\.0\.0\.1:\d+)\/ and the metrics at \1\/metrics until it ends/.exec(stderr)?.[1];
        if (url !== undefined) watching ??= watch(url);
      },
    });
    const exitedAtMs = performance.now();
    assert.equal(result.code, 0, result.stderr);
    assert.ok(watching, `the URL on stderr: ${result.stderr}`);
    const watched = await watching;

    assert.match(watched.page, /id="live-status"/);
    const { snapshots } = watched;
    assert.ok(snapshots.length >= 20, `${snapshots.length} snapshots`);
    assert.ok(snapshots.every((s) => s.status === 'running'));
    const times = snapshots.map((s) => s.time_s);
    assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]!), 'experiment time never goes back');
    const spread = times.at(-1)! - times[0]!;
    assert.ok(spread > 2000, `experiment time advanced while watched: ${times[0]} to ${times.at(-1)}`);
    // The first on connect, then at most one every 250 ms of wall time.
    const wallMs = watched.arrivals.at(-1)! - watched.arrivals[1]!;
    assert.ok(snapshots.length - 2 <= wallMs / 250 + 1, `${snapshots.length} snapshots in ${wallMs.toFixed(0)} ms`);
    const fired = snapshots.map((s) => s.actions.fired_total);
    assert.ok(fired.at(-1)! > fired[0]!, 'actions fired as it went');
    assert.ok(snapshots.some((s) => s.actions.waiting.length > 0 && s.actions.waiting[0]!.action === 'migrate'), 'actions waiting');
    const ended = snapshots.map((s) => s.counts.migrations.succeeded ?? 0);
    assert.ok(ended.at(-1)! > ended[0]!, 'migrations counted as they end');
    const inFlight = snapshots.flatMap((s) => s.in_flight.map((m) => ({ ...m, at: s.time_s })));
    assert.ok(inFlight.length > 0, 'migrations seen in flight');
    assert.ok(inFlight.every((m) => m.kind === 'script' && m.at >= m.requested_s && /^esx\d$/.test(m.source)), JSON.stringify(inFlight[0]));
    assert.ok(inFlight.some((m) => (m.progress?.pass ?? 0) >= 1), 'with the sim\'s passes');
    const last = snapshots.at(-1)!;
    assert.deepEqual(last.counters.map((c) => c.host).sort(), ['esx1', 'esx2', 'esx3', 'esx4', 'esx5', 'esx6']);
    assert.ok(last.cpu.time_s.length > 10 && last.cpu.hosts.length === 6);
    assert.ok(last.latency.types.some((t) => t.client_type === 'memory2' && t.mean_ms.some((v) => v !== null && v > 0)));

    const { finished } = watched;
    assert.equal(finished.status, 'finished');
    assert.deepEqual(finished.in_flight, []);
    assert.equal(finished.counts.migrations.succeeded, 50);
    assert.equal(finished.actions.waiting.length, 0);
    assert.ok(finished.time_s >= times.at(-1)!);

    assert.equal(watched.report.status, 200);
    assert.match(watched.report.type, /^text\/html/);
    assert.equal(watched.report.html, fs.readFileSync(path.join(out, 'report', 'report.html'), 'utf8'), 'the run\'s report.html');
    assert.match(result.stderr, /report: .*report\.html/);
    // The tool ended once its one page had the report, not 10 s later.
    assert.ok(exitedAtMs - watched.finishedAtMs < 5000, `ended ${(exitedAtMs - watched.finishedAtMs).toFixed(0)} ms after the report was fetched`);
    await assert.rejects(fetch(`${url}/`, { signal: AbortSignal.timeout(5000) }), 'nothing listens after the run');
  });
});
