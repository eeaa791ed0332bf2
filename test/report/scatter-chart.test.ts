import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScatterChartSpec } from '../../src/report/chart-model.ts';
import type { Point } from '../../src/report/charts/downsample.ts';
import { svgToPng } from '../../src/report/charts/png.ts';
import { renderScatterChart } from '../../src/report/charts/scatter-chart.ts';
import { FONT_SIZE } from '../../src/report/charts/style.ts';
import { textWidth } from '../../src/report/charts/text-width.ts';
import { pngSize, svgSize, texts } from './svg-helpers.ts';

const NARROW_SPACE = '\u202f';

type ScatterPoint = ScatterChartSpec['series'][number]['points'][number];

function scatterSpec(overrides: Partial<ScatterChartSpec> = {}): ScatterChartSpec {
  return {
    title: 'Measured vs predicted total time',
    xLabel: 'measured total time (ms)',
    yLabel: 'predicted total time (ms)',
    series: [
      { name: 'fitted cases', points: [{ x: 20, y: 20 }, { x: 60, y: 20 }, { x: 100, y: 90 }] },
      { name: 'held-out cases', points: [{ x: 40, y: 50 }] },
    ],
    logScale: false,
    diagonal: { band: null },
    ...overrides,
  };
}

function group(svg: string, className: string): string {
  const match = new RegExp(`<g class="${className}"[^]*?</g>`).exec(svg);
  assert.ok(match, `a group of class ${className}`);
  return match[0];
}

function attribute(element: string, name: string): number {
  const match = new RegExp(` ${name}="(-?[\\d.]+)"`).exec(element);
  assert.ok(match, `${element} has ${name}`);
  return Number(match[1]);
}

/** Centres of the circles drawn for a series. */
function circles(svg: string, series: string): Point[] {
  const points = new RegExp(`<g class="points" data-series="${series}">(.*?)</g>`).exec(svg)?.[1] ?? '';
  return [...points.matchAll(/<circle [^>]*>/g)].map(([circle]) => [attribute(circle, 'cx'), attribute(circle, 'cy')]);
}

function diagonal(svg: string): [Point, Point] {
  const match = /<path class="diagonal" d="M(-?[\d.]+),(-?[\d.]+)L(-?[\d.]+),(-?[\d.]+)"/.exec(svg);
  assert.ok(match, 'a diagonal from one point to another');
  const [x1, y1, x2, y2] = match.slice(1).map(Number) as [number, number, number, number];
  return [[x1, y1], [x2, y2]];
}

function bandPolygon(svg: string): Point[] {
  const points = /<polygon class="band" points="([^"]*)"/.exec(svg)?.[1];
  assert.ok(points !== undefined, 'a band polygon');
  return points.split(' ').map((pair) => pair.split(',').map(Number) as Point);
}

/** Where each tick of an axis is along it, with its label. */
function axisTicks(svg: string, axis: 'x-axis' | 'y-axis-left'): { at: number; label: string }[] {
  const ticks = group(svg, axis).matchAll(/<line x1="([\d.]+)" y1="([\d.]+)"[^>]*\/><text [^>]*>([^<]*)<\/text>/g);
  return [...ticks].map((match) => ({ at: Number(axis === 'x-axis' ? match[1] : match[2]), label: match[3] ?? '' }));
}

/** The plot's edges, from the axis lines. */
function plotArea(svg: string): { left: number; right: number; top: number; bottom: number } {
  const xLine = /<line [^>]*>/.exec(group(svg, 'x-axis'))?.[0] ?? '';
  const yLine = /<line [^>]*>/.exec(group(svg, 'y-axis-left'))?.[0] ?? '';
  return {
    left: attribute(xLine, 'x1'),
    right: attribute(xLine, 'x2'),
    top: attribute(yLine, 'y1'),
    bottom: attribute(yLine, 'y2'),
  };
}

/** How far a point is off the line through a and b, in pixels. */
function distanceFromLine([px, py]: Point, [[ax, ay], [bx, by]]: [Point, Point]): number {
  return Math.abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / Math.hypot(bx - ax, by - ay);
}

function insidePolygon([px, py]: Point, polygon: Point[]): boolean {
  let inside = false;
  polygon.forEach(([ax, ay], index) => {
    const [bx, by] = polygon.at(index - 1) ?? [ax, ay];
    if (ay > py !== by > py && px < ax + ((py - ay) * (bx - ax)) / (by - ay)) inside = !inside;
  });
  return inside;
}

function tickAt(ticks: { at: number; label: string }[], label: string): number {
  const tick = ticks.find((one) => one.label === label);
  assert.ok(tick, `a tick labelled ${label} among ${ticks.map((one) => one.label).join(' | ')}`);
  return tick.at;
}

