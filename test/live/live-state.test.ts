/**
 * The live page's state (`run --serve`): what it keeps of a run's records and of the runner's
 * observer calls, each list bounded whatever the run's length; and what a real sim run tells
 * it through the observer (the timeline, migrations in flight with their passes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIVE_LIMITS, LiveState } from '../../src/live/live-state.ts';
import { COUNTERS } from '../../src/monitor/counters.ts';
import { simConfigSchema } from '../../src/platforms/sim/config.ts';
import { SimPlatform } from '../../src/platforms/sim/sim-platform.ts';
import type { MigrationProgress } from '../../src/platforms/platform.ts';
import { fanOut } from '../../src/record/fan-out.ts';
import type { ActionRecord, MigrationRecord, RecordSink, RequestRecord } from '../../src/record/records.ts';
import type { MigrationStart, PlannedAction, RunObserver } from '../../src/run/run-observer.ts';
import { executeRun, prepareRun } from '../../src/run/session.ts';
import { parseScript } from '../../src/script/parse.ts';
import { placementOf } from '../../src/script/validate.ts';

const CPU = COUNTERS.cpuUsage.name;
const MEM = COUNTERS.memConsumed.name;

function migrationRecord(vm: string, requestedS: number, endedS: number, status: MigrationRecord['status'] = 'succeeded'): MigrationRecord {
  return {
    vm, source: 'h1', target: 'h2', requested_s: requestedS, started_s: requestedS, ended_s: endedS, duration_ms: (endedS - requestedS) * 1000,
    downtime_ms: 10, client_downtime_ms: null, bytes: 1e9, passes: 3, status, reason: '', kind: 'script', details: { sim: { progress: [1, 2, 3] } },
  };
}

function request(type: string, receivedS: number, latencyMs: number, status: RequestRecord['status'] = 'ok'): RequestRecord {
  return { client_type: type, client_id: `${type}-1`, sent_s: receivedS - latencyMs / 1000, received_s: receivedS, latency_ms: latencyMs, server: 'vm1', processing_ms: null, status, corrupt_words: 0 };
}

function actionRecord(line: number, firedS: number, action = 'migrate', status: ActionRecord['status'] = 'fired'): ActionRecord {
  return { scheduled_s: firedS, fired_s: firedS, action, args: `vm${line} h2`, postponed_ms: 0, status, line };
}

describe('LiveState', () => {
  it('keeps each host\'s latest counters and the latest sampling rounds of CPU, however many there were', () => {
    const live = new LiveState(20);
    const rounds = LIVE_LIMITS.cpuPoints * 3;
    for (let round = 0; round < rounds; round++) {
      for (const host of ['h1', 'h2', 'h3']) {
        live.sample({ time_s: round * 20, host, counter: CPU, value: round + (host === 'h2' ? 0.5 : 0), unit: 'MHz' });
        live.sample({ time_s: round * 20, host, counter: MEM, value: 1000 * round, unit: 'KB' });
      }
    }
    // A host seen only late gets nulls for the rounds it missed.
    live.sample({ time_s: (rounds - 1) * 20, host: 'h4', counter: CPU, value: 7, unit: 'MHz' });
    const snapshot = live.snapshot();
    assert.equal(snapshot.time_s, (rounds - 1) * 20);
    assert.equal(snapshot.cpu.time_s.length, LIVE_LIMITS.cpuPoints);
    assert.equal(snapshot.cpu.time_s[0], (rounds - LIVE_LIMITS.cpuPoints) * 20);
    assert.equal(snapshot.cpu.time_s.at(-1), (rounds - 1) * 20);
    assert.deepEqual(snapshot.cpu.hosts.map((h) => h.host), ['h1', 'h2', 'h3', 'h4']);
    for (const series of snapshot.cpu.hosts) assert.equal(series.values.length, LIVE_LIMITS.cpuPoints, series.host);
    assert.equal(snapshot.cpu.hosts[1]!.values.at(-1), rounds - 1 + 0.5);
    assert.equal(snapshot.cpu.hosts[1]!.values[0], rounds - LIVE_LIMITS.cpuPoints + 0.5);
    assert.deepEqual(snapshot.cpu.hosts[3]!.values.slice(-2), [null, 7]);
    const h2 = snapshot.counters.find((c) => c.host === 'h2');
    assert.deepEqual(h2?.values, { [CPU]: { value: rounds - 1 + 0.5, unit: 'MHz' }, [MEM]: { value: 1000 * (rounds - 1), unit: 'KB' } });
  });

  it('buckets the latency of answered requests by when they were answered, keeping the latest buckets', () => {
    const live = new LiveState(10);
    const buckets = LIVE_LIMITS.latencyBuckets * 2;
    for (let i = 0; i < buckets * 10; i++) {
      const receivedS = i; // ten requests per bucket
      live.request(request('cpu', receivedS, 100 + (i % 10)));
      live.request(request('memory', receivedS, 2000));
    }
    live.request(request('cpu', buckets * 10 - 1, 99_999, 'error'));
    // A straggler into a bucket still kept counts there; one older than every bucket kept is left out.
    live.request(request('cpu', buckets * 10 - 25, 1000));
    live.request(request('cpu', 5, 1000));
    const { latency, counts } = live.snapshot();
    assert.equal(latency.bucket_s, 10);
    assert.equal(latency.start_s.length, LIVE_LIMITS.latencyBuckets);
    assert.equal(latency.start_s[0], (buckets - LIVE_LIMITS.latencyBuckets) * 10);
    assert.equal(latency.start_s.at(-1), (buckets - 1) * 10);
    const cpu = latency.types.find((t) => t.client_type === 'cpu')!;
    const memory = latency.types.find((t) => t.client_type === 'memory')!;
    assert.equal(cpu.mean_ms.length, LIVE_LIMITS.latencyBuckets);
    assert.equal(cpu.mean_ms.at(-1), 104.5, 'the error is not a latency');
    assert.equal(cpu.max_ms.at(-1), 109);
    assert.equal(cpu.mean_ms.at(-3), (100 + 101 + 102 + 103 + 104 + 105 + 106 + 107 + 108 + 109 + 1000) / 11);
    assert.equal(memory.mean_ms.at(-1), 2000);
    assert.deepEqual(counts.requests, { ok: buckets * 20 + 2, error: 1 });
  });

  it('keeps the migrations in flight with their last progress, and the last ended ones', () => {
    const live = new LiveState();
    live.migrationStarted({ vm: 'vm1', source: 'h1', target: 'h2', kind: 'script', requested_s: 100 });
    live.migrationStarted({ vm: 'vm2', source: 'h2', target: 'h1', kind: 'drs', requested_s: 105 });
    live.migrationProgress('vm1', { at_s: 2, pass: 1, transferred: 0, remaining: 4e9, status: 'active' });
    live.migrationProgress('vm1', { at_s: 12, pass: 2, transferred: 4e9, remaining: 1e8, status: 'active' });
    live.migrationProgress('vm9', { at_s: 1, pass: 1, transferred: 0, remaining: 1, status: 'active' });
    let snapshot = live.snapshot();
    assert.equal(snapshot.time_s, 112, 'a migration\'s progress tells the time too');
    assert.deepEqual(snapshot.in_flight.map((m) => [m.vm, m.kind, m.progress?.pass ?? null, m.progress?.transferred ?? null]), [['vm1', 'script', 2, 4e9], ['vm2', 'drs', null, null]]);
    // A refusal of vm2 recorded at once (it never started) leaves the one in flight alone.
    live.migration({ ...migrationRecord('vm2', 113, 113, 'failed'), reason: 'vm2 is already on h1' });
    live.migration(migrationRecord('vm1', 100, 120));
    snapshot = live.snapshot();
    assert.deepEqual(snapshot.in_flight.map((m) => m.vm), ['vm2']);
    assert.equal(snapshot.ended.at(-1)?.vm, 'vm1');
    assert.equal('details' in snapshot.ended.at(-1)!, false, 'no platform details in a snapshot');
    for (let i = 0; i < LIVE_LIMITS.endedMigrations * 4; i++) live.migration(migrationRecord(`vm${i % 7}`, 200 + i, 210 + i, i % 2 ? 'succeeded' : 'failed'));
    snapshot = live.snapshot();
    assert.equal(snapshot.ended.length, LIVE_LIMITS.endedMigrations);
    assert.equal(snapshot.ended.at(-1)?.ended_s, 210 + LIVE_LIMITS.endedMigrations * 4 - 1);
    assert.deepEqual(snapshot.counts.migrations, { failed: 1 + LIVE_LIMITS.endedMigrations * 2, succeeded: 1 + LIVE_LIMITS.endedMigrations * 2 });
  });

  it('lists the actions fired (the latest) and waiting (the next, due from the last that fired)', () => {
    const live = new LiveState();
    const steps = 3 * LIVE_LIMITS.actionsShown;
    const planned: PlannedAction[] = Array.from({ length: steps }, (_, i) => ({
      scheduled_s: 50 + 60 * (i + 1), delay_s: 60, action: i === steps - 1 ? 'end' : 'migrate', args: `vm${i + 1} h2`, line: i + 2,
    }));
    live.timeline(planned);
    let { actions } = live.snapshot();
    assert.equal(actions.fired_total, 0);
    assert.equal(actions.waiting.length, LIVE_LIMITS.actionsShown);
    assert.equal(actions.waiting_total, steps);
    assert.deepEqual(actions.waiting[0], { due_s: 110, action: 'migrate', args: 'vm1 h2', line: 2 });
    // The first fires 30 s late (waiting for a slot): the rest are due 30 s later than planned.
    live.action({ ...actionRecord(2, 140), scheduled_s: 110, postponed_ms: 30_000 });
    ({ actions } = live.snapshot());
    assert.deepEqual(actions.waiting.slice(0, 2).map((a) => [a.line, a.due_s]), [[3, 200], [4, 260]]);
    assert.equal(actions.waiting_total, steps - 1);
    for (let line = 3; line <= steps; line++) live.action(actionRecord(line, 140 + 60 * (line - 2)));
    ({ actions } = live.snapshot());
    assert.equal(actions.fired.length, LIVE_LIMITS.actionsShown);
    assert.equal(actions.fired_total, steps - 1);
    assert.equal(actions.fired.at(-1)?.line, steps);
    assert.deepEqual(actions.waiting.map((a) => a.action), ['end']);
    live.action(actionRecord(steps + 1, 140 + 60 * (steps - 1), 'end'));
    ({ actions } = live.snapshot());
    assert.deepEqual([actions.waiting, actions.waiting_total], [[], 0]);
  });

  it('counts every change in its version, and says when the run has finished', () => {
    const live = new LiveState();
    const versions = [live.version];
    live.sample({ time_s: 1, host: 'h1', counter: CPU, value: 1, unit: 'MHz' });
    versions.push(live.version);
    live.decision({ time_s: 2, policy: 'drs', level: 3, loads: '', spread: 0, outcome: 'none', vm: '', source: '', target: '', reason: '' });
    versions.push(live.version);
    assert.equal(live.snapshot().status, 'running');
    live.finish();
    versions.push(live.version);
    assert.deepEqual([...new Set(versions)].length, 4, versions.join(' '));
    assert.equal(live.snapshot().status, 'finished');
    assert.deepEqual(live.snapshot().counts.decisions, { none: 1 });
  });
});

/** Records every observer call, then hands it on to `live`. */
class ObserverLog implements RunObserver {
  readonly timelines: PlannedAction[][] = [];
  readonly started: MigrationStart[] = [];
  readonly progress = new Map<string, MigrationProgress[]>();

