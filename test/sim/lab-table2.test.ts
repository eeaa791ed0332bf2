/**
 * What migration costs the application, sim against lab: the sim's twin of the lab
 * (samples/qemu/sim.yaml) running the lab's scripts gives a Table 2 near the lab's measured one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadSimConfig } from '../../src/platforms/sim/config.ts';
import { readMigrations, streamRequests } from '../../src/report/read-run.ts';
import { ServerPerformance, type PhaseChange } from '../../src/report/server-performance.ts';
import { runOnSim } from './run-on-sim.ts';

const LAB_RUNS = 'samples/qemu/runs-2026-12-02';

async function labChange(run: string): Promise<PhaseChange> {
  const dir = `${LAB_RUNS}/${run}`;
  const performance = new ServerPerformance(await readMigrations(dir));
  await streamRequests(dir, (request) => performance.add(request));
  return performance.result().normalAgainstMigration;
}

/** The twin's Table 2 change for `script`, its memory load as `memory` says where given. */
async function simChange(script: string, memory?: object): Promise<PhaseChange> {
  const config = loadSimConfig('samples/qemu/sim.yaml') as { workloads: Record<string, unknown> };
  if (memory) config.workloads.memory = memory;
  const run = await runOnSim(readFileSync(script, 'utf8'), config);
  const performance = new ServerPerformance(run.migrations);
  for (const request of run.requests) performance.add(request);
  return performance.result().normalAgainstMigration;
}

const withinAQuarter = (sim: number | null, lab: number | null): boolean => sim !== null && lab !== null && Math.abs(sim - lab) <= 0.25 * Math.abs(lab);

function assertNear(sim: PhaseChange, lab: PhaseChange, measures: readonly ('responsesPerSecond' | 'latencyMean')[]): void {
  assert.ok(lab.responsesPerSecond !== null && lab.responsesPerSecond > 20, `the lab felt its migrations: ${JSON.stringify(lab)}`);
  for (const measure of measures) assert.ok(withinAQuarter(sim[measure], lab[measure]), `${measure}: sim ${sim[measure]}, lab ${lab[measure]}`);
}

// The twin's slowdowns were measured on the cpu run (tracingSlowdown) and fitted on the fill-only run (fillSlowdown).
for (const load of ['cpu', 'memory2']) {
  test(`the sim's Table 2 for the lab's 3.3 ${load} script is within a quarter of the lab's measured change`, async () => {
    assertNear(await simChange(`samples/qemu/3.3-${load}.txt`), await labChange(`3.3-${load}`), ['responsesPerSecond', 'latencyMean']);
  });
}

test('the twin with its fill slowdown reproduces the lab run it was fitted on: a memory load that only fills', async () => {
  // /memory?mb=16&ms=0: 16 MB in 63.6 ms.
  assertNear(await simChange('samples/qemu/memory-variants.txt', { bufferMB: 16, fillMBps: 251.6, sleepSeconds: 0 }), await labChange('fill-only'), ['responsesPerSecond', 'latencyMean']);
});

// The memory load's responses/s are not: the twin's migrations under it are a third shorter than the lab's (README).
test('the sim\'s average latency change for the lab\'s 3.3 memory script is within a quarter of the lab\'s', async () => {
  assertNear(await simChange('samples/qemu/3.3-memory.txt'), await labChange('3.3-memory'), ['latencyMean']);
});
