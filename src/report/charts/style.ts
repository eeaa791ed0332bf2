export interface Size {
  width: number;
  height: number;
}

/** Before the legend, which adds to the height. */
export const DEFAULT_SIZE: Size = { width: 900, height: 420 };

export const FONT_FAMILY = 'DejaVu Sans, sans-serif';

export const FONT_SIZE = { title: 15, axisTitle: 13, tick: 11, legend: 12, rowLabel: 12 } as const;

/** Space around the whole chart. */
export const MARGIN = 12;

/** Height above the plot holding the title. */
export const TITLE_BAND = 40;

export const TEXT_COLOUR = '#222222';
export const AXIS_COLOUR = '#444444';
export const GRID_COLOUR = '#e4e4e4';