  constructor(private readonly live: LiveState) {}

  timeline(actions: PlannedAction[]): void {
    this.timelines.push(actions);
    this.live.timeline(actions);
  }

  migrationStarted(start: MigrationStart): void {
    this.started.push(start);
    this.progress.set(`${start.vm}@${start.requested_s}`, []);
    this.live.migrationStarted(start);
  }

  migrationProgress(vm: string, progress: MigrationProgress): void {
    // A VM moves once at a time: its latest start is this migration's.
    const start = [...this.started].reverse().find((s) => s.vm === vm)!;
    this.progress.get(`${vm}@${start.requested_s}`)!.push(progress);
    this.live.migrationProgress(vm, progress);
  }
}

describe('a sim run observed', () => {
  it('tells the timeline when it starts, each migration as it starts, and the sim\'s progress of each pass', async () => {
    const script = ['h1:vm1,vm2 h2:', '10 add-client memory 2', '30 migrate vm1 h2', '0 migrate vm2 h2', '100 migrate vm1 h1', '200 end', ''].join('\n');
    const experiment = parseScript(script, 'live.txt');
    const platform = new SimPlatform(simConfigSchema.parse({}), { configPath: undefined, seed: 1, placement: placementOf(experiment), caFile: undefined, insecure: false });
    const prepared = await prepareRun(experiment, platform);
    const live = new LiveState(prepared.intervalSeconds);
    const log = new ObserverLog(live);
    const migrations: MigrationRecord[] = [];
    const collect: RecordSink = { sample: () => {}, action: () => {}, request: () => {}, decision: () => {}, migration: (record) => migrations.push(record) };
    const outcome = await executeRun(prepared, fanOut(live, collect), { maxMigrationsPerHost: 4, signal: new AbortController().signal, observer: log });
    assert.equal(outcome.status, 'completed');

    assert.equal(log.timelines.length, 1);
    assert.deepEqual(log.timelines[0]!.map((a) => [a.scheduled_s, a.delay_s, a.action, a.args, a.line]), [
      [10, 10, 'add-client', 'memory 2', 2], [40, 30, 'migrate', 'vm1 h2', 3], [40, 0, 'migrate', 'vm2 h2', 4], [140, 100, 'migrate', 'vm1 h1', 5], [340, 200, 'end', '', 6],
    ]);
    assert.equal(migrations.length, 3);
    const key = (m: MigrationStart): string => `${m.requested_s} ${m.vm} ${m.source}>${m.target} ${m.kind}`;
    assert.deepEqual(log.started.map(key).sort(), migrations.map(key).sort(), 'each migration told as it started');
    for (const record of migrations) {
      const passes = log.progress.get(`${record.vm}@${record.requested_s}`)!;
      // The sim's own per-pass progress, as it keeps it in the record's details, told as it was made.
      assert.deepEqual(passes, (record.details as { sim: { progress: MigrationProgress[] } }).sim.progress);
      assert.ok(passes.some((p) => p.pass >= 1 && p.status === 'active'), `${record.vm}: passes told: ${JSON.stringify(passes)}`);
      assert.equal(passes.at(-1)?.status, record.status);
    }
    const snapshot = live.snapshot();
    assert.deepEqual(snapshot.in_flight, [], 'none left in flight');
    assert.deepEqual(snapshot.actions.waiting, []);
    assert.equal(snapshot.actions.fired_total, 5);
    assert.equal(snapshot.ended.length, 3);
  });
});
