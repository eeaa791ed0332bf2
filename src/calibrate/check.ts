import { compareCase, type CaseComparison } from './comparison.ts';
import type { CaseRunner, CaseSettings, MeasuredCase } from './migration-case.ts';

/**
 * Predicts measured cases with a model as it stands, no fitting, and sets each prediction
 * beside its measurement. Cases may be run differently (warm-up, timeout): each is predicted
 * by a runner for its own settings.
 */
export async function checkCases(cases: readonly MeasuredCase[], predictorFor: (settings: CaseSettings) => CaseRunner): Promise<CaseComparison[]> {
  const signal = new AbortController().signal;
  const comparisons: CaseComparison[] = [];
  for (const { migrationCase, settings, measured } of cases) {
    const predictor = predictorFor(settings);
    try {
      comparisons.push(compareCase(migrationCase, measured, await predictor.run(migrationCase, signal)));
    } finally {
      await predictor.close();
    }
  }
  return comparisons;
}
