export interface MinimizeOptions {
  /** The simplex's first step along each coordinate. */
  step: number;
  maxEvaluations: number;
  /** Stop when the simplex's values differ by less than this. */
  tolerance: number;
}

export interface Minimum {
  point: number[];
  value: number;
  evaluations: number;
}

/**
 * Nelder and Mead's downhill simplex: needs only values of `f`, which suits an objective
 * made of simulations (piecewise, with jumps where a case stops converging).
 */
export async function minimize(f: (point: number[]) => Promise<number>, start: number[], options: MinimizeOptions): Promise<Minimum> {
  let evaluations = 0;
  const evaluate = async (point: number[]): Promise<{ point: number[]; value: number }> => {
    evaluations++;
    return { point, value: await f(point) };
  };
  const simplex = [await evaluate(start)];
  for (let i = 0; i < start.length; i++) {
    simplex.push(await evaluate(start.map((x, j) => (j === i ? x + options.step : x))));
  }
  const combine = (a: number[], b: number[], t: number): number[] => a.map((x, i) => x + t * ((b[i] as number) - x));

  while (evaluations < options.maxEvaluations) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0] as { point: number[]; value: number };
    const worst = simplex[simplex.length - 1] as { point: number[]; value: number };
    const secondWorst = simplex[simplex.length - 2] as { point: number[]; value: number };
    if (worst.value - best.value < options.tolerance) break;
    const others = simplex.slice(0, -1);
    const centroid = start.map((_, i) => others.reduce((sum, vertex) => sum + (vertex.point[i] as number), 0) / others.length);

    const reflected = await evaluate(combine(centroid, worst.point, -1));
    if (reflected.value < best.value) {
      const expanded = await evaluate(combine(centroid, worst.point, -2));
      simplex[simplex.length - 1] = expanded.value < reflected.value ? expanded : reflected;
    } else if (reflected.value < secondWorst.value) {
      simplex[simplex.length - 1] = reflected;
    } else {
      const outside = reflected.value < worst.value;
      const contracted = await evaluate(combine(centroid, worst.point, outside ? -0.5 : 0.5));
      if (contracted.value < (outside ? reflected.value : worst.value)) {
        simplex[simplex.length - 1] = contracted;
      } else {
        for (let i = 1; i < simplex.length; i++) simplex[i] = await evaluate(combine(best.point, (simplex[i] as { point: number[] }).point, 0.5));
      }
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  const best = simplex[0] as { point: number[]; value: number };
  return { point: best.point, value: best.value, evaluations };
}
