import type { DecisionRecord } from '../record/records.ts';

/**
 * The hours hosts spent in standby, all together: from each of DPM's `standby` rows to that
 * host's next `power-on` row, or to `endS` (the run's end) when it slept on to the end.
 */
export function standbyHours(decisions: readonly DecisionRecord[], endS: number): number {
  const asleepSince = new Map<string, number>();
  let seconds = 0;
  for (const decision of decisions) {
    if (decision.policy !== 'dpm') continue;
    if (decision.outcome === 'standby') asleepSince.set(decision.source, decision.time_s);
    const since = asleepSince.get(decision.source);
    if (decision.outcome === 'power-on' && since !== undefined) {
      seconds += decision.time_s - since;
      asleepSince.delete(decision.source);
    }
  }
  for (const since of asleepSince.values()) seconds += Math.max(0, endS - since);
  return seconds / 3600;
}
