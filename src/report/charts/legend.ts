import { markerSvg, type MarkerShape } from './markers.ts';
import { FONT_SIZE } from './style.ts';
import { svgElement } from './svg-element.ts';
import { centredBaseline, svgText } from './text.ts';
import { fitText, textWidth } from './text-width.ts';

export type Swatch =
  | { kind: 'line'; colour: string; dash?: string }
  | { kind: 'box'; fill: string; opacity?: number; stroke?: string }
  | { kind: 'marker'; shape: MarkerShape; colour: string };

export interface LegendEntry {
  label: string;
  swatch: Swatch;
}

export interface LegendArea {
  left: number;
  top: number;
  width: number;
}

const ROW_HEIGHT = 20;
const SWATCH_WIDTH = 24;
const SWATCH_HEIGHT = 12;
const SWATCH_GAP = 6;
const ENTRY_GAP = 22;
const PADDING = 6;

/** Entries in centred rows that wrap to the width; `height` is what the legend adds below `top`. */
export function legendSvg(entries: readonly LegendEntry[], area: LegendArea): { svg: string; height: number } {
  if (entries.length === 0) return { svg: '', height: 0 };
  const rows = wrapIntoRows(entries.map((entry) => sized(entry, area.width)), area.width);
  const parts = rows.map((row, index) => {
    const rowWidth = row.reduce((sum, entry) => sum + entry.width, 0) - ENTRY_GAP;
    let x = area.left + (area.width - rowWidth) / 2;
    const y = area.top + PADDING + ROW_HEIGHT * index + ROW_HEIGHT / 2;
    return row
      .map((entry) => {
        const svg = entrySvg(entry, x, y);
        x += entry.width;
        return svg;
      })
      .join('');
  });
  return { svg: svgElement('g', { class: 'legend' }, parts.join('')), height: PADDING * 2 + ROW_HEIGHT * rows.length };
}

interface SizedEntry extends LegendEntry {
  /** Including the gap after it. */
  width: number;
}

function sized(entry: LegendEntry, maxWidth: number): SizedEntry {
  const label = fitText(entry.label, maxWidth - SWATCH_WIDTH - SWATCH_GAP, FONT_SIZE.legend);
  return { ...entry, label, width: SWATCH_WIDTH + SWATCH_GAP + textWidth(label, FONT_SIZE.legend) + ENTRY_GAP };
}

function wrapIntoRows(entries: SizedEntry[], width: number): SizedEntry[][] {
  const rows: SizedEntry[][] = [];
  let row: SizedEntry[] = [];
  let used = 0;
  for (const entry of entries) {
    if (row.length > 0 && used + entry.width - ENTRY_GAP > width) {
      rows.push(row);
      row = [];
      used = 0;
    }
    row.push(entry);
    used += entry.width;
  }
  rows.push(row);
  return rows;
}

function entrySvg({ label, swatch }: SizedEntry, x: number, y: number): string {
  const textX = x + SWATCH_WIDTH + SWATCH_GAP;
  const text = svgText(label, { x: textX, y: centredBaseline(y, FONT_SIZE.legend), size: FONT_SIZE.legend });
  return svgElement('g', { class: 'legend-entry' }, swatchSvg(swatch, x, y) + text);
}

function swatchSvg(swatch: Swatch, x: number, y: number): string {
  if (swatch.kind === 'line') {
    const { colour, dash } = swatch;
    const ends = { x1: x, y1: y, x2: x + SWATCH_WIDTH, y2: y };
    return svgElement('line', { ...ends, stroke: colour, 'stroke-width': 2, 'stroke-dasharray': dash });
  }
  if (swatch.kind === 'marker') return markerSvg(swatch.shape, x + SWATCH_WIDTH / 2, y, swatch.colour);
  return svgElement('rect', {
    x,
    y: y - SWATCH_HEIGHT / 2,
    width: SWATCH_WIDTH,
    height: SWATCH_HEIGHT,
    fill: swatch.fill,
    'fill-opacity': swatch.opacity,
    stroke: swatch.stroke,
    'stroke-width': swatch.stroke === undefined ? undefined : 1.5,
  });
}
