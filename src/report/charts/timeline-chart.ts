import type { Interval, TimelineBar, TimelineSpec } from '../chart-model.ts';
import { verticalGridSvg, X_AXIS_HEIGHT, xAxisSvg, type PlotArea } from './axes.ts';
import { chartTitleSvg, noDataSvg } from './chart-text.ts';
import { legendSvg, type LegendEntry } from './legend.ts';
import { extentOf, horizontalAxis, type LinearAxis } from './linear-axis.ts';
import { TIMELINE_COLOURS } from './palette.ts';
import { DEFAULT_SIZE, FONT_SIZE, MARGIN, TITLE_BAND, type Size } from './style.ts';
import { svgDocument } from './svg-document.ts';
import { svgElement } from './svg-element.ts';
import { centredBaseline, svgText } from './text.ts';
import { fitText, textWidth } from './text-width.ts';

/** Enough for a row label to stay readable; more rows make the chart taller instead. */
const MIN_ROW_HEIGHT = 18;
const MAX_BAR_HEIGHT = 20;
/**
 * Short bars and marks (seconds in hours, milliseconds in seconds) are widened to stay
 * visible; a bar more so, so that its mark does not cover it.
 */
const MIN_BAR_WIDTH = 4;
const MIN_MARK_WIDTH = 2;
/** How far a mark sticks out above and below its bar. */
const MARK_OVERHANG = 2;
const MAX_LABEL_SHARE = 0.3;
const LABEL_GAP = 8;
const RIGHT_MARGIN = 28;
const FAILED_LEGEND = 'failed or interrupted';

type Scale = (value: number) => number;

/**
 * A timeline as a standalone SVG document: one row per label, each bar from start to end
 * with its mark inside. Many rows make it taller rather than cramped.
 */
export function renderTimeline(spec: TimelineSpec, size: Size = DEFAULT_SIZE): string {
  const labelWidth = Math.min(
    spec.rows.reduce((max, { label }) => Math.max(max, textWidth(label, FONT_SIZE.rowLabel)), 0),
    size.width * MAX_LABEL_SHARE,
  );
  const left = MARGIN + labelWidth + LABEL_GAP;
  const available = size.height - TITLE_BAND - X_AXIS_HEIGHT;
  const rowHeight = Math.max(MIN_ROW_HEIGHT, available / Math.max(1, spec.rows.length));
  const plot: PlotArea = {
    left,
    top: TITLE_BAND,
    width: size.width - RIGHT_MARGIN - left,
    height: spec.rows.length === 0 ? available : rowHeight * spec.rows.length,
  };
  const xAxis = horizontalAxis(timeExtent(spec), [plot.left, plot.left + plot.width], FONT_SIZE.tick);
  const height = plot.top + plot.height + X_AXIS_HEIGHT;
  const legend = legendSvg(legendEntries(spec), { left: MARGIN, top: height, width: size.width - 2 * MARGIN });
  const bars = spec.rows.flatMap(({ bars }) => bars);

  const body = [
    chartTitleSvg(spec.title, size.width),
    ...spec.rows.map((_, index) => (index % 2 === 1 ? stripeSvg(plot, rowHeight, index) : '')),
    verticalGridSvg(xAxis, plot),
    ...spec.rows.flatMap(({ label, bars }, index) => {
      const centre = plot.top + rowHeight * (index + 0.5);
      const barsSvg = bars.map((bar) => barSvg(bar, xAxis, centre, rowHeight));
      return [rowLabelSvg(label, labelWidth, left - LABEL_GAP, centre), ...barsSvg];
    }),
    xAxisSvg(xAxis, plot, spec.xLabel),
    bars.length === 0 ? noDataSvg(plot) : '',
    legend.svg,
  ];
  return svgDocument(
    { width: size.width, height: Math.ceil(height + legend.height) },
    body.filter(Boolean).join('\n'),
  );
}

function timeExtent({ rows }: TimelineSpec): [number, number] {
  const intervals = rows.flatMap(({ bars }) => bars.flatMap((bar) => (bar.mark ? [bar, bar.mark] : [bar])));
  const times = intervals.flatMap(({ start, end }) => [start, end]);
  return extentOf(times.filter(Number.isFinite)) ?? [0, 1];
}

function barSvg(bar: TimelineBar, { scale }: LinearAxis, centre: number, rowHeight: number): string {
  const thickness = Math.min(rowHeight * 0.6, MAX_BAR_HEIGHT);
  const svg = svgElement('rect', {
    class: 'timeline-bar',
    ...span(bar, scale, MIN_BAR_WIDTH),
    y: centre - thickness / 2,
    height: thickness,
    fill: bar.failed ? TIMELINE_COLOURS.failedFill : TIMELINE_COLOURS.bar,
    stroke: bar.failed ? TIMELINE_COLOURS.failedOutline : undefined,
    'stroke-width': bar.failed ? 1.5 : undefined,
  });
  if (!bar.mark) return svg;
  const markHeight = thickness + 2 * MARK_OVERHANG;
  return (
    svg +
    svgElement('rect', {
      class: 'timeline-mark',
      ...span(bar.mark, scale, MIN_MARK_WIDTH),
      y: centre - markHeight / 2,
      height: markHeight,
      fill: TIMELINE_COLOURS.mark,
    })
  );
}

/** Where an interval is drawn, widened around its middle to at least minWidth. */
function span({ start, end }: Interval, scale: Scale, minWidth: number): { x: number; width: number } {
  const width = Math.max(minWidth, Math.abs(scale(end) - scale(start)));
  return { x: (scale(start) + scale(end)) / 2 - width / 2, width };
}

function rowLabelSvg(label: string, maxWidth: number, right: number, centre: number): string {
  return svgText(fitText(label, maxWidth, FONT_SIZE.rowLabel), {
    x: right,
    y: centredBaseline(centre, FONT_SIZE.rowLabel),
    size: FONT_SIZE.rowLabel,
    anchor: 'end',
  });
}

/** Every other row lightly shaded, so the eye follows a row across a wide chart. */
function stripeSvg(plot: PlotArea, rowHeight: number, index: number): string {
  const y = plot.top + rowHeight * index;
  const fill = TIMELINE_COLOURS.rowStripe;
  return svgElement('rect', { x: plot.left, y, width: plot.width, height: rowHeight, fill });
}

function legendEntries(spec: TimelineSpec): LegendEntry[] {
  const entries: LegendEntry[] = [
    { label: spec.barLegend, swatch: { kind: 'box', fill: TIMELINE_COLOURS.bar } },
    { label: spec.markLegend, swatch: { kind: 'box', fill: TIMELINE_COLOURS.mark } },
  ];
  if (spec.rows.some(({ bars }) => bars.some(({ failed }) => failed))) {
    const swatch = { kind: 'box', fill: TIMELINE_COLOURS.failedFill, stroke: TIMELINE_COLOURS.failedOutline } as const;
    entries.push({ label: FAILED_LEGEND, swatch });
  }
  return entries;
}
