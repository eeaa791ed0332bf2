import { SeededRandom } from '../seeded-random.ts';

export interface EvolutionOptions {
  /** Candidates per generation. */
  population: number;
  generations: number;
  /** Differential weight and crossover rate (Storn and Price's F and CR). */
  weight: number;
  crossover: number;
  seed: number;
}

export interface Candidate {
  point: number[];
  value: number;
}

/**
 * Storn and Price's differential evolution (rand/1/bin) in the unit cube: a global search
 * that needs only values of `f`, robust where a simplex stalls in a local minimum. Returns
 * the final population, best first. Deterministic for a given seed.
 */
export async function evolve(f: (point: number[]) => Promise<number>, dimensions: number, options: EvolutionOptions): Promise<Candidate[]> {
  const random = new SeededRandom(options.seed);
  const population: Candidate[] = [];
  for (let i = 0; i < options.population; i++) {
    const point = Array.from({ length: dimensions }, () => random.next());
    population.push({ point, value: await f(point) });
  }
  const pick = (exclude: number[]): number => {
    for (;;) {
      const index = Math.floor(random.next() * population.length);
      if (!exclude.includes(index)) return index;
    }
  };
  for (let generation = 0; generation < options.generations; generation++) {
    for (let i = 0; i < population.length; i++) {
      const a = pick([i]);
      const b = pick([i, a]);
      const c = pick([i, a, b]);
      const [base, plus, minus] = [a, b, c].map((index) => (population[index] as Candidate).point) as [number[], number[], number[]];
      const current = population[i] as Candidate;
      const forced = Math.floor(random.next() * dimensions);
      const trial = current.point.map((x, d) => {
        if (d !== forced && random.next() >= options.crossover) return x;
        const mutated = (base[d] as number) + options.weight * ((plus[d] as number) - (minus[d] as number));
        return Math.min(1, Math.max(0, mutated));
      });
      const value = await f(trial);
      if (value <= current.value) population[i] = { point: trial, value };
    }
  }
  return population.sort((x, y) => x.value - y.value);
}
