import { compareCase, DOWNTIME_FLOOR_MS } from './comparison.ts';
import { evolve, type Candidate } from './differential-evolution.ts';
import type { CaseResult, CaseRunner, MigrationCase } from './migration-case.ts';
import { minimize } from './nelder-mead.ts';
import { matchedPassesOf, meanPassLogError } from './pass-comparison.ts';

/** One model parameter the fit may choose, within bounds; `log` ones are searched on a log scale. */
export interface ParameterSpec {
  name: string;
  min: number;
  max: number;
  scale: 'linear' | 'log';
}

export type ParameterValues = Record<string, number>;

export interface FitOptions {
  /** Independent global searches (differential evolution within the bounds, each from its own seed); the best wins. */
  searches: number;
  /** Generations of each search. */
  generations: number;
  /** Candidates per generation. */
  population: number;
}

export interface FitResult {
  values: ParameterValues;
  /** The objective at `values`: mean over the training cases of the per-case loss. */
  loss: number;
  evaluations: number;
}

/** Measured cases, and the model's runner for given parameter values. */
export interface FitProblem {
  parameters: readonly ParameterSpec[];
  cases: readonly { migrationCase: MigrationCase; measured: CaseResult }[];
  predictorFor(values: ParameterValues): CaseRunner;
}

const OUTSIDE_PENALTY = 10;
const POLISH_EVALUATIONS = 1500;
const CONVERGENCE_PENALTY = 3;
/** What the per-pass term of a case's loss weighs against its totals' (caseLoss). */
const PASS_LOSS_WEIGHT = 0.5;

/**
 * Chooses the parameter values whose predictions come closest to the measured cases: the
 * mean per-case loss (absolute log-ratios of total time, bytes and downtime, and of each
 * pass's duration and bytes where both sides have them, plus a large penalty when the model
 * gets convergence wrong: caseLoss), searched over the whole box by differential evolution
 * (a simplex alone stalls in the local minima that parameters standing in for each other
 * make), then finished by Nelder-Mead.
 */
export async function fitParameters(problem: FitProblem, options: FitOptions): Promise<FitResult> {
  const { parameters } = problem;
  const objective = (point: number[]): Promise<number> => meanLoss(problem, valuesAt(parameters, point));
  // Outside the bounds the values are clamped: a growing penalty leads the simplex back in.
  const bounded = async (point: number[]): Promise<number> => (await objective(point)) + OUTSIDE_PENALTY * distanceOutsideUnitCube(point);
  let best: Candidate = { point: [], value: Infinity };
  let evaluations = 0;
  for (let seed = 1; seed <= options.searches; seed++) {
    const population = await evolve(objective, parameters.length, { ...options, weight: 0.7, crossover: 0.9, seed });
    const polished = await minimize(bounded, (population[0] as Candidate).point, { step: 0.05, maxEvaluations: POLISH_EVALUATIONS, tolerance: 1e-9 });
    evaluations += options.population * (options.generations + 1) + polished.evaluations;
    for (const found of [population[0] as Candidate, polished]) if (found.value < best.value) best = found;
  }
  return { values: valuesAt(parameters, best.point), loss: best.value, evaluations };
}

async function meanLoss(problem: Omit<FitProblem, 'parameters'>, values: ParameterValues): Promise<number> {
  const runner = problem.predictorFor(values);
  const signal = new AbortController().signal;
  let sum = 0;
  for (const { migrationCase, measured } of problem.cases) sum += caseLoss(measured, await runner.run(migrationCase, signal), migrationCase);
  await runner.close();
  return sum / problem.cases.length;
}

/**
 * A case's loss: the absolute log-ratios of total time, bytes and downtime (with its floor),
 * or CONVERGENCE_PENALTY when the model gets convergence wrong. Where both sides have
 * progress, PASS_LOSS_WEIGHT x the mean over their matched passes (those the lab measures
 * well: meanPassLogError) of the log-ratios of each pass's duration plus its bytes is added:
 * the passes show where the time goes (the first pass, each resend of what was dirtied),
 * which the totals only sum. At 0.5 the two pass ratios weigh like one of the three totals,
 * so that the totals still dominate. Cases without such passes keep the totals' loss exactly.
 */
export function caseLoss(measured: CaseResult, predicted: CaseResult, migrationCase: MigrationCase): number {
  const comparison = compareCase(migrationCase, measured, predicted);
  if (!comparison.convergenceAgrees) return CONVERGENCE_PENALTY;
  const logRatio = (a: number, b: number): number => Math.abs(Math.log(Math.max(a, 1e-9) / Math.max(b, 1e-9)));
  let loss = logRatio(predicted.total_ms, measured.total_ms) + logRatio(predicted.bytes, measured.bytes);
  if (measured.downtime_ms !== null && predicted.downtime_ms !== null) {
    loss += logRatio(predicted.downtime_ms + DOWNTIME_FLOOR_MS, measured.downtime_ms + DOWNTIME_FLOOR_MS);
  }
  const passes = meanPassLogError(matchedPassesOf(comparison), migrationCase.bandwidthMbps);
  return passes === null ? loss : loss + PASS_LOSS_WEIGHT * passes;
}

function distanceOutsideUnitCube(point: readonly number[]): number {
  return point.reduce((sum, u) => sum + Math.max(0, -u, u - 1), 0);
}

/** Coordinates in [0, 1] per parameter (clamped), so that a step means as much for each. */
function valuesAt(parameters: readonly ParameterSpec[], point: readonly number[]): ParameterValues {
  return Object.fromEntries(parameters.map((spec, i) => [spec.name, fromUnit(spec, point[i] as number)]));
}

function fromUnit(spec: ParameterSpec, unit: number): number {
  const u = Math.min(1, Math.max(0, unit));
  return spec.scale === 'log' ? spec.min * (spec.max / spec.min) ** u : spec.min + u * (spec.max - spec.min);
}
