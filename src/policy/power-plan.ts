/**
 * DPM's choice as a pure function: wake a host in standby, put one into standby, or neither,
 * from the hosts' CPU use over capacity.
 */
import type { PolicyLevel } from '../script/experiment.ts';

export interface PoweredHost {
  host: string;
  capacityMHz: number;
  /** Mean CPU over the power-off history (undefined: not a whole history since the last power change). */
  longMHz: number | undefined;
  /** Mean CPU over the power-on history, and where its trend is heading a wake time ahead (falling too). */
  recentMHz: number;
  forecastMHz: number;
  vms: number;
  /** A migration from or to it is running. */
  busy: boolean;
}

export interface PowerSettings {
  targetUtilization: number;
  tolerance: number;
  minHostsOn: number;
}

export type PowerChoice =
  | { kind: 'power-on'; host: string; reason: string }
  | { kind: 'power-off'; host: string; reason: string }
  | { kind: 'none'; reason: string };

/**
 * The most a level lets the hosts left on carry, on average, after one goes into standby:
 * level 1 powers nothing off; 2 to 5 go from the target range's low end to midway between
 * target and high end. Chosen; vSphere says only that higher levels are more aggressive.
 */
export function powerOffCeiling(level: PolicyLevel, settings: PowerSettings): number | undefined {
  const { targetUtilization: target, tolerance } = settings;
  const ceilings: Record<PolicyLevel, number | undefined> = {
    1: undefined,
    2: target - tolerance,
    3: target - tolerance / 2,
    4: target,
    5: target + tolerance / 2,
  };
  return ceilings[level];
}

const percent = (fraction: number): string => `${(fraction * 100).toFixed(0)} %`;

/**
 * By the hosts' total, which migrations only move between them (one host above the range is
 * DRS's to balance): power-on comes first, at every level, when the hosts on carry more than
 * the range's high end, or are heading past it by the time a host could be awake; it wakes
 * the first host in standby. Power-off: with the hosts on carrying less than the range's low
 * end over a whole history, the emptiest host goes if the others can carry its load under the
 * level's ceiling.
 */
export function choosePower(on: readonly PoweredHost[], standby: readonly string[], level: PolicyLevel, settings: PowerSettings): PowerChoice {
  const high = settings.targetUtilization + settings.tolerance;
  const low = settings.targetUtilization - settings.tolerance;
  const capacityMHz = on.reduce((sum, host) => sum + host.capacityMHz, 0);
  const now = on.reduce((sum, host) => sum + host.recentMHz, 0) / capacityMHz;
  const ahead = on.reduce((sum, host) => sum + host.forecastMHz, 0) / capacityMHz;
  const [first] = standby;
  if (Math.max(now, ahead) > high) {
    const why = `the hosts on carry ${percent(now)}, heading for ${percent(ahead)} by the time a host wakes: above the target range's ${percent(high)}`;
    return first === undefined ? { kind: 'none', reason: `${why}, but no host is in standby` } : { kind: 'power-on', host: first, reason: why };
  }
  const ceiling = powerOffCeiling(level, settings);
  if (ceiling === undefined) return { kind: 'none', reason: 'level 1 wakes hosts, never powers them off' };
  if (on.length <= settings.minHostsOn) return { kind: 'none', reason: `${on.length} host${on.length === 1 ? '' : 's'} on, the fewest allowed` };
  if (on.some((host) => host.longMHz === undefined)) return { kind: 'none', reason: 'not a whole power-off history since the last power change or migration' };
  const demandMHz = on.reduce((sum, host) => sum + (host.longMHz ?? 0), 0);
  if (demandMHz / capacityMHz >= low) return { kind: 'none', reason: `the hosts carry ${percent(demandMHz / capacityMHz)}, not below the target range's ${percent(low)}` };
  const candidates = on.filter((host) => !host.busy);
  const emptiest = [...candidates].sort((a, b) => a.vms - b.vms || (a.longMHz ?? 0) / a.capacityMHz - (b.longMHz ?? 0) / b.capacityMHz)[0];
  if (emptiest === undefined) return { kind: 'none', reason: 'every host is migrating' };
  const after = demandMHz / (capacityMHz - emptiest.capacityMHz);
  if (after > ceiling) return { kind: 'none', reason: `the others would carry ${percent(after)}, above level ${level}'s ${percent(ceiling)}` };
  return { kind: 'power-off', host: emptiest.host, reason: `the hosts carry ${percent(demandMHz / capacityMHz)}; without ${emptiest.host} ${percent(after)}, within level ${level}'s ${percent(ceiling)}` };
}
