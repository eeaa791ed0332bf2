import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LineChartSpec, Series, TimelineSpec } from '../../src/report/chart-model.ts';
import { downsampleToColumns, type Point } from '../../src/report/charts/downsample.ts';
import { renderLineChart } from '../../src/report/charts/line-chart.ts';
import { formatNumber, tickFormatter } from '../../src/report/charts/number-format.ts';
import { svgToPng } from '../../src/report/charts/png.ts';
import { TIMELINE_COLOURS } from '../../src/report/charts/palette.ts';
import { renderTimeline } from '../../src/report/charts/timeline-chart.ts';
import { pngSize, svgSize, texts } from './svg-helpers.ts';


function ramp(name: string, length = 50, slope = 1): Series {
  return { name, points: Array.from({ length }, (_, x) => [x, x * slope] as Point) };
}

function lineSpec(overrides: Partial<LineChartSpec> = {}): LineChartSpec {
  return {
    title: 'mem.consumed on esx6',
    xLabel: 'time (s)',
    yLabel: 'mem.consumed (KB)',
    series: [ramp('light'), ramp('heavy', 50, 2)],
    ...overrides,
  };
}

function timelineSpec(rows: TimelineSpec['rows']): TimelineSpec {
  return { title: 'Migrations', xLabel: 'time (s)', rows, barLegend: 'migration', markLegend: 'downtime' };
}

function elements(svg: string, pattern: RegExp): string[] {
  return svg.match(new RegExp(pattern.source, 'g')) ?? [];
}

function seriesPath(svg: string, name: string): Point[] {
  const match = new RegExp(`<path data-series="${name}"[^>]* d="([^"]*)"`).exec(svg);
  assert.ok(match, `a path for series ${name}`);
  const points = (match[1] ?? '').matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g);
  return [...points].map((point) => [Number(point[1]), Number(point[2])]);
}

function attribute(element: string, name: string): number {
  const match = new RegExp(` ${name}="(-?[\\d.]+)"`).exec(element);
  assert.ok(match, `${element} has ${name}`);
  return Number(match[1]);
}

function leftAxisTicks(svg: string): { y: number; label: string }[] {
  const axis = /<g class="y-axis-left"[^]*?<\/g>/.exec(svg)?.[0] ?? '';
  return [...axis.matchAll(/<line [^>]*y1="([\d.]+)"[^>]*\/><text [^>]*>([^<]*)<\/text>/g)].map((match) => ({
    y: Number(match[1]),
    label: match[2] ?? '',
  }));
}

