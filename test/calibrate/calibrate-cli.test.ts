import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ParameterValues } from '../../src/calibrate/fit.ts';
import { casesOf, loadGrid, settingsOf } from '../../src/calibrate/grid.ts';
import { ResultsFile } from '../../src/calibrate/results-file.ts';
import { simCaseRunner, simLabModelOf } from '../../src/platforms/sim/calibration-runner.ts';
import { assertBadInput, parseCsv, readCsvFile, runCli, withTempDir, writeScript } from '../support/cli.ts';

const GRID = [
  'ramMB: [256, 512]',
  'workloads: [idle, { memory: 64 }, { dirty: 4 }, { dirty: 100 }]',
  'bandwidthMbps: [100, 1000]',
  'downtimeLimitMs: [30, 300]',
  'convergenceTimeoutSeconds: 20',
];
const TRUTH: ParameterValues = { setupSeconds: 0.3, switchoverSeconds: 0.015, stopAndCopyMBps: 400, guestOsMB: 25 };

/** A measured.csv as a lab whose behaviour is the sim's with TRUTH would give. */
async function writeSyntheticMeasurements(gridFile: string, file: string): Promise<number> {
  const grid = loadGrid(gridFile);
  const runner = simCaseRunner(simLabModelOf(TRUTH), settingsOf(grid));
  const results = new ResultsFile(file);
  const cases = casesOf(grid);
  for (const migrationCase of cases) results.append(await runner.run(migrationCase, new AbortController().signal));
  results.close();
  return cases.length;
}

