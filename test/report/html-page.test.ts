import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { COUNTERS } from '../../src/monitor/counters.ts';
import type { SampleRecord } from '../../src/record/records.ts';
import { buildReport } from '../../src/report/build-report.ts';
import { renderReportHtml, type Figure, type ReportPage } from '../../src/report/html-page.ts';
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

/**
 * The page loads nothing: no scripts, style sheets, images, frames or imports; every URL is an
 * anchor in the page, or an <a> link to a file next to it (no scheme, no `//`, no absolute path);
 * `url()` only into the page. Returns the file names linked to.
 */
function assertSelfContained(html: string): string[] {
  for (const element of ['script', 'link', 'img', 'image', 'iframe', 'frame', 'object', 'embed', 'base', 'audio', 'video', 'source', 'feimage']) {
    assert.doesNotMatch(html, new RegExp(`<${element}[\\s>/]`, 'i'), `no <${element}> element`);
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

/** Each table has its caption after it, each figure its SVG inline and its caption in a <figcaption>. */
function assertCaptions(html: string, tables: readonly Table[], figures: readonly Figure[]): void {
  for (const table of tables) {
    const body = section(html, table.id);
    const tableEnd = body.indexOf('</table>');
    assert.ok(tableEnd >= 0, `section ${table.id} holds a <table>`);
    const caption = escapeForTest(table.caption);
    assert.ok(body.indexOf(caption) > tableEnd, `section ${table.id} has its caption after the table`);
  }
  for (const figure of figures) {
    const body = section(html, figure.id);
    assert.ok(body.includes(withoutProlog(figure.svg)), `section ${figure.id} holds its SVG inline`);
    const figcaption = /<figcaption>([\s\S]*?)<\/figcaption>/.exec(body);
    assert.ok(figcaption, `section ${figure.id} has a <figcaption>`);
    assert.ok(figcaption[1]?.includes(escapeForTest(figure.caption)), `the figcaption of ${figure.id} holds its caption`);
  }
}

/** Escaping as the page must do it, written here independently of the code under test. */
function escapeForTest(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function withoutProlog(svg: string): string {
  return svg.replace(/^<\?xml[^>]*\?>\s*/, '');
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
  return { title: `Report: ${NASTY}`, runs, tables: [migrationTime], figures, madeBy: { version: '9.8.7', command: `vm-monitoring report ${NASTY}` } };
}

describe('the self-containment check of these tests', () => {
  const ok = '<p><a href="#x">x</a> <a href="x.svg">x</a></p><svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(#g)"/></svg>';
  const bad = [
    '<img src="x.png">',
    '<script>fetch("x")</script>',
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

  it('references no external resource: no script, style sheet, image or URL outside the page and its files', () => {
    const files = assertSelfContained(html);
    assert.deepEqual(files.sort(), [
      'counter-cpu-usagemhz.png',
      'counter-cpu-usagemhz.svg',
      'migration-time.csv',
      'migration-time.md',
      'timeline-light.png',
      'timeline-light.svg',
    ]);
  });

  it('draws every chart as inline SVG, without the XML prolog', () => {
    assert.equal(countOf(html, '<svg'), page.figures.length);
    assert.doesNotMatch(html, /<\?xml/);
    for (const figure of page.figures) assert.ok(html.includes(withoutProlog(figure.svg)), `${figure.id} inline`);
  });

  it('escapes <, & and > in labels, titles, headers and captions', () => {
    assert.ok(!html.includes(NASTY), 'the raw label does not appear');
    assert.ok(!html.includes('<b>bold</b>'), 'the caption markup is not passed through');
    assert.ok(!html.includes('<label>'), 'the column header is escaped');
    assert.ok(!html.includes('esx<1>'), 'the figure title is escaped');
    assert.ok(countOf(html, NASTY_ESCAPED) >= 4, 'the label appears escaped in the runs table, Table 1 and the figure title');
    assert.match(html, /<title>Report: &lt;b&gt;&amp;(&quot;|")x(&quot;|")<\/title>/);
    assert.ok(html.includes('run &lt;label&gt;'));
    assert.ok(html.includes('Migration time &lt;Table 1&gt;'));
    assert.ok(html.includes('Sampled &lt;every&gt; 20 s &amp; averaged.'));
  });

  it('ends with a footer naming the version and the command that made it, escaped', () => {
    assert.match(html, /<footer>Made by vm-monitoring 9\.8\.7: <code>vm-monitoring report &lt;b&gt;&amp;(&quot;|")x(&quot;|")<\/code><\/footer>\n<\/body>/);
  });

  it('gives each table and figure its caption', () => {
    assertCaptions(html, [page.runs, ...page.tables], page.figures);
  });

  it('formats table cells as the Markdown does and links every table and figure from the navigation', () => {
    const table = section(html, 'migration-time');
    assert.match(table, /<td[^>]*>1,300<\/td><td[^>]*>\+30 %<\/td>/);
    const nav = /<nav>([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '';
    for (const id of ['migration-time', 'counter-cpu-usagemhz', 'timeline-light']) assert.ok(nav.includes(`href="#${id}"`), `nav links #${id}`);
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
  it('is self-contained, escapes the labels, inlines every chart and links only files it wrote', () =>
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
      assert.equal(countOf(html, '<svg'), svgFiles.length, 'every chart inline, nothing else');
      for (const name of svgFiles) {
        const inline = withoutProlog(fs.readFileSync(path.join(outDir, name), 'utf8'));
        assert.ok(html.includes(inline), `${name} is inline in the page`);
        const id = name.replace(/\.svg$/, '');
        const figcaption = /<figcaption>([\s\S]*?)<\/figcaption>/.exec(section(html, id))?.[1] ?? '';
        assert.ok(figcaption.replace(/<a [^>]*>[^<]*<\/a>/g, '').trim().length > 40, `${id} has a caption saying how it was computed`);
      }
      for (const id of ['runs', 'migration-time', 'server-performance']) {
        const body = section(html, id);
        assert.ok(body.indexOf('<p class="caption">') > body.indexOf('</table>'), `table ${id} has its caption`);
      }

      assert.ok(!html.includes(NASTY), 'the raw label does not appear anywhere in the page, SVGs included');
      assert.ok(section(html, 'migration-time').includes(`heavy ${NASTY_ESCAPED}`), 'Table 1 shows the escaped label');
      assert.ok(section(html, 'runs').includes('scripts/small.txt'), "the runs table shows run.json's parameters");
      assert.match(section(html, 'runs'), />sim</);
    }));
});
