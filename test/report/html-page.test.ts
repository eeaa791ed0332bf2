import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { COUNTERS } from '../../src/monitor/counters.ts';
import type { SampleRecord } from '../../src/record/records.ts';
import { buildReport } from '../../src/report/build-report.ts';
import type { Figure } from '../../src/report/figure.ts';
import { renderReportHtml, type ReportPage } from '../../src/report/html-page.ts';
import type { PageData } from '../../src/report/page/page-data.ts';
import type { Table } from '../../src/report/table.ts';
import { withTempDir } from '../support/cli.ts';
import { migration, request, writeRun } from './run-fixture.ts';

const NASTY = '<b>&"x"';
const NASTY_ESCAPED = '&lt;b&gt;&amp;';

/** Attributes through which a page can make the browser fetch or navigate somewhere. */
const URL_ATTRIBUTES = ['href', 'xlink:href', 'src', 'srcset', 'poster', 'action', 'formaction', 'data', 'background', 'cite', 'manifest'];

interface PageLink {
  element: string;
  attribute: string;
  value: string;
}

/** Every URL-valued attribute of every start tag, with the tag's name. */
function urlAttributes(html: string): PageLink[] {
  const links: PageLink[] = [];
  for (const tag of html.matchAll(/<([a-z][\w:-]*)(\s[^>]*)?>/gi)) {
    for (const attribute of (tag[2] ?? '').matchAll(/([\w:-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
      const name = (attribute[1] as string).toLowerCase();
      if (URL_ATTRIBUTES.includes(name)) {
        links.push({ element: (tag[1] as string).toLowerCase(), attribute: name, value: attribute[3] ?? attribute[4] ?? attribute[5] ?? '' });
      }
    }
  }
  return links;
}

/** What an inline script could reach the network with. */
const NETWORK_CALLS = /\b(fetch|XMLHttpRequest|WebSocket|EventSource|sendBeacon|importScripts)\b|\bimport\s*\(/;

/**
 * The page loads nothing: no style sheets, images, frames or imports, scripts only inline (no
 * `src`) and none calling the network; every URL is an anchor in the page, or an <a> link to a
 * file next to it (no scheme, no `//`, no absolute path); `url()` only into the page. Returns
 * the file names linked to. (The browser tests watch a real Chromium load it.)
 */
function assertSelfContained(html: string): string[] {
  for (const element of ['link', 'img', 'image', 'iframe', 'frame', 'object', 'embed', 'base', 'audio', 'video', 'source', 'feimage']) {
    assert.doesNotMatch(html, new RegExp(`<${element}[\\s>/]`, 'i'), `no <${element}> element`);
  }
  for (const script of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi)) {
    assert.doesNotMatch(script[1] ?? '', /\ssrc\s*=/i, 'no script loaded from a file');
    if (/type="application\/json"/.test(script[1] ?? '')) continue; // data, never run
    assert.doesNotMatch(script[2] ?? '', NETWORK_CALLS, 'no script calls the network');
  }
  assert.doesNotMatch(html, /@import/i, 'no @import');
  assert.doesNotMatch(html, /http-equiv/i, 'no <meta http-equiv> (refresh, CSP, ...)');
  for (const match of html.matchAll(/url\(\s*(['"]?)([^)]*)\)/gi)) {
    assert.ok(match[2]?.startsWith('#'), `url(...) points into the page: ${match[0]}`);
  }
  const files: string[] = [];
  for (const { element, attribute, value } of urlAttributes(html)) {
    const where = `<${element} ${attribute}="${value}">`;
    assert.doesNotMatch(value, /^\s*(https?:|\/\/)/i, `no http(s) or protocol-relative URL: ${where}`);
    assert.doesNotMatch(value, /^\s*[a-z][a-z0-9+.-]*:/i, `no URL scheme (data:, javascript:, file:, ...): ${where}`);
    assert.doesNotMatch(value, /^\s*\//, `no absolute path: ${where}`);
    if (value.startsWith('#')) continue;
    assert.ok(element === 'a' && attribute === 'href', `only <a href> names a file, nothing loads one: ${where}`);
    assert.doesNotMatch(value, /[/\\]/, `a linked file sits next to the page: ${where}`);
    files.push(value);
  }
  return files;
}

/** The `<section>` of the page whose id is `id`. */
function section(html: string, id: string): string {
  const match = new RegExp(`<section[^>]*\\sid="${id}"[^>]*>([\\s\\S]*?)</section>`).exec(html);
  assert.ok(match, `a section with id ${id}`);
  return match[1] as string;
}

/** Each table has its caption after it; each figure's files are listed with its title and caption. */
function assertCaptions(html: string, tables: readonly Table[], figures: readonly Figure[]): void {
  for (const table of tables) {
    const body = section(html, table.id);
    const tableEnd = body.indexOf('</table>');
    assert.ok(tableEnd >= 0, `section ${table.id} holds a <table>`);
    const caption = escapeForTest(table.caption);
    assert.ok(body.indexOf(caption) > tableEnd, `section ${table.id} has its caption after the table`);
  }
  const files = section(html, 'figure-files');
  for (const figure of figures) {
    const item = [...files.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((match) => match[1] as string).find((text) => text.includes(`href="${figure.id}.svg"`));
    assert.ok(item, `the figure files list ${figure.id}`);
    assert.ok(item.includes(`href="${figure.id}.png"`), `${figure.id}'s PNG is linked`);
    assert.ok(item.includes(escapeForTest(figure.title)) && item.includes(escapeForTest(figure.caption)), `${figure.id} is listed with its title and caption`);
  }
}

/** The page's data island, parsed. */
function dataIsland(html: string): unknown {
  const match = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(match, 'the page holds its data island');
  return JSON.parse(match[1] as string);
}

/** Escaping as the page must do it, written here independently of the code under test. */
function escapeForTest(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function countOf(text: string, part: string): number {
  return text.split(part).length - 1;
}

function svg(title: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="4" y="20">${escapeForTest(title)}</text></svg>`
  );
}

function handMadePage(): ReportPage {
  const runs: Table = {
    id: 'runs',
    title: 'Runs',
    caption: 'The runs & their parameters.',
    columns: [
      { header: 'run', kind: 'text' },
      { header: 'seed', kind: 'number' },
    ],
    rows: [[NASTY, 1]],
  };
  const migrationTime: Table = {
    id: 'migration-time',
    title: 'Migration time <Table 1>',
    caption: 'Durations of migrations with <b>bold</b> claims & more.',
    columns: [
      { header: 'run <label>', kind: 'text' },
      { header: 'average [ms]', kind: 'milliseconds' },
      { header: 'change', kind: 'percent-change' },
    ],
    rows: [
      [`light ${NASTY}`, 1000, null],
      [`heavy ${NASTY}`, 1300, 30],
    ],
  };
  const figures: Figure[] = [
    { id: 'counter-cpu-usagemhz', title: 'cpu.usagemhz on esx<1>', caption: 'Sampled <every> 20 s & averaged.', svg: svg('cpu <1>') },
    { id: 'timeline-light', title: `Migrations of ${NASTY}`, caption: 'Bars & marks.', svg: svg('timeline') },
  ];
  const percentiles: Table = { id: 'percentiles', title: 'Distributions', caption: 'Percentiles & more.', columns: [{ header: 'run', kind: 'text' }], rows: [[NASTY]] };
  const data: PageData = { host: 'esx<1>', runs: [] };
  return { title: `Report: ${NASTY}`, runs, tables: [migrationTime], percentiles, figures, inlineFigures: [], data, madeBy: { version: '9.8.7', command: `vm-monitoring report ${NASTY}` } };
}

describe('the self-containment check of these tests', () => {
  const ok = '<p><a href="#x">x</a> <a href="x.svg">x</a></p><svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(#g)"/></svg>';
  const bad = [
    '<img src="x.png">',
    '<script>fetch("x")</script>',
    '<script src="x.js"></script>',
    '<script>new WebSocket("ws://x")</script>',
    '<link rel="stylesheet" href="style.css">',
    '<style>@import "x.css";</style>',
    '<style>body { background: url(https://example.org/x.png) }</style>',
    '<a href="https://example.org/">x</a>',
    '<a href="//example.org/x">x</a>',
    "<a href='http://example.org/'>x</a>",
    '<a href="/etc/passwd">x</a>',
    '<a href="../x.svg">x</a>',
    '<svg><image href="chart.png"/></svg>',
    '<svg><use xlink:href="sprites.svg#a"/></svg>',
    '<meta http-equiv="refresh" content="0; url=x">',
  ];

  it('accepts anchors, links to files next to the page, namespaces and url(#id)', () => {
    assert.deepEqual(assertSelfContained(ok), ['x.svg']);
  });
  for (const snippet of bad) {
    it(`rejects ${snippet}`, () => assert.throws(() => assertSelfContained(ok + snippet), assert.AssertionError));
  }
});

describe('the report page (renderReportHtml)', () => {
  const page = handMadePage();
  const html = renderReportHtml(page);

  it('references no external resource: scripts only inline, no style sheet, image or URL outside the page and its files', () => {
    const files = assertSelfContained(html);
    assert.deepEqual(files.sort(), [
      'counter-cpu-usagemhz.png',
      'counter-cpu-usagemhz.svg',
      'migration-time.csv',
      'migration-time.md',
      'percentiles.csv',
      'percentiles.md',
      'timeline-light.png',
      'timeline-light.svg',
    ]);
  });

  it('carries its data as a JSON island the inlined uPlot draws, a "<" in it escaped', () => {
    assert.deepEqual(dataIsland(html), page.data);
    assert.ok(!/<script type="application\/json" id="report-data">[^<]*esx<1>/.test(html), 'no raw "<" inside the island');
    assert.match(html, /var uPlot=function/);
    assert.equal(countOf(html, '<svg'), 0, 'the SVG charts are files, not inline');
  });

  it('escapes <, & and > in labels, titles, headers and captions', () => {
    assert.ok(!html.includes(NASTY), 'the raw label does not appear');
    assert.ok(!html.includes('<b>bold</b>'), 'the caption markup is not passed through');
    assert.ok(!html.includes('<label>'), 'the column header is escaped');
    assert.ok(!html.includes('esx<1>'), 'the figure title is escaped');
    assert.ok(countOf(html, NASTY_ESCAPED) >= 4, 'the label appears escaped in the runs table, Table 1, the percentiles and the figure title');
    assert.match(html, /<title>Report: &lt;b&gt;&amp;(&quot;|")x(&quot;|")<\/title>/);
    assert.ok(html.includes('run &lt;label&gt;'));
    assert.ok(html.includes('Migration time &lt;Table 1&gt;'));
    assert.ok(html.includes('Sampled &lt;every&gt; 20 s &amp; averaged.'));
  });

  it('has a footer naming the version and the command that made it, escaped, before its scripts', () => {
    assert.match(html, /<footer>Made by vm-monitoring 9\.8\.7: <code>vm-monitoring report &lt;b&gt;&amp;(&quot;|")x(&quot;|")<\/code><\/footer>\n<script/);
  });

  it('gives each table and figure its caption', () => {
    assertCaptions(html, [page.runs, ...page.tables], page.figures);
  });

  it('formats table cells as the Markdown does and links every table and figure from the navigation', () => {
    const table = section(html, 'migration-time');
    assert.match(table, /<td[^>]*>1,300<\/td><td[^>]*>\+30 %<\/td>/);
    const nav = /<nav>([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '';
    for (const id of ['migration-time', 'over-time', 'migrations-section', 'distributions']) assert.ok(nav.includes(`href="#${id}"`), `nav links #${id}`);
  });
});

/** A small run: two hosts sampled every 10 s, two migrations of vm1 to host2, requests on vm1 and vm2. */
function writeSmallRun(dir: string, scale: number): void {
  const samples: SampleRecord[] = [];
  for (let t = 0; t <= 100; t += 10) {
    for (const host of ['host1', 'host2']) {
      const charted = [COUNTERS.cpuUsage, COUNTERS.memConsumed, COUNTERS.memActive, COUNTERS.memShared, COUNTERS.memSwapUsed, COUNTERS.netUsage];
      for (const [i, counter] of charted.entries()) {
        samples.push({ time_s: t, host, counter: counter.name, value: scale * (1000 * (i + 1) + t), unit: counter.unit });
      }
      samples.push({ time_s: t, host, counter: COUNTERS.vmCount.name, value: host === 'host2' && t >= 30 ? 2 : 1, unit: 'number' });
    }
  }
  writeRun(dir, {
    info: { tool: 'vm-monitoring', script: { path: 'scripts/small.txt' }, platform: { name: 'sim', profile: 'vsphere-4.1' }, seed: 3, interval_s: 10 },
    samples,
    migrations: [
      migration({ vm: 'vm1', source: 'host1', target: 'host2', started_s: 20, ended_s: 20 + 10 * scale, downtime_ms: 250, bytes: 1e8, passes: 2 }),
      migration({ vm: 'vm1', source: 'host2', target: 'host1', started_s: 60, ended_s: 60 + 12 * scale, downtime_ms: 300, bytes: 1.2e8, passes: 3 }),
    ],
    requests: Array.from({ length: 40 }, (_, i) =>
      request({ client_id: `cpu-${i % 2}`, server: i % 2 ? 'vm1' : 'vm2', sent_s: i * 2.5, received_s: i * 2.5 + 2, latency_ms: 2000 * scale }),
    ),
  });
}

describe('the page of a real report (buildReport on small runs)', () => {
  it('is self-contained, escapes the labels, has every chart and links only files it wrote', () =>
    withTempDir(async (tmp) => {
      const light = path.join(tmp, 'light');
      const heavy = path.join(tmp, 'heavy');
      writeSmallRun(light, 1);
      writeSmallRun(heavy, 1.5);
      const outDir = path.join(tmp, 'out');
      const page = await buildReport(
        [
          { dir: light, label: `light ${NASTY}` },
          { dir: heavy, label: `heavy ${NASTY}` },
        ],
        { outDir, host: undefined },
      );
      assert.equal(page, path.join(outDir, 'report.html'));
      const html = fs.readFileSync(page, 'utf8');

      const linked = assertSelfContained(html);
      const written = fs.readdirSync(outDir).filter((name) => name !== 'report.html');
      assert.deepEqual([...new Set(linked)].sort(), written.sort(), 'the page links every file written next to it, and only those');

      const svgFiles = written.filter((name) => name.endsWith('.svg'));
      // Six counters, and a timeline and a latency chart per run.
      assert.equal(svgFiles.length, 6 + 2 * 2, svgFiles.join(', '));
      const files = section(html, 'figure-files');
      for (const name of svgFiles) {
        const item = [...files.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((match) => match[1] as string).find((text) => text.includes(`href="${name}"`)) ?? '';
        assert.ok(item.replace(/<a [^>]*>[^<]*<\/a>/g, '').trim().length > 40, `${name} is listed with a caption saying how it was computed`);
      }
      // The interactive charts: per run its latency and six counters, and the runs side by side.
      const data = dataIsland(html) as PageData;
      assert.deepEqual(data.runs.map((run) => run.migrations.length), [2, 2]);
      for (const run of data.runs) {
        assert.ok(html.includes(`data-chart="latency-${run.id}"`), `${run.id} has its latency chart`);
        assert.equal(run.counters.filter((series) => series.t.length === 11).length, 6, `${run.id} has its six counters sampled 11 times`);
      }
      assert.equal(countOf(html, 'data-chart="multiple-'), 6 * 2, 'each counter as a small chart per run');
      assert.equal(countOf(html, '<tr data-migration='), 4, 'a row per migration in the migrations table');
      for (const id of ['runs', 'migration-time', 'server-performance', 'distributions']) {
        const body = section(html, id);
        assert.ok(body.lastIndexOf('<p class="caption">') > body.indexOf('</table>'), `table ${id} has its caption`);
      }

      assert.ok(!html.includes(NASTY), 'the raw label does not appear anywhere in the page, SVGs included');
      assert.ok(section(html, 'migration-time').includes(`heavy ${NASTY_ESCAPED}`), 'Table 1 shows the escaped label');
      assert.ok(section(html, 'runs').includes('scripts/small.txt'), "the runs table shows run.json's parameters");
      assert.match(section(html, 'runs'), />sim</);
    }));
});
