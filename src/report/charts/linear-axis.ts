import { scaleLinear, type ScaleLinear } from 'd3-scale';
import { tickFormatter } from './number-format.ts';
import { textWidth } from './text-width.ts';

/** A scale with the ticks it shows and their labels. */
export interface LinearAxis {
  scale: ScaleLinear<number, number>;
  ticks: number[];
  labels: string[];
}

export type Extent = [number, number];

/** Horizontal room between neighbouring tick labels, in pixels. */
const LABEL_GAP = 12;
/** Pixels per tick a horizontal axis starts from before thinning out. */
const PIXELS_PER_X_TICK = 60;

export function linearAxis(extent: Extent, range: Extent, tickCount: number, integerTicks = false): LinearAxis {
  const scale = scaleLinear().domain(widenDegenerate(extent)).range(range).nice(tickCount);
  const ticks = scale.ticks(tickCount).filter((tick) => !integerTicks || Number.isInteger(tick));
  const format = tickFormatter(ticks);
  return { scale, ticks, labels: ticks.map(format) };
}

/** A horizontal axis with as many ticks as fit without their labels touching. */
export function horizontalAxis(extent: Extent, range: Extent, fontSize: number): LinearAxis {
  const length = Math.abs(range[1] - range[0]);
  for (let count = Math.floor(length / PIXELS_PER_X_TICK); count > 2; count--) {
    const axis = linearAxis(extent, range, count);
    if (labelsFit(axis, fontSize)) return axis;
  }
  return linearAxis(extent, range, 2);
}

/** The smallest and largest of the values, or undefined when there are none. */
export function extentOf(values: Iterable<number>): Extent | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return min <= max ? [min, max] : undefined;
}

/** A one-value extent gets room around it, or the scale would map everything to one end. */
function widenDegenerate([min, max]: Extent): Extent {
  if (min < max) return [min, max];
  if (min === 0) return [0, 1];
  const pad = Math.abs(min) * 0.1;
  return [min - pad, max + pad];
}

function labelsFit({ scale, ticks, labels }: LinearAxis, fontSize: number): boolean {
  if (ticks.length < 2) return true;
  const spacing = Math.abs(scale(ticks[1] ?? 0) - scale(ticks[0] ?? 0));
  const widest = labels.reduce((max, label) => Math.max(max, textWidth(label, fontSize)), 0);
  return widest + LABEL_GAP <= spacing;
}
