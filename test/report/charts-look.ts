// Renders sample charts to PNG for a person to look at; not a test.
// npx tsx src/cli/main.ts run samples/3.1/memory2.txt --out /tmp/ch-run >/dev/null
// npx tsx test/report/charts-look.ts /tmp/ch-run /tmp/charts-look
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LineChartSpec, Series, TimelineSpec } from '../../src/report/chart-model.ts';
import { renderLineChart } from '../../src/report/charts/line-chart.ts';
import { svgToPng } from '../../src/report/charts/png.ts';
import { renderTimeline } from '../../src/report/charts/timeline-chart.ts';

const [runDir = '/tmp/ch-run', outDir = '/tmp/charts-look'] = process.argv.slice(2);
const HOST = 'esx6';

function rows(file: string): Record<string, string>[] {
  const [header = '', ...lines] = readFileSync(join(runDir, file), 'utf8').trim().split('\n');
  const names = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, index) => [names[index], value])));
}

const samples = rows('samples.csv').filter((row) => row.host === HOST);
const migrations = rows('migrations.csv');

function counter(name: string, label: string, scale = 1): Series {
  return {
    name: label,
    points: samples.filter((row) => row.counter === name).map((row) => [Number(row.time_s), Number(row.value) * scale]),
  };
}

function interval(migration: Record<string, string>): { start: number; end: number } {
  return { start: Number(migration.started_s), end: Number(migration.ended_s) };
}

const vmCount = counter('vm.count', 'VMs on esx6');
const onHost = migrations.filter((row) => row.source === HOST || row.target === HOST);
const shaded = {
  label: 'migration to or from esx6',
  intervals: onHost.map(interval),
};

const charts: Record<string, string> = {};
function line(id: string, spec: LineChartSpec, size?: { width: number; height: number }): void {
  charts[id] = renderLineChart(spec, size);
}

line('mem-consumed', {
  title: 'mem.consumed on esx6',
  xLabel: 'time (s)',
  yLabel: 'mem.consumed (KB)',
  series: [
    counter('mem.consumed.average', 'memory2'),
    counter('mem.consumed.average', 'memory (faked)', 0.6),
    counter('mem.consumed.average', 'cpu (faked)', 0.3),
  ],
  secondary: { label: 'VMs on host', series: [vmCount] },
});
line('cpu', {
  title: 'cpu.usagemhz on esx6',
  xLabel: 'time (s)',
  yLabel: 'cpu.usagemhz (MHz)',
  series: [counter('cpu.usagemhz.average', 'memory2')],
  secondary: { label: 'VMs on host', series: [vmCount] },
  shaded,
});
line(
  'net-small',
  {
    title: 'net.usage on esx6, drawn small, with a rather long title that has to be shortened to fit',
    xLabel: 'time since the start of the run (s)',
    yLabel: 'net.usage (KBps)',
    series: [counter('net.usage.average', 'memory2')],
    secondary: { label: 'VMs on host', series: [vmCount] },
    shaded,
  },
  { width: 600, height: 300 },
);
line('swap', {
  title: 'mem.swapused on esx6',
  xLabel: 'time (s)',
  yLabel: 'mem.swapused (KB)',
  series: [counter('mem.swapused.average', 'memory2')],
});
line('latency', {
  title: 'Client latency & <migrations>',
  xLabel: 'time sent (s)',
  yLabel: 'latency (s)',
  series: [
    {
      name: 'memory2',
      points: rows('requests.csv')
        .map((row) => [Number(row.sent_s), Number(row.latency_ms) / 1000] as [number, number])
        .sort((a, b) => a[0] - b[0]),
    },
  ],
  shaded: { label: 'migration', intervals: migrations.map(interval) },
});
line('many-series', {
  title: 'Twelve series with long names, to check the legend wraps',
  xLabel: 'time (s)',
  yLabel: 'value',
  series: Array.from({ length: 12 }, (_, index) => ({
    name: `run ${index + 1}: light-memory2 scenario ${index % 3}`,
    points: Array.from({ length: 50 }, (_, t) => [t, Math.sin(t / 5 + index) * 10 + index * 3] as [number, number]),
  })),
  secondary: { label: 'VMs', series: [{ name: 'VMs', points: [[0, 1], [20, 3], [35, 2]] }] },
});
line('spike', {
  title: 'One spike among 200 000 zeros',
  xLabel: 'sample',
  yLabel: 'value',
  series: [{ name: 'spiky', points: Array.from({ length: 200_000 }, (_, i): [number, number] => [i, i === 123_456 ? 1e6 : 0]) }],
});
line('empty', { title: 'Nothing recorded', xLabel: 'time (s)', yLabel: 'value', series: [{ name: 'x', points: [] }] });

const vms = [...new Set(migrations.map((row) => row.vm ?? ''))].sort();
const timeline = (title: string, rowsSpec: TimelineSpec['rows']): TimelineSpec => ({
  title,
  xLabel: 'time (s)',
  rows: rowsSpec,
  barLegend: 'migration',
  markLegend: 'downtime',
});
charts['timeline'] = renderTimeline(
  timeline(
    'Migrations',
    vms.map((vm) => ({
      label: vm,
      bars: migrations
        .filter((row) => row.vm === vm)
        .map((row) => {
          const end = Number(row.ended_s);
          return { start: Number(row.started_s), end, mark: { start: end - Number(row.downtime_ms) / 1000, end } };
        }),
    })),
  ),
);
charts['timeline-100'] = renderTimeline(
  timeline(
    'A hundred VMs, some failed',
    Array.from({ length: 100 }, (_, index) => ({
      label: `datacenter-a/vm${String(index + 1).padStart(3, '0')}`,
      bars: [
        {
          start: index * 10,
          end: index * 10 + 40,
          mark: { start: index * 10 + 39.99, end: index * 10 + 39.995 },
          failed: index % 17 === 0,
        },
      ],
    })),
  ),
);

mkdirSync(outDir, { recursive: true });
for (const [id, svg] of Object.entries(charts)) {
  writeFileSync(join(outDir, `${id}.svg`), svg);
  writeFileSync(join(outDir, `${id}.png`), svgToPng(svg));
  console.log(join(outDir, `${id}.png`), `${Math.round(svg.length / 1024)} KiB svg`);
}
