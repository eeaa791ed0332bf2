import type { DecisionRecord } from '../record/records.ts';

/**
 * The hours each host spent in standby: from each of DPM's `standby` rows to that host's next
 * `power-on` row, or to `endS` (the run's end) when it slept on to the end.
 */
export function standbyHoursByHost(decisions: readonly DecisionRecord[], endS: number): Map<string, number> {
  const asleepSince = new Map<string, number>();
  const seconds = new Map<string, number>();
  const add = (host: string, span: number): void => void seconds.set(host, (seconds.get(host) ?? 0) + Math.max(0, span));
  for (const decision of decisions) {
    if (decision.policy !== 'dpm') continue;
    if (decision.outcome === 'standby') asleepSince.set(decision.source, decision.time_s);
    const since = asleepSince.get(decision.source);
    if (decision.outcome === 'power-on' && since !== undefined) {
      add(decision.source, decision.time_s - since);
      asleepSince.delete(decision.source);
    }
  }
  for (const [host, since] of asleepSince) add(host, endS - since);
  return new Map([...seconds].map(([host, total]) => [host, total / 3600]));
}

/** The hours of all hosts together. */
export function standbyHours(decisions: readonly DecisionRecord[], endS: number): number {
  return [...standbyHoursByHost(decisions, endS).values()].reduce((sum, hours) => sum + hours, 0);
}
