import { svgElement } from './svg-element.ts';
import { FONT_FAMILY, type Size } from './style.ts';

/** A standalone SVG document on a white background; also fine to inline in HTML. */
export function svgDocument({ width, height }: Size, body: string, defs = ''): string {
  const attributes = {
    xmlns: 'http://www.w3.org/2000/svg',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    'font-family': FONT_FAMILY,
  };
  const content = [
    defs === '' ? '' : `<defs>${defs}</defs>`,
    svgElement('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    body,
  ];
  return svgElement('svg', attributes, `\n${content.filter(Boolean).join('\n')}\n`);
}
