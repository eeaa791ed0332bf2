import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertBadInput, readCsvFile, REPO_ROOT, runCli, withTempDir, type CliResult } from '../support/cli.ts';
import { request, writeRun } from './run-fixture.ts';
import { PNG_SIGNATURE } from './svg-helpers.ts';

const LIGHT_SCRIPT = 'samples/3.2/light-cpu.txt';
const HEAVY_SCRIPT = 'samples/3.2/heavy-cpu.txt';
const COUNTER_FIGURES = ['cpu-usagemhz', 'mem-consumed', 'mem-active', 'mem-shared', 'mem-swapused', 'net-usage'];
const COUNTER_TITLES = ['cpu.usagemhz', 'mem.consumed', 'mem.active', 'mem.shared', 'mem.swapused', 'net.usage'];
const TABLE_FILES = ['migration-time.md', 'migration-time.csv', 'server-performance.md', 'server-performance.csv', 'percentiles.md', 'percentiles.csv'];
const CHANGE_COLUMNS = ['min change', 'max change', 'average change', 'std. dev. change'];

/** Every file a report on runs with these (slugged) labels must hold. */
function expectedFiles(labels: string[]): string[] {
  const figures = [
    ...COUNTER_FIGURES.map((name) => `counter-${name}`),
    ...labels.flatMap((label) => [`timeline-${label}`, `latency-${label}`]),
  ];
  return ['report.html', ...TABLE_FILES, ...figures.flatMap((figure) => [`${figure}.svg`, `${figure}.png`])].sort();
}

function assertReportFiles(outDir: string, labels: string[]): void {
  assert.deepEqual(fs.readdirSync(outDir).sort(), expectedFiles(labels));
  for (const name of fs.readdirSync(outDir)) {
    const file = path.join(outDir, name);
    if (name.endsWith('.png')) {
      const png = fs.readFileSync(file);
      assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, `${name} starts with the PNG signature`);
      assert.ok(png.length > 2000, `${name} holds a picture (${png.length} bytes)`);
    }
    if (name.endsWith('.svg')) {
      const svg = fs.readFileSync(file, 'utf8');
      assert.match(svg, /^(<\?xml[^>]*\?>\s*)?<svg[\s>]/, `${name} is an SVG document`);
      assert.match(svg, /<\/svg>\s*$/, `${name} is complete`);
    }
  }
}

/** The report succeeded: exit 0, nothing on stdout, stderr ends naming the page. */
function assertReported(result: CliResult, page: string): void {
  const detail = `stderr: ${result.stderr}`;
  assert.equal(result.code, 0, detail);
  assert.equal(result.stdout, '', detail);
  assert.doesNotMatch(result.stderr, /^\s+at /m, detail);
  assert.ok(result.stderr.trimEnd().split('\n').at(-1)?.endsWith(page), `the last stderr line names ${page}: ${detail}`);
  assert.ok(fs.existsSync(page), page);
}

/** A Markdown table of the report as rows of cells keyed by header. */
function readMarkdownTable(file: string): Record<string, string>[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('|'));
  const cells = (line: string): string[] => line.slice(2, -2).split(' | ').map((cell) => cell.trim());
  const [header, rule, ...rows] = lines;
  assert.ok(header !== undefined && rule !== undefined, `${file} has a table`);
  assert.match(rule, /^\| -{3}/, `${file}: the second line is the alignment rule`);
  const names = cells(header);
  return rows.map((row) => {
    const values = cells(row);
    assert.equal(values.length, names.length, `${file}: ${row}`);
    return Object.fromEntries(names.map((name, i) => [name, values[i] as string]));
  });
}

/** The text of every <text> element of an SVG. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1] as string);
}

/** The host that received most script migrations over these runs; ties to the first in name order. */
function hostReceivingMost(runDirs: string[]): string {
  const received = new Map<string, number>();
  for (const dir of runDirs) {
    for (const row of readCsvFile(path.join(dir, 'migrations.csv')).rows) {
      if (row.kind === 'script') received.set(row.target as string, (received.get(row.target as string) ?? 0) + 1);
    }
  }
  const ranked = [...received].sort(([a, m], [b, n]) => n - m || a.localeCompare(b));
  assert.ok(ranked.length > 0, 'the runs have script migrations');
  return ranked[0]![0];
}

function migrateLines(script: string): number {
  return fs.readFileSync(script, 'utf8').split('\n').filter((line) => /^\S+\s+migrate\s/.test(line)).length;
}

