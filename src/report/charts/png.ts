import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';

const OPTIONS: ResvgRenderOptions = {
  font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  fitTo: { mode: 'original' },
};
const PROBE =
  '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><text x="2" y="15" font-size="12">A</text></svg>';

let fontFound: boolean | undefined;

/** Renders an SVG document to PNG at its own size. */
export function svgToPng(svg: string): Buffer {
  if (!(fontFound ??= canRenderText())) {
    throw new Error('no font found to render chart text; install one, e.g. `apt-get install fonts-dejavu-core`');
  }
  return new Resvg(svg, OPTIONS).render().asPng();
}

/** resvg silently drops text it has no font for, leaving nothing to measure. */
function canRenderText(): boolean {
  return new Resvg(PROBE, OPTIONS).getBBox() !== undefined;
}
