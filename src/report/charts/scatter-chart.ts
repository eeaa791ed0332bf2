import type { ScatterChartSpec } from '../chart-model.ts';
import {
  horizontalGridSvg,
  verticalAxisWidth,
  verticalGridSvg,
  X_AXIS_HEIGHT,
  xAxisSvg,
  yAxisSvg,
  type Axis,
  type PlotArea,
} from './axes.ts';
import { chartTitleSvg, noDataSvg } from './chart-text.ts';
import { clipToArea } from './clip-polygon.ts';
import type { Point } from './downsample.ts';
import { legendSvg, type LegendEntry } from './legend.ts';
import { extentOf, horizontalAxis, type Extent, type LinearAxis } from './linear-axis.ts';
import { logAxis, type LogAxis } from './log-axis.ts';
import { markerSvg } from './markers.ts';
import { formatNumber, tickFormatter } from './number-format.ts';
import { DIAGONAL_COLOUR, seriesColour, seriesMarker, SHADE } from './palette.ts';
import { linePath } from './paths.ts';
import { FONT_SIZE, MARGIN, TITLE_BAND, type Size } from './style.ts';
import { svgDocument } from './svg-document.ts';
import { svgElement, svgNumber } from './svg-element.ts';
import { centredBaseline, svgText } from './text.ts';
import { fitText } from './text-width.ts';

type ScatterSeries = ScatterChartSpec['series'][number];
type SharedAxis = LinearAxis | LogAxis;

interface SquareLayout {
  plot: PlotArea;
  x: Axis;
  y: Axis;
  /** Of both axes. */
  domain: Extent;
}

/** Squarer than the time series' default, as the plot is square; before the legend. */
const SCATTER_SIZE: Size = { width: 640, height: 560 };
/** Still room for half of the last x tick label. */
const RIGHT_MARGIN = 28;
const NOTE_HEIGHT = 20;
const DIAGONAL_WIDTH = 1;

/**
 * A scatter chart as a standalone SVG document, e.g. measured against predicted: a square
 * plot whose axes share one domain, so that y = x (a perfect prediction) runs corner to
 * corner at 45°, an optional band around it, and a legend under the x axis (which adds to
 * the height).
 */
export function renderScatterChart(spec: ScatterChartSpec, size: Size = SCATTER_SIZE): string {
  const { series, leftOut } = drawable(spec);
  const { plot, x, y, domain } = squareLayout(valueExtent(series, spec.logScale), spec.logScale, size);
  const band = drawnBand(spec.diagonal.band);
  const axesBottom = plot.top + plot.height + X_AXIS_HEIGHT;
  const noteHeight = leftOut > 0 ? NOTE_HEIGHT : 0;
  const legend = legendSvg(legendEntries(series, band), {
    left: MARGIN,
    top: axesBottom + noteHeight,
    width: size.width - 2 * MARGIN,
  });
  const hasData = series.some(({ points }) => points.length > 0);

  const body = [
    chartTitleSvg(spec.title, size.width),
    horizontalGridSvg(y, plot),
    verticalGridSvg(x, plot),
    band === null ? '' : bandSvg(band, domain, x, y, plot),
    diagonalSvg(domain, x, y),
    ...series.map((one, index) => pointsSvg(one, x, y, index)),
    xAxisSvg(x, plot, spec.xLabel),
    yAxisSvg(y, plot, 'left', spec.yLabel),
    hasData ? '' : noDataSvg(plot),
    leftOut > 0 ? leftOutSvg(leftOut, axesBottom, size.width) : '',
    legend.svg,
  ];
  const height = Math.ceil(axesBottom + noteHeight + legend.height);
  return svgDocument({ width: size.width, height }, body.filter(Boolean).join('\n'));
}

/**
 * The points that can be drawn, and how many of the finite ones a log scale cannot show.
 * Points that are not finite numbers are skipped silently, as in the line chart.
 */
