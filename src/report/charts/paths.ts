import type { Point } from './downsample.ts';

type Scale = (value: number) => number;

/** Path data joining the points with straight lines. */
export function linePath(points: readonly Point[], x: Scale, y: Scale): string {
  return points.map(([px, py], index) => `${index === 0 ? 'M' : 'L'}${round(x(px))},${round(y(py))}`).join('');
}

/** Path data holding each value until the next point's x (d3's step-after). */
export function stepAfterPath(points: readonly Point[], x: Scale, y: Scale): string {
  return points
    .map(([px, py], index) => (index === 0 ? `M${round(x(px))},${round(y(py))}` : `H${round(x(px))}V${round(y(py))}`))
    .join('');
}

/** A tenth of a pixel: finer is invisible, and paths hold thousands of coordinates. */
function round(value: number): number {
  return Math.round(value * 10) / 10;
}
