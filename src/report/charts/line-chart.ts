import type { Interval, LineChartSpec, Series } from '../chart-model.ts';
import {
  horizontalGridSvg,
  verticalAxisWidth,
  verticalGridSvg,
  X_AXIS_HEIGHT,
  xAxisSvg,
  yAxisSvg,
  type PlotArea,
} from './axes.ts';
import { chartTitleSvg, noDataSvg } from './chart-text.ts';
import { downsampleToColumns } from './downsample.ts';
import { legendSvg, type LegendEntry } from './legend.ts';
import { extentOf, horizontalAxis, linearAxis, type Extent, type LinearAxis } from './linear-axis.ts';
import { markerSvg, type MarkerShape } from './markers.ts';
import { secondaryStyle, seriesColour, seriesMarker, SHADE } from './palette.ts';
import { linePath, stepAfterPath } from './paths.ts';
import { DEFAULT_SIZE, FONT_SIZE, MARGIN, TITLE_BAND, type Size } from './style.ts';
import { svgDocument } from './svg-document.ts';
import { svgElement } from './svg-element.ts';

const PIXELS_PER_Y_TICK = 45;
/** Without a right axis, still room for half of the last x tick label. */
const RIGHT_MARGIN_WITHOUT_AXIS = 28;
const LINE_WIDTH = 1.5;
const MIN_SHADED_WIDTH = 3;

/**
 * A line chart as a standalone SVG document: the series against the left axis, the
 * secondary series as dashed step lines against the right axis, shaded intervals behind
 * them, markers over them, and a legend under the x axis (which adds to the height).
 */
export function renderLineChart(spec: LineChartSpec, size: Size = DEFAULT_SIZE): string {
  const series = spec.series.map(finitePointsOnly);
  const secondary = (spec.secondary?.series ?? []).map(finitePointsOnly);
  const intervals = spec.shaded?.intervals ?? [];
  const markers = (spec.markers ?? []).map(finitePointsOnly);

  const top = TITLE_BAND;
  const bottom = size.height - X_AXIS_HEIGHT;
  const yTickCount = Math.max(2, Math.floor((bottom - top) / PIXELS_PER_Y_TICK));
  const yAxis = linearAxis(valueExtent([...series, ...markers]), [bottom, top], yTickCount);
  const rightAxis = spec.secondary && {
    title: spec.secondary.label,
    axis: linearAxis(valueExtent(secondary), [bottom, top], yTickCount, onlyIntegers(secondary)),
  };
  const left = MARGIN + verticalAxisWidth(yAxis);
  const right = size.width - (rightAxis ? MARGIN + verticalAxisWidth(rightAxis.axis) : RIGHT_MARGIN_WITHOUT_AXIS);
  const xAxis = horizontalAxis(xExtent([...series, ...secondary, ...markers], intervals), [left, right], FONT_SIZE.tick);
  const plot: PlotArea = { left, top, width: right - left, height: bottom - top };
  const legend = legendSvg(legendEntries(series, secondary, spec.shaded, markers), {
    left: MARGIN,
    top: size.height,
    width: size.width - 2 * MARGIN,
  });
  const hasData = [...series, ...secondary, ...markers].some(({ points }) => points.length > 0);

  const body = [
    chartTitleSvg(spec.title, size.width),
    horizontalGridSvg(yAxis, plot),
    verticalGridSvg(xAxis, plot),
    ...intervals.map((interval) => shadedSvg(interval, xAxis, plot)),
    ...series.map((one, index) => seriesSvg(one, xAxis, yAxis, seriesColour(index))),
    ...(rightAxis ? secondary.map((one, index) => secondarySvg(one, xAxis, rightAxis.axis, index)) : []),
    ...markers.map((one, index) => markersSvg(one, xAxis, yAxis, markerColour(series, index), seriesMarker(index))),
    xAxisSvg(xAxis, plot, spec.xLabel),
    yAxisSvg(yAxis, plot, 'left', spec.yLabel),
    rightAxis ? yAxisSvg(rightAxis.axis, plot, 'right', rightAxis.title) : '',
    hasData ? '' : noDataSvg(plot),
    legend.svg,
  ];
  const height = Math.ceil(size.height + legend.height);
  return svgDocument({ width: size.width, height }, body.filter(Boolean).join('\n'));
}

