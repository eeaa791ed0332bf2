import type { PlotArea } from './axes.ts';
import type { Point } from './downsample.ts';

/** One side of a rectangle: the points whose `coordinate` is at least (1) or at most (−1) `bound`. */
interface HalfPlane {
  coordinate: 0 | 1;
  bound: number;
  direction: 1 | -1;
}

/**
 * The part of a polygon inside the area (Sutherland and Hodgman's algorithm). Drawn shapes
 * are cut in the geometry rather than by an SVG clip path, whose id could clash with another
 * chart's on the same HTML page.
 */
export function clipToArea(polygon: readonly Point[], { left, top, width, height }: PlotArea): Point[] {
  const sides: HalfPlane[] = [
    { coordinate: 0, bound: left, direction: 1 },
    { coordinate: 0, bound: left + width, direction: -1 },
    { coordinate: 1, bound: top, direction: 1 },
    { coordinate: 1, bound: top + height, direction: -1 },
  ];
  return sides.reduce(clipToHalfPlane, [...polygon]);
}

function clipToHalfPlane(polygon: Point[], { coordinate, bound, direction }: HalfPlane): Point[] {
  const inside = (point: Point): boolean => (point[coordinate] - bound) * direction >= 0;
  const crossing = (from: Point, to: Point): Point => {
    const along = (bound - from[coordinate]) / (to[coordinate] - from[coordinate]);
    return [from[0] + along * (to[0] - from[0]), from[1] + along * (to[1] - from[1])];
  };
  return polygon.flatMap((point, index) => {
    const previous = polygon.at(index - 1) ?? point;
    const entering = inside(point) !== inside(previous) ? [crossing(previous, point)] : [];
    return inside(point) ? [...entering, point] : entering;
  });
}
