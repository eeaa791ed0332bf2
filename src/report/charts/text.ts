import { svgElement, svgNumber } from './svg-element.ts';
import { TEXT_COLOUR } from './style.ts';
import { escapeXml } from './xml.ts';

export interface TextOptions {
  x: number;
  y: number;
  size: number;
  anchor?: 'start' | 'middle' | 'end';
  /** Degrees, around (x, y). */
  rotate?: number;
  bold?: boolean;
  fill?: string;
}

export function svgText(content: string, options: TextOptions): string {
  const { x, y, size, anchor = 'start', rotate, bold = false, fill = TEXT_COLOUR } = options;
  const attributes = {
    x,
    y,
    'font-size': size,
    'text-anchor': anchor,
    fill,
    'font-weight': bold ? 'bold' : undefined,
    transform: rotate === undefined ? undefined : `rotate(${rotate} ${svgNumber(x)} ${svgNumber(y)})`,
  };
  return svgElement('text', attributes, escapeXml(content));
}

/** The baseline that centres a line of text vertically on y. */
export function centredBaseline(y: number, fontSize: number): number {
  return y + fontSize * 0.35;
}
