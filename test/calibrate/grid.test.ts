import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { casesOf, loadGrid } from '../../src/calibrate/grid.ts';
import { InputError } from '../../src/errors.ts';
import { REPO_ROOT, withTempDir } from '../support/cli.ts';

test('the sample grid has every combination once, half of each value in each half', () => {
  const grid = loadGrid(path.join(REPO_ROOT, 'samples/calibrate/grid.yaml'));
  const cases = casesOf(grid);
  assert.equal(cases.length, grid.ramMB.length * grid.workloads.length * grid.bandwidthMbps.length * grid.downtimeLimitMs.length);
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'ids are unique');
  assert.equal(cases.filter((c) => c.training).length, cases.length / 2);
  const halvesOf = (key: (c: (typeof cases)[number]) => unknown): void => {
    for (const value of new Set(cases.map(key))) {
      const withValue = cases.filter((c) => key(c) === value);
      assert.ok(withValue.some((c) => c.training) && withValue.some((c) => !c.training), `${String(value)} is in both halves`);
    }
  };
  halvesOf((c) => c.ramMB);
  halvesOf((c) => JSON.stringify(c.workload));
  halvesOf((c) => c.bandwidthMbps);
  halvesOf((c) => c.downtimeLimitMs);
  assert.deepEqual(cases.find((c) => c.id === 'ram512-dirty64x20-bw300-dl30')?.workload, { kind: 'dirty', bufferMB: 64, rateMBps: 20 });
  assert.deepEqual(cases.find((c) => c.id === 'ram256-memory128-bw100-dl300')?.workload, { kind: 'memory', bufferMB: 128, sleepMs: 120_000 });
});

const BASE = ['ramMB: [256]', 'workloads: [idle]', 'bandwidthMbps: [100]', 'downtimeLimitMs: [300]'];

function gridOf(lines: string[]): Promise<ReturnType<typeof casesOf>> {
  return withTempDir(async (dir) => {
    const file = path.join(dir, 'grid.yaml');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    return casesOf(loadGrid(file));
  });
}

test('the lab\'s guests have 8 KiB more than whole MiB unless the grid asks for whole MiB, which its ids say', async () => {
  const [padded] = await gridOf(BASE);
  assert.equal(padded?.ramKiB, 256 * 1024 + 8);
  assert.equal(padded?.id, 'ram256-idle-bw100-dl300');
  const [whole] = await gridOf([...BASE, 'wholeMiBRam: true']);
  assert.equal(whole?.ramKiB, 256 * 1024);
  assert.equal(whole?.id, 'ram256mib-idle-bw100-dl300');
});

test('a grid is split like a checkerboard, or wholly fitted on, or wholly held out', async () => {
  const lines = ['ramMB: [256, 512]', 'workloads: [idle, { rewrite: 30 }]', 'bandwidthMbps: [100, 1000]', 'downtimeLimitMs: [300]'];
  assert.equal((await gridOf(lines)).filter((c) => c.training).length, 4);
  assert.ok((await gridOf([...lines, 'split: fit'])).every((c) => c.training));
  const heldOut = await gridOf([...lines, 'split: held-out']);
  assert.ok(heldOut.every((c) => !c.training));
  assert.deepEqual(heldOut.find((c) => c.id === 'ram512-rewrite64x30-bw1000-dl300')?.workload, { kind: 'rewrite', bufferMB: 64, rateMBps: 30 });
});

test('a grid takes the sweep workload: a filled buffer rewritten in page order', async () => {
  const [sweep] = await gridOf(['ramMB: [256]', 'workloads: [{ sweep: 40, bufferMB: 96 }]', 'bandwidthMbps: [1000]', 'downtimeLimitMs: [300]']);
  assert.equal(sweep?.id, 'ram256-sweep96x40-bw1000-dl300');
  assert.deepEqual(sweep?.workload, { kind: 'sweep', bufferMB: 96, rateMBps: 40 });
});

async function gridError(lines: string[]): Promise<string> {
  return withTempDir(async (dir) => {
    const file = path.join(dir, 'grid.yaml');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    try {
      loadGrid(file);
    } catch (error) {
      assert.ok(error instanceof InputError, `an InputError, not ${String(error)}`);
      return error.toOneLine().replace(`${file}:`, 'grid.yaml:');
    }
    assert.fail('the grid was accepted');
  });
}

test('a bad grid gets one line naming the file, line and column', async () => {
  assert.equal(await gridError([...BASE, 'ramMb: [512]']), "grid.yaml:5:1: unknown key 'ramMb'");
  assert.equal(await gridError(BASE.slice(1)), "grid.yaml:1:1: missing key 'ramMB'");
  assert.match(await gridError(['ramMB: [256]', 'workloads:', '  - idle', '  - memory: 0', 'bandwidthMbps: [100]', 'downtimeLimitMs: [300]']), /^grid\.yaml:4:13: workloads\[1\]\.memory: Too small/);
  assert.equal(
    await gridError(['ramMB: [256]', 'workloads:', '  - busy', 'bandwidthMbps: [100]', 'downtimeLimitMs: [300]']),
    'grid.yaml:3:5: workloads[0]: expected idle, { memory: MB }, { dirty: MB/s }, { rewrite: MB/s } or { sweep: MB/s }',
  );
  assert.equal(
    await gridError(['ramMB: [256]', 'workloads:', '  - dirty: 5', '    bufer: 3', 'bandwidthMbps: [100]', 'downtimeLimitMs: [300]']),
    "grid.yaml:4:5: unknown key 'bufer' in workloads[0]",
  );
  assert.equal(
    await gridError(['ramMB: [256, 512]', 'workloads:', '  - memory: 300', 'bandwidthMbps: [100]', 'downtimeLimitMs: [300]']),
    'grid.yaml:3:5: workloads[0]: a 300 MB buffer does not fit in a 256 MB guest',
  );
  assert.match(await gridError([...BASE.slice(0, 2), 'bandwidthMbps: []', BASE[3]!]), /^grid\.yaml:3:16: bandwidthMbps: Too small/);
  assert.match(await gridError([...BASE, 'warmupSeconds: soon']), /^grid\.yaml:5:16: warmupSeconds: expected a number, got "soon"$/);
});
