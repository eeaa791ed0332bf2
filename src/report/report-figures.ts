import type { MigrationRecord } from '../record/records.ts';
import type { Interval, TimelineBar } from './chart-model.ts';
import { renderLineChart } from './charts/line-chart.ts';
import { renderTimeline } from './charts/timeline-chart.ts';
import type { Figure } from './figure.ts';
import type { RunSummary } from './load-runs.ts';
import { slug } from './names.ts';

function shortCounterName(counter: string): string {
  return counter.replace(/\.average$/, '');
}

/** The seed's Figures 2 to 6 (and net.usage): one chart per counter, one line per run, VMs on the host on a second axis. */
export function counterFigures(runs: readonly RunSummary[], host: string | undefined): Figure[] {
  const first = runs[0];
  if (!first || host === undefined) return [];
  return first.counters.counters.map((template, index) => {
    const name = shortCounterName(template.counter);
    return {
      id: `counter-${slug(name)}`,
      title: `${name} on ${host}`,
      caption:
        `${template.counter} of host ${host}, as sampled (each point the average over the sampling interval), one line per run; ` +
        'the dashed step line is the number of VMs on the host at each sample (right axis).',
      svg: renderLineChart({
        title: `${name} on ${host}`,
        xLabel: 'time [s]',
        yLabel: `${name} [${template.unit}]`,
        series: runs.map((run) => ({ name: run.label, points: run.counters.counters[index]?.points ?? [] })),
        secondary: {
          label: 'VMs on host',
          series: runs.map((run) => ({ name: runs.length > 1 ? `VMs (${run.label})` : 'VMs on host', points: run.counters.vmCount })),
        },
      }),
    };
  });
}

function migrationBar(migration: MigrationRecord): TimelineBar {
  const bar: TimelineBar = { start: migration.requested_s, end: migration.ended_s, failed: migration.status !== 'succeeded' };
  if (migration.downtime_ms !== null && migration.downtime_ms > 0) {
    bar.mark = { start: migration.ended_s - migration.downtime_ms / 1000, end: migration.ended_s };
  }
  return bar;
}

/** One bar per migration, a row per VM: overlaps and postponements at a glance. */
export function timelineFigure(run: RunSummary): Figure {
  const vms = [...new Set(run.migrations.map((m) => m.vm))].sort();
  return {
    id: `timeline-${run.fileId}`,
    title: `Migrations of ${run.label}`,
    caption:
      'Each bar is a migration, from the migrate request to its end (setup migrations included); the orange mark at its end is ' +
      'the downtime the platform reported; failed or interrupted migrations are drawn in red.',
    svg: renderTimeline({
      title: `Migrations of ${run.label}`,
      xLabel: 'time [s]',
      rows: vms.map((vm) => ({ label: vm, bars: run.migrations.filter((m) => m.vm === vm).map(migrationBar) })),
      barLegend: 'migration',
      markLegend: 'downtime',
    }),
  };
}

/** Client latency over time, migrations shaded. */
export function latencyFigure(run: RunSummary): Figure {
  const shaded: Interval[] = run.migrations.map((m) => ({ start: m.requested_s, end: m.ended_s }));
  const bucket = run.latency.bucketSeconds;
  return {
    id: `latency-${run.fileId}`,
    title: `Client latency of ${run.label}`,
    caption:
      `Latency of the requests answered 'ok', grouped by the time the answer arrived into ${bucket} s buckets: the mean and ` +
      'the maximum of each bucket. Shaded: the migrations.',
    svg: renderLineChart({
      title: `Client latency of ${run.label}`,
      xLabel: 'time [s]',
      yLabel: 'latency [ms]',
      series: [
        { name: `mean per ${bucket} s`, points: run.latency.points.map(([t, mean]) => [t, mean]) },
        { name: `max per ${bucket} s`, points: run.latency.points.map(([t, , max]) => [t, max]) },
      ],
      shaded: { label: 'migration', intervals: shaded },
    }),
  };
}