describe('renderScatterChart', () => {
  it('renders to a PNG as large as the SVG says, self-contained and the same every time', () => {
    const spec = scatterSpec({ diagonal: { band: 0.1 } });
    const svg = renderScatterChart(spec);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" [^>]*viewBox="0 0 \d+ \d+"/);
    assert.doesNotMatch(svg, /<script|<image|<use|href=|url\(| id="|@import/);
    assert.doesNotMatch(svg, /NaN|Infinity/);
    assert.equal(renderScatterChart(spec), svg);
    assert.deepEqual(pngSize(svgToPng(svg)), svgSize(svg));
  });

  it('takes another size', () => {
    const svg = renderScatterChart(scatterSpec({ logScale: true }), { width: 320, height: 500 });
    assert.equal(svgSize(svg).width, 320);
    assert.deepEqual(pngSize(svgToPng(svg)), svgSize(svg));
    assert.ok(plotArea(svg).right <= 320, 'a narrow chart gets a smaller plot');
  });

  it('draws a square plot whose axes share one domain, so that y = x runs corner to corner at 45°', () => {
    for (const logScale of [false, true]) {
      const svg = renderScatterChart(scatterSpec({ logScale }));
      const { left, right, top, bottom } = plotArea(svg);
      assert.ok(Math.abs(right - left - (bottom - top)) < 0.1, `square: ${right - left} by ${bottom - top}`);
      const corners = [left, bottom, right, top];
      diagonal(svg).flat().forEach((end, index) => assert.ok(Math.abs(end - (corners[index] ?? NaN)) <= 0.1, `${end}`));
      const xLabels = axisTicks(svg, 'x-axis').map(({ label }) => label);
      assert.deepEqual(axisTicks(svg, 'y-axis-left').map(({ label }) => label), xLabels);
    }
  });

  it('puts a point with x == y on the diagonal, and every point where the ticks say', () => {
    const svg = renderScatterChart(scatterSpec());
    const [onDiagonal, below] = circles(svg, 'fitted cases');
    assert.ok(onDiagonal && below, 'the points of the first series are circles');
    assert.ok(distanceFromLine(onDiagonal, diagonal(svg)) < 0.2, `(20, 20) at ${onDiagonal.join(',')}`);
    assert.ok(distanceFromLine(below, diagonal(svg)) > 50, '(60, 20) is off it');
    const xTicks = axisTicks(svg, 'x-axis');
    const yTicks = axisTicks(svg, 'y-axis-left');
    assert.deepEqual(onDiagonal, [tickAt(xTicks, '20'), tickAt(yTicks, '20')]);
    assert.deepEqual(below, [tickAt(xTicks, '60'), tickAt(yTicks, '20')]);
  });

  it('places points on log axes by their logarithm', () => {
    const points = [{ x: 100, y: 100 }, { x: 1000, y: 10 }, { x: 10, y: 1000 }];
    const svg = renderScatterChart(scatterSpec({ logScale: true, series: [{ name: 'cases', points }] }));
    const xTicks = axisTicks(svg, 'x-axis');
    const yTicks = axisTicks(svg, 'y-axis-left');
    assert.deepEqual(circles(svg, 'cases'), [
      [tickAt(xTicks, '100'), tickAt(yTicks, '100')],
      [tickAt(xTicks, `1${NARROW_SPACE}000`), tickAt(yTicks, '10')],
      [tickAt(xTicks, '10'), tickAt(yTicks, `1${NARROW_SPACE}000`)],
    ]);
  });

  it('ticks log axes at the powers of ten, in order and evenly spaced', () => {
    const points = [{ x: 300, y: 280 }, { x: 250_000, y: 310_000 }];
    const svg = renderScatterChart(scatterSpec({ logScale: true, series: [{ name: 'cases', points }] }));
    const ticks = axisTicks(svg, 'x-axis');
    const expected = ['100', `1${NARROW_SPACE}000`, `10${NARROW_SPACE}000`, `100${NARROW_SPACE}k`, `1${NARROW_SPACE}M`];
    assert.deepEqual(ticks.map(({ label }) => label), expected);
    const gaps = ticks.slice(1).map(({ at }, index) => at - (ticks[index]?.at ?? 0));
    for (const gap of gaps) assert.ok(Math.abs(gap - (gaps[0] ?? 0)) < 0.1 && gap > 0, `even gaps: ${gaps.join(', ')}`);
    assert.deepEqual(axisTicks(svg, 'y-axis-left').map(({ label }) => label), expected);
  });

  it('adds ticks within a decade when there is room, and thins out decades when there is not', () => {
    const withinADecade = renderScatterChart(
      scatterSpec({ logScale: true, series: [{ name: 'cases', points: [{ x: 120, y: 130 }, { x: 900, y: 800 }] }] }),
    );
    assert.deepEqual(
      axisTicks(withinADecade, 'x-axis').map(({ label }) => label),
      ['100', '200', '500', `1${NARROW_SPACE}000`],
    );
    const manyDecades = renderScatterChart(
      scatterSpec({ logScale: true, series: [{ name: 'cases', points: [{ x: 0.01, y: 0.02 }, { x: 2e9, y: 1e9 }] }] }),
      { width: 320, height: 500 },
    );
    const labels = axisTicks(manyDecades, 'x-axis').map(({ label }) => label);
    assert.deepEqual(labels, ['1', `1${NARROW_SPACE}000`, `1${NARROW_SPACE}M`, `1${NARROW_SPACE}G`]);
  });

  it('keeps tick labels apart on narrow charts', () => {
    const cases: ScatterPoint[][] = [
      [{ x: 0.01, y: 0.02 }, { x: 2e9, y: 1e9 }],
      [{ x: 123, y: 130 }, { x: 98_765, y: 87_000 }],
      [{ x: 1, y: 2 }, { x: 9, y: 7 }],
    ];
    for (const width of [260, 320, 640]) {
      for (const points of cases) {
        for (const logScale of [true, false]) {
          const spec = scatterSpec({ logScale, series: [{ name: 'cases', points }] });
          const svg = renderScatterChart(spec, { width, height: 560 });
          const ticks = axisTicks(svg, 'x-axis');
          assert.ok(ticks.length >= 2, `${ticks.length} ticks`);
          ticks.slice(1).forEach((tick, index) => {
            const previous = ticks[index]!;
            const room = (textWidth(previous.label, FONT_SIZE.tick) + textWidth(tick.label, FONT_SIZE.tick)) / 2;
            assert.ok(tick.at - previous.at >= room, `"${previous.label}" and "${tick.label}" ${width} px wide`);
          });
        }
      }
    }
  });

  it('leaves out points ≤ 0 on a log scale and says how many', () => {
    const points = [{ x: 10, y: 12 }, { x: 0, y: 5 }, { x: -3, y: 8 }, { x: 50, y: 0 }, { x: 200, y: 180 }];
    const log = renderScatterChart(scatterSpec({ logScale: true, series: [{ name: 'cases', points }] }));
    assert.equal(circles(log, 'cases').length, 2);
    assert.ok(texts(log).includes('3 points ≤ 0 left out: a log scale cannot show them'), texts(log).join(' | '));
    assert.deepEqual(pngSize(svgToPng(log)), svgSize(log));

    const onePoint = scatterSpec({ logScale: true, series: [{ name: 'cases', points: points.slice(0, 2) }] });
    const one = renderScatterChart(onePoint);
    assert.ok(texts(one).includes('1 point ≤ 0 left out: a log scale cannot show it'));

    const linear = renderScatterChart(scatterSpec({ series: [{ name: 'cases', points }] }));
    assert.equal(circles(linear, 'cases').length, 5);
    assert.ok(!texts(linear).some((text) => text.includes('left out')));
  });

  it('skips points that are not finite numbers', () => {
    const points = [{ x: 1, y: 2 }, { x: NaN, y: 3 }, { x: 4, y: Infinity }, { x: 5, y: 6 }];
    const svg = renderScatterChart(scatterSpec({ series: [{ name: 'cases', points }] }));
    assert.equal(circles(svg, 'cases').length, 2);
    assert.doesNotMatch(svg, /NaN|Infinity/);
  });

  it('says "no data" when nothing can be drawn, and still renders', () => {
    const empties: Partial<ScatterChartSpec>[] = [
      { series: [] },
      { series: [{ name: 'fitted cases', points: [] }], diagonal: { band: 0.1 } },
      { series: [{ name: 'fitted cases', points: [{ x: 0, y: 3 }] }], logScale: true, diagonal: { band: 1 } },
    ];
    for (const overrides of empties) {
      const svg = renderScatterChart(scatterSpec(overrides));
      assert.ok(texts(svg).includes('no data'), JSON.stringify(overrides));
      assert.doesNotMatch(svg, /NaN|Infinity/);
      assert.deepEqual(pngSize(svgToPng(svg)), svgSize(svg));
    }
    const series = [{ name: 'fitted cases', points: [{ x: 1, y: 1 }] }, { name: 'held-out cases', points: [] }];
    const oneEmpty = renderScatterChart(scatterSpec({ series }));
    assert.ok(!texts(oneEmpty).includes('no data'));
    assert.ok(texts(oneEmpty).includes('held-out cases (no data)'));
  });

  it('shades the band of ±fraction around the diagonal, cut to the plot, with a legend entry', () => {
    const svg = renderScatterChart(scatterSpec({ diagonal: { band: 0.1 } }));
    const band = bandPolygon(svg);
    const { left, right, top, bottom } = plotArea(svg);
    for (const [x, y] of band) assert.ok(x >= left && x <= right && y >= top && y <= bottom, `${x},${y} in the plot`);
    const xTicks = axisTicks(svg, 'x-axis');
    const yTicks = axisTicks(svg, 'y-axis-left');
    const pixel = (x: number, y: number): Point => {
      const [x0, x1, y0, y1] = [tickAt(xTicks, '20'), tickAt(xTicks, '60'), tickAt(yTicks, '20'), tickAt(yTicks, '60')];
      return [x0 + ((x - 20) / 40) * (x1 - x0), y0 + ((y - 20) / 40) * (y1 - y0)];
    };
    assert.ok(insidePolygon(pixel(50, 54), band), '(50, 54) is within 10 %');
    assert.ok(insidePolygon(pixel(50, 46), band), '(50, 46) is within 10 %');
    assert.ok(!insidePolygon(pixel(50, 57), band), '(50, 57) is not');
    assert.ok(!insidePolygon(pixel(50, 43), band), '(50, 43) is not');
    assert.ok(svg.indexOf('class="band"') < svg.indexOf('class="points"'), 'drawn behind the points');
    assert.ok(texts(svg).includes(`within ±10${NARROW_SPACE}%`));

    const without = renderScatterChart(scatterSpec({ diagonal: { band: null } }));
    assert.ok(!without.includes('class="band"'));
    assert.ok(!texts(without).some((text) => text.startsWith('within')));
    assert.ok(texts(without).includes('y = x'), 'the diagonal is always drawn and named');
  });

  it('shades everything under the diagonal for a band of 100 % or more on a log scale', () => {
    const svg = renderScatterChart(scatterSpec({ logScale: true, diagonal: { band: 1.5 } }));
    assert.doesNotMatch(svg, /NaN|Infinity/);
    const { left, right, top, bottom } = plotArea(svg);
    const band = bandPolygon(svg);
    assert.ok(insidePolygon([right - 2, bottom - 1], band), 'the bottom right corner');
    assert.ok(insidePolygon([left + 2, bottom - 1], band), 'along the bottom');
    assert.ok(!insidePolygon([left + 2, top + 1], band), 'but not the top left corner');
    assert.ok(texts(svg).includes(`within ±150${NARROW_SPACE}%`));
  });

  it('gives a single value room on either side, on both kinds of scale', () => {
    for (const logScale of [false, true]) {
      const series = [{ name: 'cases', points: [{ x: 100, y: 100 }] }];
      const svg = renderScatterChart(scatterSpec({ logScale, series }));
      assert.doesNotMatch(svg, /NaN|Infinity/);
      const ticks = axisTicks(svg, 'x-axis');
      assert.ok(ticks.length >= 2, `${ticks.length} ticks`);
      const [[cx, cy] = [NaN, NaN]] = circles(svg, 'cases');
      const { left, right, top, bottom } = plotArea(svg);
      assert.ok(cx > left && cx < right && cy > top && cy < bottom, `(100, 100) inside the plot at ${cx},${cy}`);
    }
  });

  it('gives each of four series its own marker shape', () => {
    const series = ['a', 'b', 'c', 'd'].map((name) => ({ name, points: [{ x: 5, y: 5 }] }));
    const svg = renderScatterChart(scatterSpec({ series }));
    const markers = series.map(({ name }) => new RegExp(`data-series="${name}">(<[^>]*>)`).exec(svg)?.[1] ?? '');
    const shapes = markers.map((marker) => marker.replace(/ (fill|stroke)="[^"]*"/g, ''));
    assert.equal(new Set(shapes).size, 4, shapes.join('\n'));
  });

  it('tells series apart by colour and shape, names them in the legend and escapes markup', () => {
    const svg = renderScatterChart(
      scatterSpec({
        title: 'a <b> & c',
        series: [
          { name: 'fitted cases', points: [{ x: 1, y: 2 }] },
          { name: 'held<out>', points: [{ x: 3, y: 4 }] },
        ],
      }),
    );
    const first = /<g class="points" data-series="fitted cases">(.*?)<\/g>/.exec(svg)?.[1] ?? '';
    const second = /<g class="points" data-series="held&lt;out&gt;">(.*?)<\/g>/.exec(svg)?.[1] ?? '';
    assert.match(first, /^<circle /);
    assert.match(second, /^<polygon /);
    assert.notEqual(/fill="([^"]+)"/.exec(first)?.[1], /fill="([^"]+)"/.exec(second)?.[1]);
    const legend = /<g class="legend">[^]*<\/g>/.exec(svg)?.[0] ?? '';
    assert.match(legend, /<circle [^]*<polygon /, 'the legend shows the markers');
    for (const label of ['fitted cases', 'held&lt;out&gt;', 'y = x']) assert.ok(texts(legend).includes(label), label);
    assert.ok(texts(svg).includes('a &lt;b&gt; &amp; c'));
  });
});
