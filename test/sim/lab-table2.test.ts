import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadSimConfig } from '../../src/platforms/sim/config.ts';
import { readMigrations, streamRequests } from '../../src/report/read-run.ts';
import { ServerPerformance, type PhaseChange } from '../../src/report/server-performance.ts';
import { runOnSim } from './run-on-sim.ts';

const LAB_RUNS = 'samples/qemu/runs-2026-12-02';

async function labChange(load: string): Promise<PhaseChange> {
  const dir = `${LAB_RUNS}/3.3-${load}`;
  const performance = new ServerPerformance(await readMigrations(dir));
  await streamRequests(dir, (request) => performance.add(request));
  return performance.result().normalAgainstMigration;
}

async function simChange(load: string): Promise<PhaseChange> {
  const run = await runOnSim(readFileSync(`samples/qemu/3.3-${load}.txt`, 'utf8'), loadSimConfig('samples/qemu/sim.yaml'));
  const performance = new ServerPerformance(run.migrations);
  for (const request of run.requests) performance.add(request);
  return performance.result().normalAgainstMigration;
}

const withinAQuarter = (sim: number | null, lab: number | null): boolean => sim !== null && lab !== null && Math.abs(sim - lab) <= 0.25 * Math.abs(lab);

// The slowdown of a migrating guest in samples/qemu/sim.yaml was measured on the cpu run; memory2 is predicted.
// The memory load is not: its fills of fresh pages pay TCG's first-write traps, which the sim does not model (README).
for (const load of ['cpu', 'memory2']) {
  test(`the sim's Table 2 for the lab's 3.3 ${load} script is within a quarter of the lab's measured change`, async () => {
    const [lab, sim] = [await labChange(load), await simChange(load)];
    assert.ok(lab.responsesPerSecond !== null && lab.responsesPerSecond > 20, `the lab felt its migrations: ${JSON.stringify(lab)}`);
    assert.ok(withinAQuarter(sim.responsesPerSecond, lab.responsesPerSecond), `responses/s: sim ${sim.responsesPerSecond}, lab ${lab.responsesPerSecond}`);
    assert.ok(withinAQuarter(sim.latencyMean, lab.latencyMean), `average latency: sim ${sim.latencyMean}, lab ${lab.latencyMean}`);
  });
}
