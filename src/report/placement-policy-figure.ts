import type { DecisionRecord } from '../record/records.ts';
import type { Series } from './chart-model.ts';
import { renderLineChart } from './charts/line-chart.ts';
import type { Figure } from './figure.ts';
import type { PolicyRun } from './load-runs.ts';
import { isPolicyMigration } from './migration-kinds.ts';

/** The last value at or before `timeS`; before the first point, the first. */
function valueAt(points: readonly [number, number][], timeS: number): number | undefined {
  let value = points[0]?.[1];
  for (const [time, spread] of points) {
    if (time > timeS) break;
    value = spread;
  }
  return value;
}

/** One marker set per policy, in the order they first moved a VM. */
function moveMarkers(decisions: readonly DecisionRecord[], spread: readonly [number, number][]): Series[] {
  const byPolicy = new Map<string, Series>();
  for (const decision of decisions) {
    if (decision.outcome !== 'move') continue;
    const name = `${decision.policy} move`;
    const markers = byPolicy.get(name) ?? { name, points: [] };
    markers.points.push([decision.time_s, decision.spread ?? valueAt(spread, decision.time_s) ?? 0]);
    byPolicy.set(name, markers);
  }
  return [...byPolicy.values()];
}

/** The spread of host load over the run, each move of the policy a marker, its migrations shaded. */
export function placementPolicyFigure(run: PolicyRun): Figure {
  const { spread, decisions } = run.policy;
  const title = `Host load spread of ${run.label}`;
  return {
    id: `policy-spread-${run.fileId}`,
    title,
    caption:
      "Spread at each sample: the population standard deviation of the CPU use over capacity (cpu.usagemhz over run.json's " +
      'host_cpu_mhz) of the hosts DRS weighs (on and out of maintenance), at every sample: what the hosts went through, ' +
      "whether or not the policy looked. The spread the policy saw: decisions.csv's spread, from DRS's averages over the " +
      'samples since the last migration, each time it looked. Each marker is a move the policy decided, at its time and at ' +
      "the spread it acted on (a move that records none, maintenance's or DPM's, on the first line): the moves of one cycle " +
      "step down, each expecting to leave less. Shaded: the policy's migrations, from request to end.",
    svg: renderLineChart({
      title,
      xLabel: 'time [s]',
      yLabel: 'spread of host CPU use',
      series: [
        { name: 'spread at each sample', points: spread.points },
        { name: 'spread the policy saw', points: decisions.flatMap((d): [number, number][] => (d.spread === null ? [] : [[d.time_s, d.spread]])) },
      ],
      markers: moveMarkers(decisions, spread.points),
      shaded: {
        label: 'policy migration',
        intervals: run.migrations.filter((m) => isPolicyMigration(m.kind)).map((m) => ({ start: m.requested_s, end: m.ended_s })),
      },
    }),
  };
}
