/**
 * The mean of one metric series over the samples newer than `afterMs`, or undefined when
 * there is none.
 *
 * `times` are the samples' timestamps (ms), in whatever order the server gave them (vCenter:
 * oldest first; vcsim 0.24: newest first); `values` are aligned with them. Negative values
 * are vCenter's "no data" and are left out. Some servers (vcsim 0.24, through Go's encoder)
 * leave zero values out of the series: when `values` is shorter than `times`, the values
 * cannot be matched with their times, so the mean is taken over every returned sample, the
 * missing ones counted as the zeros they were.
 */
export function averageSeries(times: readonly number[], values: readonly number[], afterMs: number): number | undefined {
  if (times.length === 0) return undefined;
  if (values.length !== times.length) {
    const present = values.filter((v) => v >= 0);
    return present.reduce((sum, v) => sum + v, 0) / times.length;
  }
  let sum = 0;
  let count = 0;
  for (const [index, time] of times.entries()) {
    const value = values[index] as number;
    if (!(time > afterMs) || value < 0) continue;
    sum += value;
    count++;
  }
  return count > 0 ? sum / count : undefined;
}
