/**
 * `vm-monitoring calibrate` on real VMs, through the CLI: a two-case grid measured on a lab
 * the command brings up and takes down, then fitted and reported. The fit's quality is not
 * judged here (two cases); test/calibrate covers the fit, the runner's test the measuring.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { parseCsv, readCsvFile, runCli, withTempDir, writeScript } from '../support/cli.ts';
import { assertNothingLeft } from './support/lab-leftovers.ts';
import { labSkipReason } from './support/lab-requirements.ts';

const { describe, it } = needing(labSkipReason());

describe('calibrate on the qemu lab', () => {
  it('measures the grid on a lab of its own, fits, reports, and leaves nothing behind', { timeout: 600_000 }, () =>
    withTempDir(async (dir) => {
      const grid = writeScript(dir, 'grid.yaml', [
        'ramMB: [256]',
        'workloads: [idle]',
        'bandwidthMbps: [1000]',
        'downtimeLimitMs: [30, 300]',
        'warmupSeconds: 1',
        'convergenceTimeoutSeconds: 30',
      ]);
      const out = path.join(dir, 'out');
      const result = await runCli(['calibrate', '--grid', grid, '--out', out, '--searches', '1', '--population', '10', '--generations', '3'], { timeoutMs: 540_000 });
      assert.equal(result.code, 0, result.stderr);

      const labDir = /bringing up a lab in (\S+):/.exec(result.stderr)?.[1];
      assert.ok(labDir, `the lab's directory is in the log: ${result.stderr}`);
      assertNothingLeft(labDir, []);

      const measured = readCsvFile(path.join(out, 'measured.csv'));
      assert.deepEqual(measured.rows.map((row) => row.id), ['ram256-idle-bw1000-dl30', 'ram256-idle-bw1000-dl300']);
      for (const row of measured.rows) {
        assert.equal(row.converged, 'yes', row.reason);
        assert.ok(Number(row.bytes) > 0 && Number(row.bytes) < 256 * 2 ** 20, `${row.bytes} bytes`);
        assert.ok(Number(row.passes) >= 2, `${row.passes} passes`);
      }
      const details = fs.readFileSync(path.join(out, 'measured-details.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(details.map((line) => line.id), measured.rows.map((row) => row.id));
      for (const line of details) {
        assert.equal(line.qemu.status, 'completed');
        assert.ok(line.qemu.progress.length >= 2, 'progress per pass');
      }

      const [header, ...rows] = parseCsv(result.stdout);
      assert.equal(header?.[0], 'case');
      assert.equal(rows.length, 2);
      assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'lab.json'), 'utf8')).accelerator, 'tcg');
      const profile = JSON.parse(fs.readFileSync(path.join(out, 'fitted-profile.json'), 'utf8'));
      assert.equal(profile.calibration.measured_on[0].accelerator, 'tcg', 'one lab per grid');
      assert.equal(profile.calibration.measured_on.length, 1);
      assert.equal(profile.based_on, 'qemu');
      assert.ok(fs.statSync(path.join(out, 'report.html')).size > 0);
    }));
});