describe('vm-monitoring report', { concurrency: 2 }, () => {
  let tmp = '';
  let light = '';
  let heavy = '';
  let out = '';
  let report: CliResult;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-report-cli-'));
    light = path.join(tmp, 'light');
    heavy = path.join(tmp, 'heavy');
    const runs = await Promise.all([
      runCli(['run', LIGHT_SCRIPT, '--out', light]),
      runCli(['run', HEAVY_SCRIPT, '--out', heavy]),
    ]);
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    out = path.join(tmp, 'out');
    report = await runCli(['report', light, heavy, '--out', out]);
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('report LIGHT HEAVY --out OUT: exit 0, names OUT/report.html, writes the page, both tables and every chart as SVG and PNG', () => {
    assertReported(report, path.join(out, 'report.html'));
    assertReportFiles(out, ['light-cpu', 'heavy-cpu']);
  });

  it('says at the foot of the page which version and which command made it', () => {
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    const version = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const footer = /<footer>(.*)<\/footer>/.exec(html)?.[1] ?? '';
    assert.equal(footer, `Made by vm-monitoring ${version}: <code>vm-monitoring report ${light} ${heavy} --out ${out}</code>`);
  });

  it('Table 1 has a row per run, labelled by script; the heavy row carries percentage changes against the light one', () => {
    const md = readMarkdownTable(path.join(out, 'migration-time.md'));
    assert.deepEqual(md.map((row) => row.run), ['light-cpu', 'heavy-cpu']);
    const [lightRow, heavyRow] = md as [Record<string, string>, Record<string, string>];
    assert.equal(lightRow.migrations, String(migrateLines(LIGHT_SCRIPT)));
    assert.equal(heavyRow.migrations, String(migrateLines(HEAVY_SCRIPT)));
    for (const column of CHANGE_COLUMNS) {
      assert.equal(lightRow[column], '', `the light row has no ${column}`);
      assert.match(heavyRow[column] ?? '', /^(\+|-)?\d[\d,]* %$/, `the heavy row's ${column}`);
    }

    // The change is heavy against light, as the CSV's unformatted averages say.
    const csv = readCsvFile(path.join(out, 'migration-time.csv'));
    assert.deepEqual(csv.rows.map((row) => row.run), ['light-cpu', 'heavy-cpu']);
    const [lightCsv, heavyCsv] = csv.rows as [Record<string, string>, Record<string, string>];
    const change = (100 * (Number(heavyCsv['average [ms]']) - Number(lightCsv['average [ms]']))) / Number(lightCsv['average [ms]']);
    assert.ok(Math.abs(Number(heavyCsv['average change']) - change) < 0.01, `average change ${heavyCsv['average change']} vs ${change}`);
    assert.equal(lightCsv['average change'], '');
    const shown = Math.round(change);
    assert.equal(heavyRow['average change'], `${shown > 0 ? '+' : ''}${shown} %`);
  });

  it("Table 2 has a 'migration' and a 'normal' row per run", () => {
    for (const table of [readMarkdownTable(path.join(out, 'server-performance.md')), readCsvFile(path.join(out, 'server-performance.csv')).rows]) {
      assert.deepEqual(
        table.map((row) => [row.run, row.phase]),
        [
          ['light-cpu', 'migration'],
          ['light-cpu', 'normal'],
          ['heavy-cpu', 'migration'],
          ['heavy-cpu', 'normal'],
        ],
      );
    }
  });

  it('charts the host receiving most migrations by default: one chart per counter, one line per run, axis titles', () => {
    const host = hostReceivingMost([light, heavy]);
    for (const [i, name] of COUNTER_FIGURES.entries()) {
      const texts = svgTexts(fs.readFileSync(path.join(out, `counter-${name}.svg`), 'utf8'));
      assert.ok(texts.includes(`${COUNTER_TITLES[i]} on ${host}`), `counter-${name}.svg is titled for ${host}: ${texts.slice(0, 5).join(' / ')}`);
      assert.ok(texts.includes('time [s]'), `counter-${name}.svg has the time axis title`);
      for (const label of ['light-cpu', 'heavy-cpu']) assert.ok(texts.includes(label), `counter-${name}.svg has ${label} in its legend`);
    }
  });

  it('writes a page that fetches nothing: scripts inline, every chart file linked', () => {
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.doesNotMatch(html, /<(link|img|iframe|object|embed)[\s>]/i);
    assert.doesNotMatch(html, /<script[^>]*\ssrc\s*=/i);
    assert.doesNotMatch(html, /\s(src|href)\s*=\s*["']?\s*(https?:|\/\/)/i);
    for (const svg of fs.readdirSync(out).filter((name) => name.endsWith('.svg'))) assert.ok(html.includes(`href="${svg}"`), `the page links ${svg}`);
  });

  it('--label light=DIR1 --label heavy=DIR2 names the runs so in tables, legends and file names', async () => {
    const labelled = path.join(tmp, 'out-labelled');
    const result = await runCli(['report', '--label', `light=${light}`, '--label', `heavy=${heavy}`, '--out', labelled]);
    assertReported(result, path.join(labelled, 'report.html'));
    assertReportFiles(labelled, ['light', 'heavy']);
    const md = readMarkdownTable(path.join(labelled, 'migration-time.md'));
    assert.deepEqual(md.map((row) => row.run), ['light', 'heavy']);
    for (const column of CHANGE_COLUMNS) assert.match(md[1]?.[column] ?? '', / %$/, `the heavy row's ${column}`);
    assert.deepEqual([...new Set(readMarkdownTable(path.join(labelled, 'server-performance.md')).map((row) => row.run))], ['light', 'heavy']);
    const texts = svgTexts(fs.readFileSync(path.join(labelled, 'counter-cpu-usagemhz.svg'), 'utf8'));
    assert.ok(texts.includes('light') && texts.includes('heavy'), texts.join(' / '));
  });

  it('--label on a listed run renames it rather than adding it twice', async () => {
    const labelled = path.join(tmp, 'out-relabelled');
    const result = await runCli(['report', light, heavy, '--label', `heavy=${heavy}`, '--out', labelled]);
    assertReported(result, path.join(labelled, 'report.html'));
    assert.deepEqual(readMarkdownTable(path.join(labelled, 'migration-time.md')).map((row) => row.run), ['light-cpu', 'heavy']);
  });

  it('two runs whose labels differ only in punctuation keep separate chart files and page sections', async () => {
    const labelled = path.join(tmp, 'out-similar');
    const result = await runCli(['report', '--label', `x y=${light}`, '--label', `x-y=${heavy}`, '--out', labelled]);
    assert.equal(result.code, 0, result.stderr);
    const timelines = fs.readdirSync(labelled).filter((name) => /^timeline-.*\.svg$/.test(name));
    assert.equal(timelines.length, 2, `one timeline per run, none overwritten: ${timelines.join(', ')}`);
    const html = fs.readFileSync(path.join(labelled, 'report.html'), 'utf8');
    const ids = [...html.matchAll(/\sid="([^"]*)"/g)].map((match) => match[1]);
    assert.equal(new Set(ids).size, ids.length, `section ids are unique: ${ids.join(', ')}`);
  });

  it('labels made unique by numbering never collide with a label given as such', async () => {
    const third = path.join(tmp, 'light-copy');
    fs.cpSync(light, third, { recursive: true, filter: (source) => source !== path.join(light, 'report') });
    const labelled = path.join(tmp, 'out-numbered');
    const result = await runCli(['report', '--label', `a=${light}`, '--label', `a (2)=${heavy}`, '--label', `a=${third}`, '--out', labelled]);
    assert.equal(result.code, 0, result.stderr);
    const names = readMarkdownTable(path.join(labelled, 'migration-time.md')).map((row) => row.run);
    assert.equal(names.length, 3, names.join(', '));
    assert.equal(new Set(names).size, 3, `three distinct run names in Table 1: ${names.join(', ')}`);
    const timelines = fs.readdirSync(labelled).filter((name) => /^timeline-.*\.svg$/.test(name));
    assert.equal(timelines.length, 3, `one timeline per run: ${timelines.join(', ')}`);
  });

  it('one run without --out writes RUN_DIR/report', async () => {
    const result = await runCli(['report', light]);
    assertReported(result, path.join(light, 'report', 'report.html'));
    assertReportFiles(path.join(light, 'report'), ['light-cpu']);
    assert.deepEqual(readMarkdownTable(path.join(light, 'report', 'migration-time.md')).map((row) => row.run), ['light-cpu']);
  });

  it('--host esx3 charts esx3', async () => {
    const esx3 = path.join(tmp, 'out-esx3');
    const result = await runCli(['report', light, heavy, '--host', 'esx3', '--out', esx3]);
    assertReported(result, path.join(esx3, 'report.html'));
    for (const [i, name] of COUNTER_FIGURES.entries()) {
      const texts = svgTexts(fs.readFileSync(path.join(esx3, `counter-${name}.svg`), 'utf8'));
      assert.ok(texts.includes(`${COUNTER_TITLES[i]} on esx3`), `counter-${name}.svg: ${texts.slice(0, 5).join(' / ')}`);
    }
    // esx3 is not the default here, so the charts differ from the default report's.
    assert.notEqual(hostReceivingMost([light, heavy]), 'esx3');
    assert.notEqual(
      fs.readFileSync(path.join(esx3, 'counter-cpu-usagemhz.svg'), 'utf8'),
      fs.readFileSync(path.join(out, 'counter-cpu-usagemhz.svg'), 'utf8'),
    );
  });

  it('--host nope: exit 2, one line naming the host, nothing written', async () => {
    const nope = path.join(tmp, 'out-nope');
    const line = assertBadInput(await runCli(['report', light, '--host', 'nope', '--out', nope]), '--host nope');
    assert.match(line, /nope/);
    assert.ok(!fs.existsSync(nope), 'no report directory');
  });

  it('run ... --report writes RUN_DIR/report/report.html at the end of the run', () =>
    withTempDir(async (dir) => {
      const runDir = path.join(dir, 'run');
      const result = await runCli(['run', LIGHT_SCRIPT, '--out', runDir, '--report']);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /^\s+at /m);
      const page = path.join(runDir, 'report', 'report.html');
      assert.ok(result.stderr.trimEnd().endsWith(page), `stderr ends naming ${page}: ${result.stderr}`);
      assertReportFiles(path.join(runDir, 'report'), ['light-cpu']);
    }));
});

describe('vm-monitoring report: bad input', { concurrency: 2 }, () => {
  let tmp = '';
  let run = '';

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-report-bad-'));
    run = path.join(tmp, 'run');
    const result = await runCli(['run', LIGHT_SCRIPT, '--out', run]);
    assert.equal(result.code, 0, result.stderr);
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A copy of the good run, named `name`, with `change` applied. */
  function brokenRun(name: string, change: (dir: string) => void): string {
    const dir = path.join(tmp, name);
    fs.cpSync(run, dir, { recursive: true });
    change(dir);
    return dir;
  }

  function editFile(file: string, edit: (lines: string[]) => void): void {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    edit(lines);
    fs.writeFileSync(file, lines.join('\n'));
  }

  async function reportOn(dir: string, context: string): Promise<string> {
    const outDir = path.join(tmp, `out-${path.basename(dir)}`);
    const line = assertBadInput(await runCli(['report', dir, '--out', outDir]), context);
    assert.ok(!fs.existsSync(outDir), `${context}: no report directory is left behind`);
    return line;
  }

  it('a missing run directory', async () => {
    const missing = path.join(tmp, 'no-such-run');
    const line = await reportOn(missing, 'missing run directory');
    assert.ok(line.includes(missing), line);
  });

  it('a file where a run directory should be', async () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x\n');
    const line = await reportOn(file, 'a file as run directory');
    assert.ok(line.includes(file), line);
  });

  it('requests.csv without its latency_ms column: names the file and its header line', async () => {
    const dir = brokenRun('missing-column', (d) =>
      editFile(path.join(d, 'requests.csv'), (lines) => {
        lines[0] = (lines[0] as string).replace(',latency_ms', '');
      }),
    );
    const line = await reportOn(dir, 'missing column');
    assert.ok(line.includes(`${path.join(dir, 'requests.csv')}:1`), line);
    assert.match(line, /latency_ms/);
  });

  it('a broken row in requests.csv (a cell short): names the file and the line', async () => {
    const dir = brokenRun('broken-row', (d) =>
      editFile(path.join(d, 'requests.csv'), (lines) => {
        lines[4] = (lines[4] as string).replace(/,[^,]*$/, '');
      }),
    );
    const line = await reportOn(dir, 'broken row');
    assert.ok(line.includes(`${path.join(dir, 'requests.csv')}:5:`), line);
  });

  it('a broken row (a cell too many) deep in a requests.csv of several MiB: the line counts across read chunks', () =>
    withTempDir(async (dir) => {
      const runDir = path.join(dir, 'big');
      writeRun(runDir, {
        requests: Array.from({ length: 60_000 }, (_, i) =>
          request({ client_id: `cpu-${i % 50}`, sent_s: i, received_s: i + 0.5, latency_ms: 500.123, processing_ms: 499.5, server: `vm${i % 7}` }),
        ),
      });
      const file = path.join(runDir, 'requests.csv');
      editFile(file, (lines) => {
        lines[50_000] += ',extra';
      });
      assert.ok(fs.statSync(file).size > 2 * 1024 * 1024, 'bigger than two read chunks');
      const line = assertBadInput(await runCli(['report', runDir, '--out', path.join(dir, 'out')]), 'broken row deep in the file');
      assert.ok(line.includes(`${file}:50001:`), line);
    }));

  it('a bad number in migrations.csv: names the file, line and column', async () => {
    const dir = brokenRun('bad-number', (d) =>
      editFile(path.join(d, 'migrations.csv'), (lines) => {
        const cells = (lines[2] as string).split(',');
        cells[6] = 'soon';
        lines[2] = cells.join(',');
      }),
    );
    const line = await reportOn(dir, 'bad number');
    assert.ok(line.includes(`${path.join(dir, 'migrations.csv')}:3:`), line);
    assert.match(line, /soon/);
  });

  it('run.json that is not JSON: names run.json', async () => {
    const dir = brokenRun('not-json', (d) => fs.writeFileSync(path.join(d, 'run.json'), 'not json\n'));
    const line = await reportOn(dir, 'run.json not JSON');
    assert.ok(line.includes(path.join(dir, 'run.json')), line);
  });

  it('run.json cut off inside a string: names run.json and the line', async () => {
    const dir = brokenRun('cut-json', (d) =>
      fs.writeFileSync(path.join(d, 'run.json'), '{\n  "tool": "vm-monitoring",\n  "script": { "path": "samples/3.2/lig'),
    );
    const line = await reportOn(dir, 'run.json cut off');
    assert.ok(line.includes(`${path.join(dir, 'run.json')}:3:`), line);
  });

  it('a run.json that is JSON but not an object', async () => {
    const dir = brokenRun('json-array', (d) => fs.writeFileSync(path.join(d, 'run.json'), '[1, 2]\n'));
    const line = await reportOn(dir, 'run.json an array');
    assert.ok(line.includes(path.join(dir, 'run.json')), line);
  });

  it('a run directory without requests.csv', async () => {
    const dir = brokenRun('no-requests', (d) => fs.rmSync(path.join(d, 'requests.csv')));
    const line = await reportOn(dir, 'no requests.csv');
    assert.ok(line.includes(path.join(dir, 'requests.csv')), line);
  });

  it('an empty run (every CSV file its header alone): names the run directory', () =>
    withTempDir(async (dir) => {
      const empty = path.join(dir, 'empty');
      writeRun(empty, {});
      const line = assertBadInput(await runCli(['report', empty, '--out', path.join(dir, 'out')]), 'empty run');
      assert.ok(line.includes(empty), line);
      assert.match(line, /empty/);
      assert.ok(!fs.existsSync(path.join(dir, 'out')));
    }));

  it('one bad run among good ones still fails as a whole, naming the bad one', async () => {
    const missing = path.join(tmp, 'missing-among-good');
    const outDir = path.join(tmp, 'out-among-good');
    const line = assertBadInput(await runCli(['report', run, missing, '--out', outDir]), 'one bad among good');
    assert.ok(line.includes(missing), line);
    assert.ok(!fs.existsSync(outDir));
  });

  it('--out naming an existing file: exit 2, one line naming it, as `run --out FILE` does', async () => {
    const file = path.join(tmp, 'out-is-a-file');
    fs.writeFileSync(file, 'keep me\n');
    const line = assertBadInput(await runCli(['report', run, '--out', file]), '--out FILE');
    assert.ok(line.includes(file), line);
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep me\n');
  });

  it('no run directories at all', async () => {
    const line = assertBadInput(await runCli(['report']), 'no run dirs');
    assert.match(line, /run/);
  });

  it('--label without NAME=RUN_DIR', async () => {
    const line = assertBadInput(await runCli(['report', run, '--label', 'heavy', '--out', path.join(tmp, 'out-label')]), 'bad --label');
    assert.match(line, /--label/);
  });
});
