/** What a chart draws, in plain data: the charts know nothing of runs or counters. */

export interface Series {
  name: string;
  /** [x, y] points in x order. */
  points: [number, number][];
}

export interface Interval {
  start: number;
  end: number;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Drawn as step lines against a second y axis on the right. */
  secondary?: { label: string; series: Series[] };
  /** Shaded x ranges behind the lines (e.g. migrations), with a legend entry. */
  shaded?: { label: string; intervals: Interval[] };
  /** Point markers over the lines against the left axis (e.g. events), a shape and colour per set, each in the legend. */
  markers?: Series[];
}

export interface TimelineBar extends Interval {
  /** Marked inside the bar, e.g. the downtime. */
  mark?: Interval;
  /** Bars that failed or were interrupted are drawn differently. */
  failed?: boolean;
}

export interface TimelineSpec {
  title: string;
  xLabel: string;
  /** One row per label (e.g. VM), top to bottom. */
  rows: { label: string; bars: TimelineBar[] }[];
  barLegend: string;
  markLegend: string;
}

export interface ScatterChartSpec {
  title: string;
  /** E.g. 'measured total time (ms)'. */
  xLabel: string;
  /** E.g. 'predicted total time (ms)'. */
  yLabel: string;
  /** One colour and legend entry per series, e.g. 'fitted cases', 'held-out cases'. */
  series: { name: string; points: { x: number; y: number }[] }[];
  /**
   * Log scales on both axes (values span decades); points ≤ 0 cannot be drawn on them and
   * are left out, and the chart says how many.
   */
  logScale: boolean;
  /** Draw y = x across the plot, and optionally a band of ±fraction around it (e.g. 0.1 for ±10 %). */
  diagonal: { band: number | null };
}
