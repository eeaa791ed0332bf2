import type { ActionRecord, DecisionRecord } from '../record/records.ts';
import type { TimeSpan } from './interval-index.ts';

type Cause = 'maintenance' | 'power';
const CAUSES: readonly Cause[] = ['maintenance', 'power'];

/** A host leaves DRS's reckoning at one of these moments and comes back at another, for each cause apart. */
interface Change {
  timeS: number;
  host: string;
  cause: Cause;
  leaves: boolean;
}

/** `maintenance enter|exit HOST`, as it fired. */
function maintenanceChange(action: ActionRecord): Change | undefined {
  if (action.action !== 'maintenance' || action.status !== 'fired') return undefined;
  const [mode, host = ''] = action.args.split(' ');
  return mode === 'enter' || mode === 'exit' ? { timeS: action.fired_s, host, cause: 'maintenance', leaves: mode === 'enter' } : undefined;
}

/**
 * DPM's power changes: a host is out from `power-off` (its emptying starts) until `done`
 * (awake) or, when the platform would not power it down, a `failed` row naming no VM.
 */
function powerChange(decision: DecisionRecord): Change | undefined {
  if (decision.policy !== 'dpm') return undefined;
  const { time_s: timeS, source: host } = decision;
  if (decision.outcome === 'power-off') return { timeS, host, cause: 'power', leaves: true };
  if (decision.outcome === 'done' || (decision.outcome === 'failed' && decision.vm === '')) return { timeS, host, cause: 'power', leaves: false };
  return undefined;
}

/**
 * When DRS leaves each host out of its spread: while in maintenance (the actions that fired),
 * and while not powered on (DPM's decisions). Out from the moment it left up to, not
 * including, the moment it came back; for good when it never came back.
 */
export class HostsLeftOut {
  readonly #spansOf = new Map<string, TimeSpan[]>();

  constructor(actions: readonly ActionRecord[], decisions: readonly DecisionRecord[]) {
    const changes = [...actions.map(maintenanceChange), ...decisions.map(powerChange)].filter((change) => change !== undefined);
    for (const { timeS, host, cause, leaves } of changes.sort((a, b) => a.timeS - b.timeS)) {
      const spans = this.#spansOf.get(spansKey(host, cause)) ?? [];
      if (leaves) spans.push({ start: timeS, end: Infinity });
      else if (spans.length > 0) (spans.at(-1) as TimeSpan).end = timeS;
      this.#spansOf.set(spansKey(host, cause), spans);
    }
  }

  has(host: string, timeS: number): boolean {
    return CAUSES.some((cause) => (this.#spansOf.get(spansKey(host, cause)) ?? []).some((span) => span.start <= timeS && timeS < span.end));
  }
}

function spansKey(host: string, cause: Cause): string {
  return `${cause} ${host}`;
}
