import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaseResult, CaseWorkload, MigrationCase } from '../../src/calibrate/migration-case.ts';
import { withSourceProcesses } from '../../src/calibrate/source-process.ts';

const migrationCase = (id: string, workload: CaseWorkload): MigrationCase => ({ id, ramMB: 256, workload, bandwidthMbps: 1000, downtimeLimitMs: 300, training: true });
const result = (id: string, converged: boolean, source: number, target: number): CaseResult => ({ id, converged, total_ms: 1, downtime_ms: converged ? 1 : null, setup_ms: 1, bytes: 1, passes: 1, reason: '', processes: { source, target } });

test('each case knows what its guest freed on the process it migrated from, and whether that process booted it', () => {
  const cases = [
    migrationCase('a', { kind: 'idle' }),
    migrationCase('b', { kind: 'memory', bufferMB: 64, sleepMs: 1000 }),
    migrationCase('c', { kind: 'dirty', bufferMB: 32, rateMBps: 100 }),
    migrationCase('d', { kind: 'idle' }),
    migrationCase('e', { kind: 'idle' }),
  ];
  // a: 10 -> 11; b: 11 -> 12; c: 12 -> 13 fails, the guest stays on 12; d: 12 -> 14; e: from 14.
  const measured = new Map([result('a', true, 10, 11), result('b', true, 11, 12), result('c', false, 12, 13), result('d', true, 12, 14), result('e', true, 14, 15)].map((r) => [r.id, r]));
  const histories = withSourceProcesses(cases, measured).map((c) => c.sourceProcess);
  assert.deepEqual(histories, [
    { booted: true, freedMB: [] },
    { booted: false, freedMB: [0] },
    { booted: false, freedMB: [64] },
    // c's migration from 12 started (its flush shrank the TLB), then its dirtier stopped there.
    { booted: false, freedMB: [32] },
    { booted: false, freedMB: [0] },
  ]);
});

test('cases measured without their processes are left as they are', () => {
  const cases = [migrationCase('a', { kind: 'idle' })];
  const withoutProcesses: CaseResult = { ...result('a', true, 1, 2), processes: undefined };
  assert.equal(withSourceProcesses(cases, new Map([['a', withoutProcesses]]))[0]!.sourceProcess, undefined);
});
