export type Point = [number, number];

interface Column {
  index: number;
  first: Point;
  lowest: Point;
  highest: Point;
  last: Point;
}

/**
 * Keeps, per pixel column, the first, lowest, highest and last point: at most four points
 * a column, yet spikes survive and the line still joins neighbouring columns.
 * `column` maps an x value to its (fractional) pixel column; points must be in x order.
 */
export function downsampleToColumns(points: readonly Point[], column: (x: number) => number): Point[] {
  const kept: Point[] = [];
  let current: Column | undefined;
  for (const point of points) {
    const index = Math.floor(column(point[0]));
    if (current?.index === index) {
      if (point[1] < current.lowest[1]) current.lowest = point;
      if (point[1] > current.highest[1]) current.highest = point;
      current.last = point;
    } else {
      if (current) kept.push(...representatives(current));
      current = { index, first: point, lowest: point, highest: point, last: point };
    }
  }
  if (current) kept.push(...representatives(current));
  return kept;
}

function representatives({ first, lowest, highest, last }: Column): Point[] {
  return [...new Set([first, lowest, highest, last])].sort((a, b) => a[0] - b[0]);
}
