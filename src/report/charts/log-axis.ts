import { scaleLog, type ScaleLogarithmic } from 'd3-scale';
import type { Extent } from './linear-axis.ts';
import { tickFormatter } from './number-format.ts';
import { textWidth } from './text-width.ts';

/** A logarithmic scale with the ticks it shows and their labels. */
export interface LogAxis {
  scale: ScaleLogarithmic<number, number>;
  ticks: number[];
  labels: string[];
}

/** Horizontal room between neighbouring tick labels, in pixels. */
const LABEL_GAP = 12;
/** Ticks within a decade while their labels fit: 1, 2, 5, 10, 20, 50, … */
const SUBDIVISIONS = [1, 2, 5];

/**
 * A logarithmic axis over whole decades, for a positive extent, with as many ticks as fit
 * without their labels touching along it: 1, 2 and 5 times the powers of ten, else the
 * powers of ten, else every second, third, … power.
 */
export function logAxis(extent: Extent, range: Extent, fontSize: number): LogAxis {
  const scale = scaleLog().domain(widenDegenerate(extent)).range(range).nice();
  const [low = 0, high = 0] = scale.domain().map((bound) => Math.round(Math.log10(bound)));
  const choices = tickChoices(low, high).map((ticks) => withLabels(scale, ticks));
  return choices.find((axis) => labelsFit(axis, fontSize)) ?? withLabels(scale, [power(1, low)]);
}

/** Candidate ticks for the decades 10^low to 10^high, densest first. */
function tickChoices(low: number, high: number): number[][] {
  const exponents = Array.from({ length: high - low + 1 }, (_, index) => low + index);
  const subdivided = exponents.flatMap((exponent) =>
    exponent === high ? [power(1, high)] : SUBDIVISIONS.map((multiple) => power(multiple, exponent)),
  );
  const steps = Array.from({ length: high - low }, (_, index) => index + 1);
  const decades = steps.map((step) =>
    exponents.filter((exponent) => exponent % step === 0).map((exponent) => power(1, exponent)),
  );
  return [subdivided, ...decades];
}

/** Exact, unlike multiple * 10 ** exponent (3 * 10 ** -1 is 0.30000000000000004). */
function power(multiple: number, exponent: number): number {
  return Number(`${multiple}e${exponent}`);
}

/** Each label in its own unit: one unit for ticks decades apart would write 0.001 M. */
function withLabels(scale: ScaleLogarithmic<number, number>, ticks: number[]): LogAxis {
  return { scale, ticks, labels: ticks.map((tick) => tickFormatter([tick])(tick)) };
}

/** A one-value extent gets room around it, or there would be no decade to show. */
function widenDegenerate([min, max]: Extent): Extent {
  return min < max ? [min, max] : [min / 2, max * 2];
}

/** Ticks on a log scale are unevenly spaced: every neighbouring pair must leave room for its labels. */
function labelsFit({ scale, ticks, labels }: LogAxis, fontSize: number): boolean {
  return ticks.slice(1).every((tick, index) => {
    const spacing = Math.abs(scale(tick) - scale(ticks[index] ?? tick));
    const halves = (textWidth(labels[index] ?? '', fontSize) + textWidth(labels[index + 1] ?? '', fontSize)) / 2;
    return halves + LABEL_GAP <= spacing;
  });
}
