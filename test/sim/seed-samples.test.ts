import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadSimConfig } from '../../src/platforms/sim/config.ts';
import { mean, runOnSim, type CollectedRun } from './run-on-sim.ts';

const SAMPLES = 'samples';

function samplesIn(section: string): string[] {
  return readdirSync(path.join(SAMPLES, section))
    .filter((file) => file.endsWith('.txt'))
    .map((file) => path.join(SAMPLES, section, file));
}

async function runSample(file: string): Promise<CollectedRun> {
  const configFile = path.join(path.dirname(file), 'sim.yaml');
  const config = readdirSync(path.dirname(file)).includes('sim.yaml') ? loadSimConfig(configFile) : {};
  return runOnSim(readFileSync(file, 'utf8'), config);
}

for (const file of ['3.1', '3.2', '3.3'].flatMap(samplesIn)) {
  test(`${file} runs to completion on the sim with every migration done`, async () => {
    const migrateLines = readFileSync(file, 'utf8').split('\n').filter((line) => /^\s*[\d.]+\s+migrate\s/.test(line)).length;
    const run = await runSample(file);
    assert.equal(run.outcome.status, 'completed');
    const scripted = run.migrations.filter((m) => m.kind === 'script');
    assert.equal(scripted.length, migrateLines);
    assert.ok(scripted.every((m) => m.status === 'succeeded'), 'every migration succeeded');
    assert.ok(run.requests.length > 0 && run.requests.every((r) => r.status === 'ok'));
  });
}

test('the 3.2 samples reproduce the shape of the seed\'s Table 1', async () => {
  const average: Record<string, number> = {};
  for (const file of samplesIn('3.2')) {
    const run = await runSample(file);
    average[path.basename(file, '.txt')] = mean(run.migrations.filter((m) => m.kind === 'script').map((m) => m.duration_ms));
  }
  const shape = JSON.stringify(average);
  assert.ok(average['heavy-memory2']! > 1.2 * average['light-memory2']!, `memory2 heavy clearly slower than light: ${shape}`);
  assert.ok(Math.abs(average['heavy-memory']! / average['light-memory']! - 1) < 0.05, `memory heavy about equal to light: ${shape}`);
  assert.ok(average['light-memory2']! > average['light-cpu']! && average['heavy-memory2']! > average['heavy-cpu']!, `memory2 slower than cpu: ${shape}`);
  for (const [name, ms] of Object.entries(average)) assert.ok(ms > 7500 && ms < 22000, `${name} in the seed's 7.5-22 s range: ${ms}`);
});
