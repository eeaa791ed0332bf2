/**
 * The report never writes through a symbolic link planted where its directory or files go,
 * nor through one swapped in for its directory while it is being written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { buildReport } from '../../src/report/build-report.ts';
import { ReportDirectory } from '../../src/report/report-files.ts';
import { runCli, withTempDir } from '../support/cli.ts';
import { migration, request, writeRun } from './run-fixture.ts';

const VICTIM_TEXT = 'not the report\'s to overwrite\n';

/** A small run in `tmp/run`, and a file elsewhere that a planted link points at. */
function setUp(tmp: string): { run: string; report: string; victim: string } {
  const run = path.join(tmp, 'run');
  writeRun(run, {
    samples: [0, 10, 20].map((t) => ({ time_s: t, host: 'host1', counter: 'cpu.usagemhz', value: 100 + t, unit: 'MHz' })),
    migrations: [migration({})],
    requests: [request({})],
  });
  const victim = path.join(tmp, 'victim.txt');
  fs.writeFileSync(victim, VICTIM_TEXT);
  return { run, report: path.join(run, 'report'), victim };
}

function assertRefused(error: unknown, link: string): boolean {
  assert.ok(error instanceof InputError, String(error));
  assert.equal(error.toOneLine(), `refusing to write ${link}: it is a symbolic link, which the report never makes; remove it, or choose another directory with --out`);
  return true;
}

describe('a report into a run directory with planted links', () => {
  for (const name of ['report.html', 'migration-time.csv', 'migration-time.md', 'counter-cpu-usagemhz.svg', 'counter-cpu-usagemhz.png']) {
    it(`refuses a link at ${name} and leaves its target alone`, () =>
      withTempDir(async (tmp) => {
        const { run, report, victim } = setUp(tmp);
        fs.mkdirSync(report);
        const link = path.join(report, name);
        fs.symlinkSync(victim, link);
        await assert.rejects(buildReport([{ dir: run, label: undefined }], { outDir: report, host: undefined }), (error) => assertRefused(error, link));
        assert.equal(fs.readFileSync(victim, 'utf8'), VICTIM_TEXT);
        assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link is left for the user to look at');
      }));
  }

  it('refuses a dangling link, which would create its target', () =>
    withTempDir(async (tmp) => {
      const { run, report } = setUp(tmp);
      fs.mkdirSync(report);
      const target = path.join(tmp, 'created-elsewhere.html');
      fs.symlinkSync(target, path.join(report, 'report.html'));
      await assert.rejects(buildReport([{ dir: run, label: undefined }], { outDir: report, host: undefined }), InputError);
      assert.equal(fs.existsSync(target), false);
    }));

  it('refuses a report directory that is a link, writing nothing where it points', () =>
    withTempDir(async (tmp) => {
      const { run, report } = setUp(tmp);
      const elsewhere = path.join(tmp, 'elsewhere');
      fs.mkdirSync(elsewhere);
      fs.symlinkSync(elsewhere, report);
      await assert.rejects(buildReport([{ dir: run, label: undefined }], { outDir: report, host: undefined }), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.toOneLine(), /^refusing to write into .*\/run\/report: it is a symbolic link, which the report never makes; remove it/);
        return true;
      });
      assert.deepEqual(fs.readdirSync(elsewhere), []);
    }));

  it('replaces the files of an earlier report, and a hard link to another file without touching that file', () =>
    withTempDir(async (tmp) => {
      const { run, report, victim } = setUp(tmp);
      const page = await buildReport([{ dir: run, label: undefined }], { outDir: report, host: undefined });
      const first = fs.readFileSync(page, 'utf8');
      fs.rmSync(page);
      fs.linkSync(victim, page);
      await buildReport([{ dir: run, label: undefined }], { outDir: report, host: undefined });
      assert.equal(fs.readFileSync(page, 'utf8'), first);
      assert.equal(fs.readFileSync(victim, 'utf8'), VICTIM_TEXT);
    }));

  it('is bad input on the command line: one line, exit code 2, the target unchanged', () =>
    withTempDir(async (tmp) => {
      const { run, report, victim } = setUp(tmp);
      fs.mkdirSync(report);
      fs.symlinkSync(victim, path.join(report, 'report.html'));
      const result = await runCli(['report', run]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, `vm-monitoring: refusing to write ${path.join(report, 'report.html')}: it is a symbolic link, which the report never makes; remove it, or choose another directory with --out\n`);
      assert.equal(fs.readFileSync(victim, 'utf8'), VICTIM_TEXT);
    }));
});

describe('a report directory swapped for a link while the report is written', () => {
  it('keeps writing into the directory it opened, never where the link points', () =>
    withTempDir(async (tmp) => {
      const report = path.join(tmp, 'run', 'report');
      const victims = path.join(tmp, 'victims');
      fs.mkdirSync(victims);
      fs.writeFileSync(path.join(victims, 'report.html'), VICTIM_TEXT);
      const out = ReportDirectory.open(report);
      const moved = path.join(tmp, 'run', 'moved');
      try {
        out.writeFile('migration-time.csv', 'written before the swap\n');
        // What someone who can write the run directory does while the charts render.
        fs.renameSync(report, moved);
        fs.symlinkSync(victims, report);
        assert.equal(out.writeFile('report.html', 'the report\n'), path.join(report, 'report.html'));
        out.writeFile('counter-cpu-usagemhz.png', 'a chart\n');
      } finally {
        out.close();
      }
      assert.deepEqual(fs.readdirSync(victims), ['report.html']);
      assert.equal(fs.readFileSync(path.join(victims, 'report.html'), 'utf8'), VICTIM_TEXT);
      assert.deepEqual(fs.readdirSync(moved).sort(), ['counter-cpu-usagemhz.png', 'migration-time.csv', 'report.html']);
      assert.equal(fs.readFileSync(path.join(moved, 'report.html'), 'utf8'), 'the report\n');
    }));
});