describe('calibrate --measured', () => {
  it('fits the sim to the measurements, reports both halves and writes the fitted profile', () =>
    withTempDir(async (dir) => {
      const grid = writeScript(dir, 'grid.yaml', GRID);
      const measured = path.join(dir, 'measured.csv');
      const count = await writeSyntheticMeasurements(grid, measured);
      const out = path.join(dir, 'out');
      const result = await runCli(['calibrate', '--grid', grid, '--measured', measured, '--out', out, '--searches', '3', '--population', '30', '--generations', '20'], {
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 0, result.stderr);

      const [header, ...rows] = parseCsv(result.stdout);
      assert.equal(header?.[0], 'case');
      assert.equal(rows.length, count, 'one stdout row per case');
      assert.match(result.stderr, /^calibrate: held-out half: 16 cases, median \|error\| total time \d+\.\d %.*targets met$/m);

      const profile = JSON.parse(fs.readFileSync(path.join(out, 'fitted-profile.json'), 'utf8'));
      // Recovering each parameter is test/calibrate/fit.test.ts's; here the profile must hold them all, as the sim reads them.
      assert.deepEqual(Object.keys(profile.migration).sort(), [
        'bootTlbEntries', 'costSpread', 'firstCopySecondsPerPage', 'linkEfficiency', 'maxStreamMBps', 'setupSeconds', 'stopAndCopyMBps', 'switchoverSeconds', 'switchoverStallSeconds', 'syncScanSecondsPerPage', 'syncSecondsPerPage', 'syncSecondsPerPagePerDirtyMBps',
        'targetStartSeconds', 'tlbEntrySyncSeconds', 'wordSyncSecondsPerPage', 'zeroPageBytes', 'zeroPageSeconds',
      ]);
      assert.ok(Math.abs(profile.vms.guestOsMB - TRUTH.guestOsMB!) / TRUTH.guestOsMB! < 0.1, JSON.stringify(profile.vms));
      assert.equal(profile.calibration.held_out.convergenceMismatches, 0);

      assert.deepEqual(fs.readFileSync(path.join(out, 'measured.csv'), 'utf8'), fs.readFileSync(measured, 'utf8'));
      const predicted = readCsvFile(path.join(out, 'predicted.csv'));
      assert.equal(predicted.rows.length, count);
      for (const file of ['report.html', 'calibration-cases.md', 'calibration-errors.csv', 'calibration-parameters.md', 'calibration-total-time.svg', 'calibration-bytes.png', 'calibration-downtime.svg']) {
        assert.ok(fs.statSync(path.join(out, file)).size > 0, file);
      }
      const errors = readCsvFile(path.join(out, 'calibration-errors.csv'));
      assert.deepEqual(errors.rows.map((row) => row.half), ['fit', 'held out']);
    }));

  it('fits on one grid and holds out another wholly, each grid with its own measured.csv', () =>
    withTempDir(async (dir) => {
      const fitGrid = writeScript(dir, 'fit.yaml', ['ramMB: [256]', 'workloads: [idle, { dirty: 4 }]', 'bandwidthMbps: [1000]', 'downtimeLimitMs: [300]', 'split: fit']);
      const heldOutGrid = writeScript(dir, 'held-out.yaml', ['ramMB: [256]', 'wholeMiBRam: true', 'workloads: [{ rewrite: 20 }]', 'bandwidthMbps: [300, 1000]', 'downtimeLimitMs: [300]', 'split: held-out']);
      const fitMeasured = path.join(dir, 'fit.csv');
      const heldOutMeasured = path.join(dir, 'held-out.csv');
      await writeSyntheticMeasurements(fitGrid, fitMeasured);
      await writeSyntheticMeasurements(heldOutGrid, heldOutMeasured);
      const kept = JSON.stringify({ id: 'ram256-idle-bw1000-dl300', qemu: null });
      writeScript(dir, 'measured-details.jsonl', [kept, JSON.stringify({ id: 'a-case-of-no-grid', qemu: null })]);
      const out = path.join(dir, 'out');
      const result = await runCli(
        ['calibrate', '--grid', fitGrid, '--measured', fitMeasured, '--grid', heldOutGrid, '--measured', heldOutMeasured, '--out', out, '--searches', '1', '--population', '8', '--generations', '2'],
        { timeoutMs: 120_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /^calibrate: fit half: 2 cases,/m);
      assert.match(result.stderr, /^calibrate: held-out half: 2 cases,/m);
      const ids = parseCsv(result.stdout).slice(1).map((row) => row[0]);
      assert.deepEqual(ids, ['ram256-idle-bw1000-dl300', 'ram256-dirty64x4-bw1000-dl300', 'ram256mib-rewrite64x20-bw300-dl300', 'ram256mib-rewrite64x20-bw1000-dl300']);
      assert.equal(fs.readFileSync(path.join(out, 'measured-details.jsonl'), 'utf8'), `${kept}\n`, 'QEMU\'s account of the grids\' cases kept, once');
      const about = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
      assert.match(about, /all fitted on/);
      assert.match(about, /all held out/);
    }));

  it('predicts another harness\'s file (--held-out) with the fitted profile and that harness\'s own idle guest, reported apart', () =>
    withTempDir(async (dir) => {
      const fitGrid = writeScript(dir, 'fit.yaml', ['ramMB: [256]', 'workloads: [idle, { dirty: 4 }]', 'bandwidthMbps: [1000]', 'downtimeLimitMs: [300]', 'split: fit']);
      const fitMeasured = path.join(dir, 'fit.csv');
      await writeSyntheticMeasurements(fitGrid, fitMeasured);
      // The other harness's guest holds 10 MB + 3 % of its RAM non-zero, the lab's 25 MB + 1.7 %.
      const otherGuest = { ...simLabModelOf(TRUTH), guestNonZeroPerRamMB: 0.03, vms: { ...simLabModelOf(TRUTH).vms, guestOsMB: 10 } };
      const settings = { warmupSeconds: 3, convergenceTimeoutSeconds: 60 };
      const harnessCases = [
        { row: 'h-idle-256,256,200,300,60,3,idle,,', migrationCase: { id: 'h-idle-256', ramMB: 256, workload: { kind: 'idle' as const }, bandwidthMbps: 200, downtimeLimitMs: 300, training: false } },
        { row: 'h-idle-512,512,1000,30,60,3,idle,,', migrationCase: { id: 'h-idle-512', ramMB: 512, workload: { kind: 'idle' as const }, bandwidthMbps: 1000, downtimeLimitMs: 30, training: false } },
        { row: 'h-sweep,512,1000,300,60,3,sweep,96,40', migrationCase: { id: 'h-sweep', ramMB: 512, workload: { kind: 'sweep' as const, bufferMB: 96, rateMBps: 40 }, bandwidthMbps: 1000, downtimeLimitMs: 300, training: false } },
      ];
      const rows: string[] = [];
      for (const { row, migrationCase } of harnessCases) {
        const r = await simCaseRunner(otherGuest, settings).run(migrationCase, new AbortController().signal);
        rows.push(`${row},${r.converged ? 'yes' : 'no'},${r.total_ms},${r.downtime_ms ?? ''},${r.bytes},${r.passes}`);
      }
      const harness = writeScript(dir, 'harness.csv', ['id,ram_mb,max_bandwidth_mbit_s,downtime_limit_ms,timeout_s,warmup_s,workload,buffer_mb,dirty_mb_s,converged,total_ms,downtime_ms,bytes,passes', ...rows]);
      const out = path.join(dir, 'out');
      const result = await runCli(['calibrate', '--grid', fitGrid, '--measured', fitMeasured, '--held-out', harness, '--out', out, '--searches', '1', '--population', '8', '--generations', '2'], {
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /^calibrate: .*harness\.csv: idle guest non-zero memory 10\.\d MB \+ (2\.9[5-9]|3\.0[0-5]) % of RAM/m);
      const line = result.stderr.split('\n').find((l) => l.startsWith('calibrate: held out, another harness, '));
      assert.match(line ?? '', /harness\.csv: 3 cases, median \|error\| total time \d/);
      const ids = parseCsv(result.stdout).slice(1).map((row) => row[0]);
      assert.deepEqual(ids, ['ram256-idle-bw1000-dl300', 'ram256-dirty64x4-bw1000-dl300', 'h-idle-256', 'h-idle-512', 'h-sweep']);
      const page = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
      assert.match(page, /another harness/);
      assert.match(page, /in page order/);
      assert.match(page, /Targets on cases a fit never saw: total time under 7 %, bytes under 5 %, downtime within 5 ms/);

      const clash = writeScript(dir, 'clash.csv', ['id,ram_mb,max_bandwidth_mbit_s,downtime_limit_ms,timeout_s,warmup_s,workload,buffer_mb,dirty_mb_s,converged,total_ms,downtime_ms,bytes,passes', `ram256-idle-bw1000-dl300${rows[0]!.slice('h-idle-256'.length)}`]);
      const clashed = await runCli(['calibrate', '--grid', fitGrid, '--measured', fitMeasured, '--held-out', clash]);
      assert.match(assertBadInput(clashed, clash), /case ram256-idle-bw1000-dl300 is also a case of a grid/);
      const misplaced = await runCli(['calibrate', '--grid', fitGrid, '--measured', fitMeasured, '--fit-guest']);
      assert.match(assertBadInput(misplaced, '--fit-guest without --check'), /^vm-monitoring: --fit-guest goes with --check/);
    }));

  it('pairs each --measured with its --grid, and each case id is one case', () =>
    withTempDir(async (dir) => {
      const grid = writeScript(dir, 'grid.yaml', GRID);
      const measured = path.join(dir, 'measured.csv');
      await writeSyntheticMeasurements(grid, measured);
      const unpaired = await runCli(['calibrate', '--grid', grid, '--grid', grid, '--measured', measured]);
      assert.equal(assertBadInput(unpaired, 'two grids, one file'), 'vm-monitoring: 2 --grid for 1 --measured: give each measured.csv the grid it was measured from, in the same order');
      const twice = await runCli(['calibrate', '--grid', grid, '--measured', measured, '--grid', grid, '--measured', measured]);
      assert.equal(assertBadInput(twice, 'a grid twice'), `vm-monitoring: ${grid}: case ram256-idle-bw100-dl30 is also a case of ${grid}: the grids must differ`);
      const heldOut = writeScript(dir, 'held-out.yaml', [...GRID, 'split: held-out']);
      const nothingToFit = await runCli(['calibrate', '--grid', heldOut, '--measured', measured, '--out', path.join(dir, 'none')]);
      assert.equal(assertBadInput(nothingToFit, 'no fit case'), 'vm-monitoring: no case of the grids is to be fitted on (each says split: held-out): give a grid to fit on as well');
      assert.equal(fs.existsSync(path.join(dir, 'none')), false, 'nothing written');
    }));

  it('refuses measurements that lack a case of the grid, naming the file and the case', () =>
    withTempDir(async (dir) => {
      const grid = writeScript(dir, 'grid.yaml', GRID);
      const measured = path.join(dir, 'measured.csv');
      await writeSyntheticMeasurements(grid, measured);
      const lines = fs.readFileSync(measured, 'utf8').trimEnd().split('\n');
      fs.writeFileSync(measured, `${lines.slice(0, -1).join('\n')}\n`);
      const result = await runCli(['calibrate', '--grid', grid, '--measured', measured, '--out', path.join(dir, 'out')]);
      assert.equal(assertBadInput(result, 'a missing case'), `vm-monitoring: ${measured}: no result for the grid's case ram512-dirty64x100-bw1000-dl300`);
      assert.equal(fs.existsSync(path.join(dir, 'out')), false, 'nothing written');
    }));

  it('points at the cell of a measurement that is not a number', () =>
    withTempDir(async (dir) => {
      const grid = writeScript(dir, 'grid.yaml', GRID);
      const measured = writeScript(dir, 'measured.csv', [
        'id,converged,total_ms,downtime_ms,setup_ms,bytes,passes,reason',
        'ram256-idle-bw100-dl30,yes,fast,12,3,1000,3,',
      ]);
      const result = await runCli(['calibrate', '--grid', grid, '--measured', measured]);
      assert.equal(assertBadInput(result, 'a bad cell'), `vm-monitoring: ${measured}:2:28: total_ms: expected a number, got 'fast'`);
    }));

  it('points at the line and column of a bad grid', () =>
    withTempDir(async (dir) => {
      const grid = writeScript(dir, 'grid.yaml', [...GRID, 'warmupSeconds: -1']);
      const result = await runCli(['calibrate', '--grid', grid]);
      assert.match(assertBadInput(result, 'a bad grid'), new RegExp(`^vm-monitoring: ${grid}:6:16: warmupSeconds: `));
    }));
});
