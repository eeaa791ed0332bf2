/**
 * Max-min fair shares of `capacity` among `demands`: nobody gets more than it asks, and
 * what the modest leave is split evenly among the rest. When all fits, the demands themselves
 * are the shares (the same array, not a copy: this runs at every event).
 */
export function waterFill(capacity: number, demands: readonly number[]): readonly number[] {
  let total = 0;
  for (const demand of demands) total += demand;
  if (total <= capacity) return demands;
  const order = demands.map((_, i) => i).sort((a, b) => (demands[a] as number) - (demands[b] as number));
  const shares = new Array<number>(demands.length).fill(0);
  let left = capacity;
  let waiting = demands.length;
  for (const i of order) {
    const share = Math.min(demands[i] as number, left / waiting);
    shares[i] = share;
    left -= share;
    waiting--;
  }
  return shares;
}