describe('renderLineChart', () => {
  it('renders to a PNG exactly as large as the SVG says, legend included', () => {
    const svg = renderLineChart(lineSpec({ secondary: { label: 'VMs on host', series: [ramp('VMs', 5)] } }));
    const size = svgSize(svg);
    assert.equal(size.width, 900);
    assert.ok(size.height > 420, 'the legend adds to the default height');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" [^>]*viewBox="0 0 900 \d+"/);
    assert.match(svg, /<rect x="0" y="0" width="900" height="\d+" fill="#ffffff"\/>/);
    assert.deepEqual(pngSize(svgToPng(svg)), size);
  });

  it('takes another size', () => {
    const svg = renderLineChart(lineSpec(), { width: 600, height: 300 });
    assert.equal(svgSize(svg).width, 600);
    assert.deepEqual(pngSize(svgToPng(svg)), svgSize(svg));
  });

  it('draws one path per series and names the title, the axes and the series in text', () => {
    const svg = renderLineChart(lineSpec());
    assert.equal(seriesPath(svg, 'light').length, 50);
    assert.ok(seriesPath(svg, 'heavy').length > 0);
    const labels = texts(svg);
    for (const expected of ['mem.consumed on esx6', 'time (s)', 'mem.consumed (KB)', 'light', 'heavy']) {
      assert.ok(labels.includes(expected), `text "${expected}" in ${labels.join(' | ')}`);
    }
    assert.notEqual(
      /data-series="light"[^>]* stroke="([^"]+)"/.exec(svg)?.[1],
      /data-series="heavy"[^>]* stroke="([^"]+)"/.exec(svg)?.[1],
      'series have distinct colours',
    );
  });

  it('escapes markup in the title, labels and series names', () => {
    const svg = renderLineChart(
      lineSpec({
        title: 'a <b> & c',
        yLabel: '"quoted" & <y>',
        series: [ramp('x<y>&z')],
        shaded: { label: '<m>', intervals: [{ start: 1, end: 2 }] },
      }),
    );
    assert.ok(!svg.includes('<b>') && !svg.includes('x<y>') && !svg.includes('<m>') && !svg.includes(' & '));
    assert.ok(svg.includes('data-series="x&lt;y&gt;&amp;z"'));
    assert.ok(texts(svg).includes('a &lt;b&gt; &amp; c'));
    assert.ok(texts(svg).includes('&quot;quoted&quot; &amp; &lt;y&gt;'));
    assert.ok(pngSize(svgToPng(svg)).width > 0, 'still renders');
  });

  it('draws secondary series as dashed steps against a right axis, labelled only when given', () => {
    const vms: Series = { name: 'VMs', points: [[0, 0], [10, 1], [20, 3], [40, 2]] };
    const withSecondary = renderLineChart(lineSpec({ secondary: { label: 'VMs on host', series: [vms] } }));
    assert.ok(texts(withSecondary).includes('VMs on host'));
    assert.match(withSecondary, /<path data-series="VMs" data-axis="right" d="M[^"]*H[^"]*V[^"]*"[^>]* stroke-dasharray/);
    const rightTicks = texts(/<g class="y-axis-right"[^]*?<\/g>/.exec(withSecondary)?.[0] ?? '').slice(0, -1);
    assert.deepEqual(rightTicks, ['0', '1', '2', '3'], 'counts get integer ticks');

    const without = renderLineChart(lineSpec());
    assert.ok(!texts(without).includes('VMs on host'));
    assert.ok(!without.includes('y-axis-right'));
  });

  it('shades each interval behind the lines, with a legend entry', () => {
    const intervals = [{ start: 5, end: 10 }, { start: 20, end: 20.01 }, { start: 30, end: 45 }];
    const svg = renderLineChart(lineSpec({ shaded: { label: 'migration', intervals } }));
    const shaded = elements(svg, /<rect class="shaded"[^>]*>/);
    assert.equal(shaded.length, 3);
    assert.ok(svg.indexOf('class="shaded"') < svg.indexOf('data-series='), 'drawn before the lines');
    assert.ok(attribute(shaded[1]!, 'width') >= 3, 'a very short interval is still visible');
    assert.ok(texts(svg).includes('migration'));
  });

  it('downsamples a large series per pixel column, keeping its spike', () => {
    const points = Array.from({ length: 200_000 }, (_, x) => [x, x === 123_457 ? 1e6 : 0] as Point);
    const svg = renderLineChart(lineSpec({ series: [{ name: 'spiky', points }] }));
    const drawn = seriesPath(svg, 'spiky');
    assert.ok(drawn.length <= 4 * 900, `${drawn.length} points drawn`);
    const top = leftAxisTicks(svg).reduce((highest, tick) => (tick.y < highest.y ? tick : highest));
    assert.equal(top.label, '1.0\u202fM', 'the y axis reaches the spike');
    const ys = drawn.map(([, y]) => y);
    assert.equal(Math.min(...ys), top.y, 'the line reaches the spike');
    assert.ok(Math.max(...ys) - Math.min(...ys) > 300, 'from the zero line to the spike');
    assert.ok(svg.length < 200_000, `${svg.length} characters`);
  });

  it('wraps a long legend into rows under the axis, growing the height', () => {
    const many = Array.from({ length: 12 }, (_, index) => ramp(`run ${index}: light-memory2 scenario`));
    const oneRow = svgSize(renderLineChart(lineSpec())).height;
    const svg = renderLineChart(lineSpec({ series: many }));
    assert.ok(svgSize(svg).height >= oneRow + 3 * 20, 'at least three more legend rows');
    const xTitleY = Number(/y="([\d.]+)"[^>]*>time \(s\)</.exec(svg)?.[1]);
    const legend = /<g class="legend">[^]*<\/g>/.exec(svg)?.[0] ?? '';
    const legendYs = [...legend.matchAll(/<text x="[\d.]+" y="([\d.]+)"/g)].map((match) => Number(match[1]));
    assert.equal(legendYs.length, 12);
    assert.ok(Math.min(...legendYs) > xTitleY + 10, 'the legend starts under the x axis title');
    assert.deepEqual(pngSize(svgToPng(svg)), svgSize(svg));
  });

  it('says "no data" for empty series instead of failing', () => {
    for (const series of [[], [{ name: 'memory2', points: [] }]]) {
      const svg = renderLineChart(lineSpec({ series, secondary: { label: 'VMs', series: [] } }));
      assert.ok(texts(svg).includes('no data'));
      assert.ok(pngSize(svgToPng(svg)).width === 900);
    }
    const oneEmpty = renderLineChart(lineSpec({ series: [ramp('light'), { name: 'heavy', points: [] }] }));
    assert.ok(!texts(oneEmpty).includes('no data'));
    assert.ok(texts(oneEmpty).includes('heavy (no data)'));
  });

  it('skips points that are not finite numbers', () => {
    const gappy: Series = { name: 'gappy', points: [[0, 1], [1, NaN], [2, Infinity], [3, 2]] };
    const svg = renderLineChart(lineSpec({ series: [gappy] }));
    assert.equal(seriesPath(svg, 'gappy').length, 2);
    assert.ok(!svg.includes('NaN'));
  });
});

