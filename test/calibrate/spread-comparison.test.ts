import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gridSchema, casesOf, settingsOf } from '../../src/calibrate/grid.ts';
import { pooledSpreadTable, quantile, repeatedCasesOf, spreadTable } from '../../src/calibrate/spread-comparison.ts';
import { compareCase } from '../../src/calibrate/comparison.ts';
import { simCaseRunner, simLabModelOf, SAVED_LAB_CONSTANTS } from '../../src/platforms/sim/calibration-runner.ts';
import type { ParameterValues } from '../../src/calibrate/fit.ts';

const VALUES: ParameterValues = { setupSeconds: 0.001, switchoverSeconds: 0.004, stopAndCopyMBps: 2000, guestOsMB: 50 };
const signal = new AbortController().signal;

describe('repeated cases and their spread', () => {
  it('takes quantiles between the closest ranks', () => {
    assert.equal(quantile([3, 1, 2, 4, 5], 0.5), 3);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.ok(Math.abs((quantile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9) as number) - 91) < 1e-9);
    assert.equal(quantile([], 0.5), null);
  });

  it('repeats each case of a grid that says so, the sim drawing each repetition\'s costs from its own seed', async () => {
    const grid = gridSchema.parse({ ramMB: [256], workloads: ['idle', { dirty: 20 }], bandwidthMbps: [1000], downtimeLimitMs: [300], repeat: 5 });
    const cases = casesOf(grid);
    assert.deepEqual(cases.map((c) => c.id).slice(0, 5), [1, 2, 3, 4, 5].map((r) => `ram256-idle-bw1000-dl300-r${r}`));
    assert.deepEqual(cases.map((c) => c.repetition).slice(0, 5), [1, 2, 3, 4, 5]);

    const predict = async (costSpread: number) => {
      const model = simLabModelOf(VALUES, SAVED_LAB_CONSTANTS);
      const runner = simCaseRunner({ ...model, migration: { ...model.migration, costSpread } }, settingsOf(grid));
      const results = [];
      for (const migrationCase of cases) results.push(await runner.run(migrationCase, signal));
      return results;
    };
    const steady = await predict(0);
    const spread = await predict(0.5);
    const setups = (results: typeof steady) => results.slice(0, 5).map((r) => r.setup_ms as number);
    assert.equal(new Set(setups(steady)).size, 1, 'no spread: every repetition alike');
    assert.equal(new Set(setups(spread)).size, 5, 'each repetition its own draw');
    assert.deepEqual(setups(await predict(0.5)), setups(spread), 'the same seeds, the same draws');

    const comparisons = cases.map((c, i) => compareCase(c, steady[i]!, spread[i]!));
    const repeated = repeatedCasesOf(comparisons);
    assert.deepEqual(repeated.map((r) => [r.id, r.comparisons.length]), [['ram256-idle-bw1000-dl300', 5], ['ram256-dirty64x20-bw1000-dl300', 5]]);
    const table = spreadTable(repeated);
    assert.equal(table.rows.length, 2);
    const [measuredSetup, predictedSetup] = [table.rows[0]![4] as string, table.rows[0]![5] as string];
    assert.match(measuredSetup, /^(\d+) \/ \1 \/ \1$/, 'the steady "measurements" do not vary');
    assert.doesNotMatch(predictedSetup, /^(\d+) \/ \1 \/ \1$/, `the spread predictions do: ${predictedSetup}`);

    const pooled = pooledSpreadTable(repeated);
    const setupRow = pooled.rows.find((row) => String(row[0]).startsWith('setup'));
    assert.equal(setupRow?.[1], 10, 'both cases\' repetitions pooled');
    assert.equal(setupRow?.[4], 0, 'the steady side does not spread');
    assert.ok((setupRow?.[5] as number) > 10, `a σ of 0.5 spreads setups by tens of %: ${setupRow?.[5]}`);
    assert.equal(setupRow?.[6], 'no');
    const alike = pooledSpreadTable(repeatedCasesOf(cases.map((c, i) => compareCase(c, spread[i]!, spread[i]!))));
    assert.deepEqual(alike.rows.map((row) => row[6]), ['yes', 'yes', 'yes'], 'a spread agrees with itself');
  });

  it('finds no repeated case in a grid that does not repeat', () => {
    const grid = gridSchema.parse({ ramMB: [256], workloads: ['idle'], bandwidthMbps: [1000], downtimeLimitMs: [300] });
    const [only] = casesOf(grid);
    const result = { id: only!.id, converged: true, total_ms: 1, downtime_ms: 1, setup_ms: 1, bytes: 1, passes: 3, reason: '' };
    assert.deepEqual(repeatedCasesOf([compareCase(only!, result, result)]), []);
  });
});
