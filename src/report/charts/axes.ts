import { AXIS_COLOUR, FONT_SIZE, GRID_COLOUR } from './style.ts';
import { svgElement } from './svg-element.ts';
import { centredBaseline, svgText } from './text.ts';
import { fitText, textWidth } from './text-width.ts';

/** What an axis draws: where a value goes, and the ticks it shows with their labels. */
export interface Axis {
  scale: (value: number) => number;
  ticks: number[];
  labels: string[];
}

export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

const TICK_LENGTH = 5;
const LABEL_GAP = 4;
const TITLE_GAP = 10;
/** Below a glyph's baseline, as a fraction of the font size (DejaVu's descent). */
const DESCENT = 0.24;

/** Room under the plot for the x axis' ticks, labels and title. */
export const X_AXIS_HEIGHT =
  TICK_LENGTH + LABEL_GAP + FONT_SIZE.tick + TITLE_GAP + FONT_SIZE.axisTitle * (1 + DESCENT);

export function xAxisSvg({ scale, ticks, labels }: Axis, plot: PlotArea, title: string): string {
  const bottom = plot.top + plot.height;
  const parts = [line(plot.left, bottom, plot.left + plot.width, bottom)];
  ticks.forEach((tick, index) => {
    const x = scale(tick);
    parts.push(line(x, bottom, x, bottom + TICK_LENGTH));
    const baseline = bottom + TICK_LENGTH + LABEL_GAP + FONT_SIZE.tick;
    parts.push(svgText(labels[index] ?? '', { x, y: baseline, size: FONT_SIZE.tick, anchor: 'middle' }));
  });
  parts.push(
    svgText(fitText(title, plot.width, FONT_SIZE.axisTitle), {
      x: plot.left + plot.width / 2,
      y: bottom + X_AXIS_HEIGHT - FONT_SIZE.axisTitle * DESCENT,
      size: FONT_SIZE.axisTitle,
      anchor: 'middle',
    }),
  );
  return group('x-axis', parts);
}

/** How far a vertical axis reaches out from the plot: ticks, labels and its title. */
export function verticalAxisWidth({ labels }: Axis): number {
  const widest = labels.reduce((max, label) => Math.max(max, textWidth(label, FONT_SIZE.tick)), 0);
  return TICK_LENGTH + LABEL_GAP + widest + TITLE_GAP + FONT_SIZE.axisTitle;
}

export function yAxisSvg(axis: Axis, plot: PlotArea, side: 'left' | 'right', title: string): string {
  const { scale, ticks, labels } = axis;
  const x = side === 'left' ? plot.left : plot.left + plot.width;
  const outwards = side === 'left' ? -1 : 1;
  const parts = [line(x, plot.top, x, plot.top + plot.height)];
  ticks.forEach((tick, index) => {
    const y = scale(tick);
    parts.push(line(x, y, x + outwards * TICK_LENGTH, y));
    parts.push(
      svgText(labels[index] ?? '', {
        x: x + outwards * (TICK_LENGTH + LABEL_GAP),
        y: centredBaseline(y, FONT_SIZE.tick),
        size: FONT_SIZE.tick,
        anchor: side === 'left' ? 'end' : 'start',
      }),
    );
  });
  // Rotated a quarter turn anticlockwise, the glyphs' tops face left: the baseline sits at
  // the band's right side, less the descent.
  const outerEdge = x + outwards * verticalAxisWidth(axis);
  const bandRight = side === 'left' ? outerEdge + FONT_SIZE.axisTitle : outerEdge;
  const titleX = bandRight - FONT_SIZE.axisTitle * DESCENT;
  const titleY = plot.top + plot.height / 2;
  parts.push(
    svgText(fitText(title, plot.height, FONT_SIZE.axisTitle), {
      x: titleX,
      y: titleY,
      size: FONT_SIZE.axisTitle,
      anchor: 'middle',
      rotate: -90,
    }),
  );
  return group(`y-axis-${side}`, parts);
}

export function verticalGridSvg({ scale, ticks }: Axis, plot: PlotArea): string {
  const lines = ticks.map((tick) => line(scale(tick), plot.top, scale(tick), plot.top + plot.height, GRID_COLOUR));
  return group('grid', lines);
}

export function horizontalGridSvg({ scale, ticks }: Axis, plot: PlotArea): string {
  const lines = ticks.map((tick) => line(plot.left, scale(tick), plot.left + plot.width, scale(tick), GRID_COLOUR));
  return group('grid', lines);
}

function line(x1: number, y1: number, x2: number, y2: number, colour = AXIS_COLOUR): string {
  return svgElement('line', { x1, y1, x2, y2, stroke: colour, 'stroke-width': 1 });
}

function group(className: string, parts: string[]): string {
  return svgElement('g', { class: className, 'shape-rendering': 'crispEdges' }, parts.join(''));
}