describe('renderTimeline', () => {
  const rows: TimelineSpec['rows'] = [
    { label: 'vm01', bars: [{ start: 0, end: 10, mark: { start: 9.995, end: 9.998 } }, { start: 30, end: 40 }] },
    { label: 'a-much-longer-vm-name', bars: [{ start: 5, end: 20, mark: { start: 18, end: 20 }, failed: true }] },
  ];

  it('draws one bar per input bar and one mark per mark', () => {
    const svg = renderTimeline(timelineSpec(rows));
    assert.equal(elements(svg, /<rect class="timeline-bar"/).length, 3);
    assert.equal(elements(svg, /<rect class="timeline-mark"/).length, 2);
    const expected = ['Migrations', 'time (s)', 'vm01', 'a-much-longer-vm-name', 'migration', 'downtime', 'failed or interrupted'];
    for (const text of expected) assert.ok(texts(svg).includes(text), text);
    assert.deepEqual(pngSize(svgToPng(svg)), svgSize(svg));
  });

  it('keeps a mark of a few milliseconds visible', () => {
    const svg = renderTimeline(timelineSpec(rows));
    const [shortMark] = elements(svg, /<rect class="timeline-mark"[^>]*>/);
    assert.ok(attribute(shortMark!, 'width') >= 2);
  });

  it('fills failed bars differently and outlines them, without ids that could clash on a page', () => {
    const svg = renderTimeline(timelineSpec(rows));
    const bars = elements(svg, /<rect class="timeline-bar"[^>]*>/);
    const failed = bars.filter((bar) => bar.includes(`fill="${TIMELINE_COLOURS.failedFill}"`) && bar.includes('stroke='));
    assert.equal(failed.length, 1);
    assert.doesNotMatch(svg, / id="/);
  });

  it('fits the label column to the longest label', () => {
    const barX = (label: string): number => {
      const svg = renderTimeline(timelineSpec([{ label, bars: [{ start: 0, end: 1 }] }]));
      return attribute(elements(svg, /<rect class="timeline-bar"[^>]*>/)[0]!, 'x');
    };
    assert.ok(barX('datacenter-east/cluster-7/vm1') > barX('vm1') + 100);
  });

  it('grows taller for many rows instead of squeezing them', () => {
    const hundred = Array.from({ length: 100 }, (_, index) => ({
      label: `vm${index}`,
      bars: [{ start: index, end: index + 5 }],
    }));
    const svg = renderTimeline(timelineSpec(hundred));
    assert.ok(svgSize(svg).height >= 100 * 18);
    assert.equal(elements(svg, /<rect class="timeline-bar"/).length, 100);
    assert.deepEqual(pngSize(svgToPng(svg)), svgSize(svg));
  });

  it('says "no data" without rows or bars', () => {
    for (const empty of [[], [{ label: 'vm01', bars: [] }]]) {
      const svg = renderTimeline(timelineSpec(empty));
      assert.ok(texts(svg).includes('no data'));
      assert.ok(pngSize(svgToPng(svg)).width === 900);
    }
  });
});

describe('tick labels', () => {
  it('writes small numbers in full, grouped by a narrow space', () => {
    const ticks = [0, 2500, 5000, 7500];
    assert.deepEqual(ticks.map(tickFormatter(ticks)), ['0', '2\u202f500', '5\u202f000', '7\u202f500']);
  });

  it('gives large numbers one shared unit and the decimals they need', () => {
    const ticks = [0, 5e5, 1e6, 1.5e6];
    assert.deepEqual(ticks.map(tickFormatter(ticks)), ['0', '0.5\u202fM', '1.0\u202fM', '1.5\u202fM']);
    const small = [0, 0.05, 0.1];
    assert.deepEqual(small.map(tickFormatter(small)), ['0', '0.05', '0.10']);
  });

  it('uses a real minus sign', () => {
    assert.equal(formatNumber(-1200, 0), '\u22121\u202f200');
    assert.equal(formatNumber(-0.001, 1), '0.0');
  });
});

describe('downsampleToColumns', () => {
  it('keeps at most the first, lowest, highest and last point of each column, in x order', () => {
    const points: Point[] = [[0, 5], [0.2, 9], [0.4, 1], [0.6, 4], [0.8, 3], [1.1, 7]];
    assert.deepEqual(downsampleToColumns(points, (x) => x), [[0, 5], [0.2, 9], [0.4, 1], [0.8, 3], [1.1, 7]]);
  });

  it('leaves sparse points alone', () => {
    const points: Point[] = [[0, 1], [10, 2], [20, 3]];
    assert.deepEqual(downsampleToColumns(points, (x) => x), points);
  });
});
