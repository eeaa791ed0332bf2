/** Mean and maximum of the values in consecutive time buckets: [bucket middle (s), mean, max]. */
export interface BucketSeries {
  bucketSeconds: number;
  points: [number, number, number][];
}

/** Fine buckets kept while streaming; their width grows tenfold whenever the times outgrow them. */
const FINE_BUCKETS = 10_000;

/**
 * Values bucketed by time in constant memory when the time range is not known in advance:
 * fine buckets (10^k ms wide) that are merged tenfold as later times arrive.
 */
export class TimeBuckets {
  #widthMs = 1;
  #sums = new Float64Array(FINE_BUCKETS);
  #counts = new Float64Array(FINE_BUCKETS);
  #maxima = new Float64Array(FINE_BUCKETS).fill(-Infinity);
  #used = 0;

  add(timeS: number, value: number): void {
    let index = this.#indexOf(timeS);
    while (index >= FINE_BUCKETS) {
      this.#coarsen();
      index = this.#indexOf(timeS);
    }
    this.#sums[index] = (this.#sums[index] as number) + value;
    this.#counts[index] = (this.#counts[index] as number) + 1;
    if (value > (this.#maxima[index] as number)) this.#maxima[index] = value;
    if (index >= this.#used) this.#used = index + 1;
  }

  /** The buckets, as wide as a 1-2-5 step allows for at most `maxBuckets` of them; empty ones left out. */
  series(maxBuckets = 1000): BucketSeries {
    const factor = this.#mergeFactor(maxBuckets);
    const widthMs = this.#widthMs * factor;
    const points: [number, number, number][] = [];
    for (let first = 0; first < this.#used; first += factor) {
      let sum = 0;
      let count = 0;
      let max = -Infinity;
      for (let i = first; i < Math.min(first + factor, this.#used); i++) {
        sum += this.#sums[i] as number;
        count += this.#counts[i] as number;
        max = Math.max(max, this.#maxima[i] as number);
      }
      if (count > 0) points.push([((first / factor + 0.5) * widthMs) / 1000, sum / count, max]);
    }
    return { bucketSeconds: widthMs / 1000, points };
  }

  #indexOf(timeS: number): number {
    return Math.max(0, Math.floor((timeS * 1000) / this.#widthMs));
  }

  #coarsen(): void {
    const sums = new Float64Array(FINE_BUCKETS);
    const counts = new Float64Array(FINE_BUCKETS);
    const maxima = new Float64Array(FINE_BUCKETS).fill(-Infinity);
    for (let i = 0; i < this.#used; i++) {
      const merged = Math.floor(i / 10);
      sums[merged] = (sums[merged] as number) + (this.#sums[i] as number);
      counts[merged] = (counts[merged] as number) + (this.#counts[i] as number);
      maxima[merged] = Math.max(maxima[merged] as number, this.#maxima[i] as number);
    }
    this.#sums = sums;
    this.#counts = counts;
    this.#maxima = maxima;
    this.#widthMs *= 10;
    this.#used = Math.ceil(this.#used / 10);
  }

  /** The smallest number of fine buckets per output bucket giving a 1, 2 or 5 × 10^k ms width and at most `maxBuckets`. */
  #mergeFactor(maxBuckets: number): number {
    const neededMs = (this.#used * this.#widthMs) / maxBuckets;
    for (let decade = this.#widthMs; ; decade *= 10) {
      for (const step of [1, 2, 5]) {
        const widthMs = decade * step;
        if (widthMs >= neededMs) return widthMs / this.#widthMs;
      }
    }
  }
}