function finitePointsOnly(series: Series): Series {
  return { name: series.name, points: series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)) };
}

/** Always from zero: these are counters, and a baseline elsewhere exaggerates changes. */
function valueExtent(series: Series[]): Extent {
  return extentOf(allValues(series, 1, [0])) ?? [0, 1];
}

function xExtent(series: Series[], intervals: Interval[]): Extent {
  const bounds = intervals.flatMap(({ start, end }) => [start, end]).filter(Number.isFinite);
  return extentOf(allValues(series, 0, bounds)) ?? [0, 1];
}

function* allValues(series: Series[], coordinate: 0 | 1, extra: number[]): Generator<number> {
  yield* extra;
  for (const { points } of series) for (const point of points) yield point[coordinate];
}

function onlyIntegers(series: Series[]): boolean {
  return series.every(({ points }) => points.every(([, y]) => Number.isInteger(y)));
}

function drawable(series: Series, xAxis: LinearAxis): Series['points'] {
  return downsampleToColumns(series.points, xAxis.scale);
}

function seriesSvg(series: Series, xAxis: LinearAxis, yAxis: LinearAxis, colour: string): string {
  if (series.points.length === 0) return '';
  return svgElement('path', {
    'data-series': series.name,
    d: linePath(drawable(series, xAxis), xAxis.scale, yAxis.scale),
    fill: 'none',
    stroke: colour,
    'stroke-width': LINE_WIDTH,
    'stroke-linejoin': 'round',
  });
}

function secondarySvg(series: Series, xAxis: LinearAxis, rightAxis: LinearAxis, index: number): string {
  if (series.points.length === 0) return '';
  const { colour, dash } = secondaryStyle(index);
  return svgElement('path', {
    'data-series': series.name,
    'data-axis': 'right',
    d: stepAfterPath(drawable(series, xAxis), xAxis.scale, rightAxis.scale),
    fill: 'none',
    stroke: colour,
    'stroke-width': LINE_WIDTH,
    'stroke-dasharray': dash,
  });
}

/** After the lines' colours, so that a marker never reads as a point of a line. */
function markerColour(series: Series[], index: number): string {
  return seriesColour(series.length + index);
}

function markersSvg(markers: Series, xAxis: LinearAxis, yAxis: LinearAxis, colour: string, shape: MarkerShape): string {
  const drawn = markers.points.map(([x, y]) => markerSvg(shape, xAxis.scale(x), yAxis.scale(y), colour));
  return svgElement('g', { class: 'markers', 'data-series': markers.name }, drawn.join(''));
}

function shadedSvg({ start, end }: Interval, { scale }: LinearAxis, plot: PlotArea): string {
  // A short interval on a long axis would be a hairline, lost among the grid lines.
  const width = Math.max(MIN_SHADED_WIDTH, Math.abs(scale(end) - scale(start)));
  const x = (scale(start) + scale(end)) / 2 - width / 2;
  return svgElement('rect', {
    class: 'shaded',
    x,
    y: plot.top,
    width,
    height: plot.height,
    fill: SHADE.fill,
    'fill-opacity': SHADE.opacity,
  });
}

function legendEntries(series: Series[], secondary: Series[], shaded: LineChartSpec['shaded'], markers: Series[]): LegendEntry[] {
  const entries: LegendEntry[] = series.map((one, index) => ({
    label: labelled(one),
    swatch: { kind: 'line', colour: seriesColour(index) },
  }));
  secondary.forEach((one, index) => {
    entries.push({ label: labelled(one), swatch: { kind: 'line', ...secondaryStyle(index) } });
  });
  markers.forEach((one, index) => {
    entries.push({ label: labelled(one), swatch: { kind: 'marker', shape: seriesMarker(index), colour: markerColour(series, index) } });
  });
  if (shaded && shaded.intervals.length > 0) {
    entries.push({ label: shaded.label, swatch: { kind: 'box', fill: SHADE.fill, opacity: SHADE.opacity } });
  }
  return entries;
}

function labelled({ name, points }: Series): string {
  return points.length === 0 ? `${name} (no data)` : name;
}
