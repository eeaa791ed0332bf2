import type { Point } from './downsample.ts';
import { svgElement, svgNumber } from './svg-element.ts';

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond';

/** Of a circle; the other shapes get the same area, so that none looks weightier. */
const RADIUS = 4;
const AREA = Math.PI * RADIUS ** 2;
/** See-through enough to show where points overlap. */
const FILL_OPACITY = 0.7;

/** A point marker centred on (x, y). */
export function markerSvg(shape: MarkerShape, x: number, y: number, colour: string): string {
  const paint = { fill: colour, 'fill-opacity': FILL_OPACITY, stroke: colour, 'stroke-width': 1 };
  if (shape === 'circle') return svgElement('circle', { cx: x, cy: y, r: RADIUS, ...paint });
  return svgElement('polygon', { points: outline(shape, x, y).map(pointText).join(' '), ...paint });
}

function outline(shape: Exclude<MarkerShape, 'circle'>, x: number, y: number): Point[] {
  if (shape === 'square') {
    const half = Math.sqrt(AREA) / 2;
    return [[x - half, y - half], [x + half, y - half], [x + half, y + half], [x - half, y + half]];
  }
  if (shape === 'diamond') {
    const half = Math.sqrt(AREA / 2);
    return [[x, y - half], [x + half, y], [x, y + half], [x - half, y]];
  }
  // Equilateral, pointing up, centred on its centroid.
  const side = Math.sqrt((4 * AREA) / Math.sqrt(3));
  const height = (side * Math.sqrt(3)) / 2;
  return [[x, y - (2 * height) / 3], [x + side / 2, y + height / 3], [x - side / 2, y + height / 3]];
}

function pointText([x, y]: Point): string {
  return `${svgNumber(x)},${svgNumber(y)}`;
}
