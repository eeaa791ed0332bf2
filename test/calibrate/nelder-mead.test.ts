import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minimize } from '../../src/calibrate/nelder-mead.ts';

test('finds the minimum of Rosenbrock\'s valley', async () => {
  const rosenbrock = async ([x, y]: number[]): Promise<number> => (1 - x!) ** 2 + 100 * (y! - x! ** 2) ** 2;
  const { point, evaluations } = await minimize(rosenbrock, [-1.2, 1], { step: 0.5, maxEvaluations: 2000, tolerance: 1e-12 });
  assert.ok(Math.abs(point[0]! - 1) < 1e-3 && Math.abs(point[1]! - 1) < 1e-3, `${point}`);
  assert.ok(evaluations <= 2000);
});

test('stops after the evaluations it is given', async () => {
  let calls = 0;
  const counted = async ([x]: number[]): Promise<number> => {
    calls++;
    return Math.abs(x! - 3);
  };
  const { evaluations } = await minimize(counted, [0], { step: 1, maxEvaluations: 10, tolerance: 0 });
  assert.equal(evaluations, calls);
  assert.ok(calls <= 10 + 1, `${calls} calls`);
});
