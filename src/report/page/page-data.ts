import type { MigrationRecord } from '../../record/records.ts';
import { downsampleToColumns, type Point } from '../charts/downsample.ts';
import type { RunSummary } from '../load-runs.ts';
import { passRows, type PassRow } from '../migration-passes.ts';
import type { TouchedRequests } from '../migration-requests.ts';
import { DETAIL_PLATFORMS, probeFloorMs, probeRecord } from '../probe-floor.ts';

/**
 * What the report page's script draws, as one JSON island: per run its series over time (kept
 * to at most MAX_POINTS a series, spikes kept) and every migration with its passes, its
 * platform's own figures, its probe and the requests it touched. Plain data only.
 */
export interface PageData {
  host: string | null;
  runs: PageRun[];
}

export interface PageRun {
  id: string;
  label: string;
  /** The charted host's counters, in the order of the seed's Figures 2 to 6. */
  counters: PageSeries[];
  vmCount: PageSeries;
  latency: { bucketSeconds: number; t: number[]; mean: number[]; max: number[] };
  migrations: PageMigration[];
}

export interface PageSeries {
  counter: string;
  unit: string;
  t: number[];
  values: number[];
}

export interface PageMigration {
  vm: string;
  source: string;
  target: string;
  kind: string;
  status: string;
  reason: string;
  requestedS: number;
  startedS: number;
  endedS: number;
  durationMs: number;
  downtimeMs: number | null;
  clientDowntimeMs: number | null;
  bytes: number | null;
  passes: number | null;
  passRows: PassRow[];
  /** The platform's own figures of it (QEMU's query-migrate, libvirt's job, vCenter's task), flattened. */
  platform: { name: string; figures: [string, string | number | boolean][] } | null;
  probe: PageProbe | null;
  touched: TouchedRequests;
}

export interface PageProbe {
  maxGapMs: number;
  answers: number;
  errors: number;
  /** How finely the probe saw: the p99 of its other gaps where recorded, else the mean time between its answers. */
  floorMs: number | null;
  floorIsP99: boolean;
}

const MAX_POINTS = 20_000;
const MAX_FIGURES = 60;

export function pageData(runs: readonly RunSummary[], host: string | undefined): PageData {
  return { host: host ?? null, runs: runs.map(pageRun) };
}

function pageRun(run: RunSummary): PageRun {
  const latencyPoints = run.latency.points;
  return {
    id: run.fileId,
    label: run.label,
    counters: run.counters.counters.map((series) => pageSeries(series.counter, series.unit, series.points)),
    vmCount: pageSeries('vm.count', 'VMs', run.counters.vmCount),
    latency: {
      bucketSeconds: run.latency.bucketSeconds,
      t: latencyPoints.map(([t]) => t),
      mean: latencyPoints.map(([, mean]) => mean),
      max: latencyPoints.map(([, , max]) => max),
    },
    migrations: run.migrations.map((migration, i) => pageMigration(migration, run.touched[i] ?? NOTHING_TOUCHED)),
  };
}

const NOTHING_TOUCHED: TouchedRequests = { requests: 0, ok: 0, failed: 0, latencyMeanMs: null, latencyMaxMs: null };

function pageSeries(counter: string, unit: string, points: readonly Point[]): PageSeries {
  const kept = points.length <= MAX_POINTS ? points : thinned(points);
  return { counter, unit, t: kept.map(([t]) => t), values: kept.map(([, value]) => value) };
}

/** At most about MAX_POINTS points: four per column of MAX_POINTS / 4 columns. */
function thinned(points: readonly Point[]): Point[] {
  const first = (points[0] as Point)[0];
  const span = Math.max((points.at(-1) as Point)[0] - first, 1e-9);
  const columns = MAX_POINTS / 4;
  return downsampleToColumns(points, (t) => ((t - first) / span) * columns);
}

function pageMigration(migration: MigrationRecord, touched: TouchedRequests): PageMigration {
  const details = migration.details;
  return {
    vm: migration.vm,
    source: migration.source,
    target: migration.target,
    kind: migration.kind,
    status: migration.status,
    reason: migration.reason,
    requestedS: migration.requested_s,
    startedS: migration.started_s,
    endedS: migration.ended_s,
    durationMs: migration.duration_ms,
    downtimeMs: migration.downtime_ms,
    clientDowntimeMs: migration.client_downtime_ms,
    bytes: migration.bytes,
    passes: migration.passes,
    passRows: passRows(details),
    platform: platformFigures(details),
    probe: probeOf(migration),
    touched,
  };
}

function platformFigures(details: Record<string, unknown> | undefined): PageMigration['platform'] {
  if (details === undefined) return null;
  for (const name of DETAIL_PLATFORMS) {
    const own = details[name];
    if (typeof own !== 'object' || own === null) continue;
    const figures: [string, string | number | boolean][] = [];
    flatten(own as Record<string, unknown>, '', figures);
    return { name, figures };
  }
  return null;
}

/** Scalars only, dotted paths; per-pass progress has its own table, and the probe its own line. */
function flatten(value: Record<string, unknown>, prefix: string, into: [string, string | number | boolean][]): void {
  for (const [key, item] of Object.entries(value)) {
    if (into.length >= MAX_FIGURES) return;
    if (key === 'progress' || key === 'probe') continue;
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') into.push([name, item]);
    else if (typeof item === 'object' && item !== null && !Array.isArray(item)) flatten(item as Record<string, unknown>, name, into);
  }
}

function probeOf(migration: MigrationRecord): PageProbe | null {
  const probe = probeRecord(migration.details);
  if (probe === undefined || typeof probe.maxGapMs !== 'number' || typeof probe.answers !== 'number') return null;
  return {
    maxGapMs: probe.maxGapMs,
    answers: probe.answers,
    errors: typeof probe.errors === 'number' ? probe.errors : 0,
    floorMs: probeFloorMs(migration),
    floorIsP99: typeof probe.gapP99Ms === 'number',
  };
}
