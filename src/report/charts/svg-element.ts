import { escapeXml } from './xml.ts';

export type Attributes = Record<string, string | number | undefined>;

/**
 * An SVG element: string attributes escaped, numbers to at most two decimals, undefined
 * ones left out; `content` is markup (escape text yourself); without it the tag self-closes.
 */
export function svgElement(name: string, attributes: Attributes, content?: string): string {
  const written = Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${typeof value === 'number' ? svgNumber(value) : escapeXml(value)}"`)
    .join('');
  return content === undefined ? `<${name}${written}/>` : `<${name}${written}>${content}</${name}>`;
}

/** Two decimals are finer than any screen shows. */
export function svgNumber(value: number): number {
  return Math.round(value * 100) / 100;
}
