import { compareCase, summarize, type CaseComparison, type ErrorSummary } from './comparison.ts';
import { fitParameters, type FitOptions, type FitResult, type ParameterSpec, type ParameterValues } from './fit.ts';
import type { CaseResult, CaseRunner, MigrationCase } from './migration-case.ts';

export interface CalibrationProblem {
  cases: readonly MigrationCase[];
  measured: ReadonlyMap<string, CaseResult>;
  parameters: readonly ParameterSpec[];
  predictorFor(values: ParameterValues): CaseRunner;
  fit: FitOptions;
}

export interface Calibration {
  fitted: FitResult;
  /** Every case, measured next to what the fitted model predicts. */
  comparisons: CaseComparison[];
  /** Errors on the cases the fit used, and on the held-out half it never saw. */
  training: ErrorSummary;
  heldOut: ErrorSummary;
}

/** Fits the model on the training half of the measured cases, then predicts every case with it. */
export async function calibrate(problem: CalibrationProblem): Promise<Calibration> {
  const measuredOf = (migrationCase: MigrationCase): CaseResult => {
    const result = problem.measured.get(migrationCase.id);
    if (!result) throw new Error(`calibrate: no measurement for ${migrationCase.id}`);
    return result;
  };
  const training = problem.cases.filter((migrationCase) => migrationCase.training);
  const fitted = await fitParameters(
    {
      parameters: problem.parameters,
      cases: training.map((migrationCase) => ({ migrationCase, measured: measuredOf(migrationCase) })),
      predictorFor: problem.predictorFor,
    },
    problem.fit,
  );
  const predictor = problem.predictorFor(fitted.values);
  const signal = new AbortController().signal;
  const comparisons: CaseComparison[] = [];
  for (const migrationCase of problem.cases) {
    comparisons.push(compareCase(migrationCase, measuredOf(migrationCase), await predictor.run(migrationCase, signal)));
  }
  await predictor.close();
  return {
    fitted,
    comparisons,
    training: summarize(comparisons.filter((comparison) => comparison.migrationCase.training)),
    heldOut: summarize(comparisons.filter((comparison) => !comparison.migrationCase.training)),
  };
}
