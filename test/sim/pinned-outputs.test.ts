/**
 * The sim's records, pinned: the seed's samples, the QEMU lab's twin and a placement policy's
 * run give the same CSV rows as when the digests below were taken. A change of the model that
 * moves them must say why, in the commit that updates a digest (the failure prints the new one).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadSimConfig } from '../../src/platforms/sim/config.ts';
import { ACTION_COLUMNS, DECISION_COLUMNS, MIGRATION_COLUMNS, REQUEST_COLUMNS, SAMPLE_COLUMNS } from '../../src/record/columns.ts';
import { formatCsvRecordLine } from '../../src/record/csv.ts';
import { runOnSim } from './run-on-sim.ts';

const PINNED: Record<string, Record<string, string>> = JSON.parse(readFileSync(new URL('./pinned-outputs.json', import.meta.url), 'utf8'));

/** Each run: its script and the config it runs with (the section's sim.yaml where it has one). */
const RUNS: { script: string; config?: string }[] = [
  ...['cpu', 'memory', 'memory2'].map((load) => ({ script: `samples/3.1/${load}.txt` })),
  ...['light', 'heavy'].flatMap((scenario) => ['cpu', 'memory', 'memory2'].map((load) => ({ script: `samples/3.2/${scenario}-${load}.txt` }))),
  ...['cpu', 'memory', 'memory2'].map((load) => ({ script: `samples/3.3/${load}.txt`, config: 'samples/3.3/sim.yaml' })),
  ...['cpu', 'memory', 'memory2'].map((load) => ({ script: `samples/qemu/3.3-${load}.txt`, config: 'samples/qemu/sim.yaml' })),
  { script: 'samples/drs/drs-dpm.txt' },
];

function digest(lines: Iterable<string>): string {
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  return hash.digest('hex').slice(0, 16);
}

for (const { script, config } of RUNS) {
  const name = path.relative('samples', script);
  test(`${name}${config ? ` with ${path.basename(config)}` : ''} gives the records pinned`, async () => {
    const run = await runOnSim(readFileSync(script, 'utf8'), config ? loadSimConfig(config) : {});
    const files = {
      migrations: run.migrations.map(({ details: _details, ...row }) => formatCsvRecordLine(row, MIGRATION_COLUMNS)),
      requests: run.requests.map((record) => formatCsvRecordLine(record, REQUEST_COLUMNS)),
      samples: run.samples.map((record) => formatCsvRecordLine(record, SAMPLE_COLUMNS)),
      actions: run.actions.map((record) => formatCsvRecordLine(record, ACTION_COLUMNS)),
      decisions: run.decisions.map((record) => formatCsvRecordLine(record, DECISION_COLUMNS)),
    };
    const digests = Object.fromEntries(Object.entries(files).map(([file, lines]) => [file, digest(lines)]));
    assert.deepEqual(digests, PINNED[name], `${name}: the records changed; if the model was meant to change them, pin ${JSON.stringify(digests)}`);
  });
}
