import type { MarkerShape } from './markers.ts';

export interface LineStyle {
  colour: string;
  dash: string;
}

/** Okabe and Ito's colour-blind-safe palette, without its yellow: too pale on white. */
const SERIES_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9'] as const;

/** Secondary lines are dark and dashed, so they read as a different kind of line than the series. */
const SECONDARY_STYLES: readonly [LineStyle, ...LineStyle[]] = [
  { colour: '#000000', dash: '7 4' },
  { colour: '#666666', dash: '2 3' },
  { colour: '#000000', dash: '10 3 2 3' },
  { colour: '#666666', dash: '7 4' },
];

/** Shapes as well as colours tell the points of series apart, in grey print too. */
const MARKER_SHAPES: readonly [MarkerShape, ...MarkerShape[]] = ['circle', 'square', 'triangle', 'diamond'];

export const SHADE = { fill: '#8c8c8c', opacity: 0.3 } as const;

/** y = x on a scatter chart: thin and dark, a reference rather than data. */
export const DIAGONAL_COLOUR = '#333333';

export const TIMELINE_COLOURS = {
  bar: '#0072B2',
  mark: '#E69F00',
  failedOutline: '#C00000',
  /** No pattern fill: pattern ids would clash when several charts share one HTML page. */
  failedFill: '#f4c7c3',
  rowStripe: '#f4f4f4',
} as const;

export function seriesColour(index: number): string {
  return cycle(SERIES_COLOURS, index);
}

export function seriesMarker(index: number): MarkerShape {
  return cycle(MARKER_SHAPES, index);
}

export function secondaryStyle(index: number): LineStyle {
  return cycle(SECONDARY_STYLES, index);
}

function cycle<T>(items: readonly [T, ...T[]], index: number): T {
  return items[index % items.length] ?? items[0];
}
