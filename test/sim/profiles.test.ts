import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, runCli, withTempDir, writeScript } from '../support/cli.ts';

test('a run on the fitted qemu-lab profile says so in run.json, with the fitted values', () =>
  withTempDir(async (dir) => {
    const fitted = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'src/platforms/sim/qemu-lab-profile.json'), 'utf8'));
    const script = writeScript(dir, 'one.txt', ['h1:vm1 h2:', '0 migrate vm1 h2', '10 end']);
    const config = writeScript(dir, 'sim.yaml', ['profile: qemu-lab']);
    const out = path.join(dir, 'run');
    const result = await runCli(['run', script, '--config', config, '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    const platform = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).platform;
    assert.equal(platform.profile, 'qemu-lab');
    assert.match(platform.profile_source, /^fitted by vm-monitoring calibrate against the qemu lab on .* \(src\/platforms\/sim\/qemu-lab-profile\.json\)$/);
    for (const [name, value] of Object.entries(fitted.migration)) assert.deepEqual(platform.migration[name], value, name);
    assert.equal(platform.migration.maxBandwidthMBps, 128, 'the rest from the qemu profile it is based on');
  }));
