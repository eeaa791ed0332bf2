/** Summary statistics of a stream of values; all null when there were none. */
export interface Stats {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Sample standard deviation (divides by n − 1); 0 for a single value. */
  std: number | null;
}

/** Accumulates values one at a time in constant memory (Welford's algorithm, stable for long streams). */
export class RunningStats {
  #count = 0;
  #mean = 0;
  #squaredDeviations = 0;
  #min = Infinity;
  #max = -Infinity;

  add(value: number): void {
    this.#count++;
    const delta = value - this.#mean;
    this.#mean += delta / this.#count;
    this.#squaredDeviations += delta * (value - this.#mean);
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  get count(): number {
    return this.#count;
  }

  stats(): Stats {
    if (this.#count === 0) return { count: 0, min: null, max: null, mean: null, std: null };
    return {
      count: this.#count,
      min: this.#min,
      max: this.#max,
      mean: this.#mean,
      // One value does not vary: 0 rather than the undefined 0/0.
      std: this.#count === 1 ? 0 : Math.sqrt(this.#squaredDeviations / (this.#count - 1)),
    };
  }
}

/** How much `other` differs from `base`, in percent of `base`; null when either is missing or `base` is 0. */
export function percentChange(base: number | null, other: number | null): number | null {
  if (base === null || other === null || base === 0) return null;
  return ((other - base) / base) * 100;
}

/** The middle value (the mean of the two middle ones for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The least-squares line through points `[x, y]`; null for fewer than two distinct x. */
export function leastSquaresLine(points: readonly (readonly [number, number])[]): { slope: number; intercept: number } | null {
  if (points.length < 2) return null;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const sxx = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  if (sxx <= 0) return null;
  const slope = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0) / sxx;
  return { slope, intercept: meanY - slope * meanX };
}

/**
 * The nearest-rank percentiles of `values`: for each p in `ps` (0 < p ≤ 100), the smallest
 * value that at least p % of them do not exceed; null for none.
 */
export function percentiles(values: readonly number[], ps: readonly number[]): (number | null)[] {
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => (sorted.length === 0 ? null : (sorted[Math.max(0, Math.ceil((p * sorted.length) / 100) - 1)] as number)));
}

/** The standard deviation of the values as a whole population (divides by n); null for none. */
export function populationStd(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
}
