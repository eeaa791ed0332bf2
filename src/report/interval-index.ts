/** A closed stretch of time, in seconds. */
export interface TimeSpan {
  start: number;
  end: number;
}

/**
 * Intervals sorted by start, to ask in O(log n) whether a span overlaps any of them. Spans
 * that only touch an interval at one instant do not overlap it: nothing happened during it.
 */
export class IntervalIndex {
  readonly #starts: Float64Array;
  /** The latest end among the intervals up to each index, so overlapping intervals need no special case. */
  readonly #latestEnds: Float64Array;
  readonly #merged: TimeSpan[];

  constructor(intervals: readonly TimeSpan[]) {
    const sorted = [...intervals].sort((a, b) => a.start - b.start);
    this.#starts = Float64Array.from(sorted, (interval) => interval.start);
    this.#latestEnds = new Float64Array(sorted.length);
    let latestEnd = -Infinity;
    sorted.forEach((interval, i) => {
      latestEnd = Math.max(latestEnd, interval.end);
      this.#latestEnds[i] = latestEnd;
    });
    this.#merged = mergeOverlapping(sorted);
  }

  overlaps(start: number, end: number): boolean {
    // The intervals starting before `end` are the first `low`; one of them overlaps if it ends after `start`.
    let low = 0;
    let high = this.#starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#starts[middle] as number) < end) low = middle + 1;
      else high = middle;
    }
    return low > 0 && (this.#latestEnds[low - 1] as number) > start;
  }

  /** Seconds of [start, end] that lie inside some interval. */
  coveredSeconds(start: number, end: number): number {
    let covered = 0;
    for (const interval of this.#merged) {
      covered += Math.max(0, Math.min(end, interval.end) - Math.max(start, interval.start));
    }
    return covered;
  }
}

function mergeOverlapping(sortedByStart: readonly TimeSpan[]): TimeSpan[] {
  const merged: TimeSpan[] = [];
  for (const { start, end } of sortedByStart) {
    const last = merged.at(-1);
    if (last !== undefined && start <= last.end) last.end = Math.max(last.end, end);
    else merged.push({ start, end });
  }
  return merged;
}
