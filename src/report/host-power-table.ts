import type { PolicyRun } from './load-runs.ts';
import type { Table } from './table.ts';

/** Each host's energy and hours in standby, a row per host of each run that metered power or slept hosts. */
export function hostPowerTable(runs: readonly PolicyRun[]): Table {
  return {
    id: 'host-power',
    title: 'Placement policy: energy and standby per host',
    caption:
      "Per run and host: the energy it drew (its power.power.average integrated over its sampling intervals; empty where it " +
      "reports no power) and the hours it spent in standby (from each of DPM's 'standby' decisions for it to its next " +
      "'power-on', or the run's end).",
    columns: [
      { header: 'run', kind: 'text' },
      { header: 'host', kind: 'text' },
      { header: 'energy [Wh]', kind: 'number' },
      { header: 'in standby [h]', kind: 'number' },
    ],
    rows: runs.flatMap((run) => run.policy.hosts.map((host) => [run.label, host.host, host.energyWh, host.standbyHours])),
  };
}

/** Whether any run has a host that metered power or slept. */
export function hasHostPower(runs: readonly PolicyRun[]): boolean {
  return runs.some((run) => run.policy.hosts.length > 0);
}