function drawable({ series, logScale }: ScatterChartSpec): { series: ScatterSeries[]; leftOut: number } {
  const finite = series.map(({ name, points }) => ({
    name,
    points: points.filter(({ x, y }) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  if (!logScale) return { series: finite, leftOut: 0 };
  const positive = finite.map(({ name, points }) => ({ name, points: points.filter(({ x, y }) => x > 0 && y > 0) }));
  return { series: positive, leftOut: pointCount(finite) - pointCount(positive) };
}

function pointCount(series: ScatterSeries[]): number {
  return series.reduce((sum, { points }) => sum + points.length, 0);
}

/** Of x and y together: both axes show it. */
function valueExtent(series: ScatterSeries[], logScale: boolean): Extent {
  const values = series.flatMap(({ points }) => points.flatMap(({ x, y }) => [x, y]));
  return extentOf(values) ?? (logScale ? [1, 10] : [0, 1]);
}

/**
 * The largest square plot that fits, centred. The y axis' labels take width, and which
 * labels depends on the side: first sized to the height, then to the width if that is tighter.
 */
function squareLayout(extent: Extent, logScale: boolean, size: Size): SquareLayout {
  const tallest = size.height - TITLE_BAND - X_AXIS_HEIGHT;
  const widest = (axis: SharedAxis): number => size.width - MARGIN - verticalAxisWidth(axis) - RIGHT_MARGIN;
  const tall = sharedAxis(extent, tallest, logScale);
  const side = Math.min(tallest, widest(tall));
  const axis = side < tallest ? sharedAxis(extent, side, logScale) : tall;
  const left = MARGIN + verticalAxisWidth(axis) + Math.max(0, widest(axis) - side) / 2;
  const bottom = TITLE_BAND + side;
  return {
    plot: { left, top: TITLE_BAND, width: side, height: side },
    x: placed(axis, [left, left + side]),
    y: placed(axis, [bottom, TITLE_BAND]),
    domain: extentOf(axis.scale.domain()) ?? extent,
  };
}

/** One axis for x and y alike, `length` pixels long, so that both get the same domain and ticks. */
function sharedAxis(extent: Extent, length: number, logScale: boolean): SharedAxis {
  const range: Extent = [0, length];
  return logScale ? logAxis(extent, range, FONT_SIZE.tick) : horizontalAxis(extent, range, FONT_SIZE.tick);
}

function placed({ scale, ticks, labels }: SharedAxis, range: Extent): Axis {
  return { scale: scale.copy().range(range), ticks, labels };
}

function drawnBand(band: number | null): number | null {
  return band !== null && Number.isFinite(band) && band > 0 ? band : null;
}

function diagonalSvg([low, high]: Extent, x: Axis, y: Axis): string {
  return svgElement('path', {
    class: 'diagonal',
    d: linePath([[low, low], [high, high]], x.scale, y.scale),
    fill: 'none',
    stroke: DIAGONAL_COLOUR,
    'stroke-width': DIAGONAL_WIDTH,
  });
}

/** Where |y − x| ≤ band · |x|, cut to the plot; its edges are straight on linear and log scales alike. */
function bandSvg(band: number, [low, high]: Extent, x: Axis, y: Axis, plot: PlotArea): string {
  // On a linear scale through negative values, the edges bend at x = 0.
  const xs = low < 0 && high > 0 ? [low, 0, high] : [low, high];
  // On a log scale, a band of 100 % or more reaches down to zero, which lies infinitely far below the plot.
  const yPixel = (value: number): number => {
    const pixel = y.scale(value);
    return Number.isFinite(pixel) ? pixel : plot.top + plot.height;
  };
  const edge = (sign: 1 | -1): Point[] =>
    xs.map((value) => [x.scale(value), yPixel(value + sign * band * Math.abs(value))]);
  const polygon = clipToArea([...edge(1), ...edge(-1).reverse()], plot);
  return svgElement('polygon', {
    class: 'band',
    points: polygon.map(([px, py]) => `${svgNumber(px)},${svgNumber(py)}`).join(' '),
    fill: SHADE.fill,
    'fill-opacity': SHADE.opacity,
  });
}

function pointsSvg({ name, points }: ScatterSeries, x: Axis, y: Axis, index: number): string {
  if (points.length === 0) return '';
  const shape = seriesMarker(index);
  const colour = seriesColour(index);
  const markers = points.map((point) => markerSvg(shape, x.scale(point.x), y.scale(point.y), colour));
  return svgElement('g', { class: 'points', 'data-series': name }, markers.join(''));
}

/** Under the x axis, so that a reader knows the plot does not show every point. */
function leftOutSvg(count: number, top: number, chartWidth: number): string {
  const text =
    count === 1
      ? '1 point ≤ 0 left out: a log scale cannot show it'
      : `${formatNumber(count, 0)} points ≤ 0 left out: a log scale cannot show them`;
  return svgText(fitText(text, chartWidth - 2 * MARGIN, FONT_SIZE.legend), {
    x: chartWidth / 2,
    y: centredBaseline(top + NOTE_HEIGHT / 2, FONT_SIZE.legend),
    size: FONT_SIZE.legend,
    anchor: 'middle',
  });
}

function legendEntries(series: ScatterSeries[], band: number | null): LegendEntry[] {
  const entries: LegendEntry[] = series.map(({ name, points }, index) => ({
    label: points.length === 0 ? `${name} (no data)` : name,
    swatch: { kind: 'marker', shape: seriesMarker(index), colour: seriesColour(index) },
  }));
  entries.push({ label: 'y = x', swatch: { kind: 'line', colour: DIAGONAL_COLOUR } });
  if (band !== null) {
    const percent = band * 100;
    const swatch = { kind: 'box', fill: SHADE.fill, opacity: SHADE.opacity } as const;
    entries.push({ label: `within ±${tickFormatter([percent])(percent)}\u202f%`, swatch });
  }
  return entries;
}
