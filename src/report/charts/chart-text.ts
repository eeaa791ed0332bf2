import type { PlotArea } from './axes.ts';
import { FONT_SIZE, MARGIN } from './style.ts';
import { centredBaseline, svgText } from './text.ts';
import { fitText } from './text-width.ts';

const TITLE_BASELINE = 26;

export function chartTitleSvg(title: string, chartWidth: number): string {
  const fitted = fitText(title, chartWidth - 2 * MARGIN, FONT_SIZE.title, true);
  return svgText(fitted, { x: chartWidth / 2, y: TITLE_BASELINE, size: FONT_SIZE.title, anchor: 'middle', bold: true });
}

/** Said in the plot when there is nothing to draw, so an empty chart is not mistaken for a broken one. */
export function noDataSvg(plot: PlotArea): string {
  return svgText('no data', {
    x: plot.left + plot.width / 2,
    y: centredBaseline(plot.top + plot.height / 2, FONT_SIZE.title),
    size: FONT_SIZE.title,
    anchor: 'middle',
    fill: '#888888',
  });
}
