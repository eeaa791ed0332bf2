import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecisionRecord } from '../../src/record/records.ts';
import { standbyHours } from '../../src/report/standby-time.ts';

const row = (time_s: number, outcome: DecisionRecord['outcome'], source: string, policy: DecisionRecord['policy'] = 'dpm'): DecisionRecord => ({
  time_s, policy, level: 3, loads: '', spread: null, outcome, vm: '', source, target: '', reason: '',
});

describe('hours in standby', () => {
  it('runs from each standby to the host\'s next power-on, or to the run\'s end', () => {
    const decisions = [
      row(100, 'power-off', 'a'), row(160, 'standby', 'a'),
      row(200, 'standby', 'b'),
      row(1960, 'power-on', 'a'), row(2140, 'done', 'a'),
      row(3000, 'none', 'b', 'drs'),
    ];
    // a: 160-1960 (1800 s); b: 200 to the end at 3800 (3600 s).
    assert.equal(standbyHours(decisions, 3800), 1.5);
  });

  it('counts nothing without standby, and only DPM\'s rows', () => {
    assert.equal(standbyHours([row(10, 'power-on', 'a'), row(20, 'standby', 'a', 'drs')], 100), 0);
  });
});
