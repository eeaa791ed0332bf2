import fs from 'node:fs';

/** One migration to measure: a fresh guest of `ramMB` running the writer, migrated once. */
export interface CaseSpec {
  id: string;
  ramMB: number;
  /** The writer's working set (0: an idle guest). */
  bufferMB: number;
  /** What the writer rewrites of it per second, in page order (0: held as filled). */
  dirtyMBps: number;
  bandwidthMbps: number;
  downtimeLimitMs: number;
}

export type Workload = 'idle' | 'buffer' | 'sweep';

export interface Grid {
  warmupSeconds: number;
  timeoutSeconds: number;
  pollMs: number;
  cases: CaseSpec[];
  /** The file as it was read, for harness.json. */
  source: unknown;
}

export function workloadOf(spec: CaseSpec): Workload {
  if (spec.bufferMB === 0) return 'idle';
  return spec.dirtyMBps === 0 ? 'buffer' : 'sweep';
}

/** What the guest keeps beside the working set: its kernel, the unpacked initramfs, page tables. */
const GUEST_OWN_MB = 128;

/** A whole number from `min` to `max`. */
interface Bound {
  min: number;
  max: number;
}

const TOP_LEVEL: Record<string, Bound> = {
  warmup_s: { min: 0, max: 600 },
  timeout_s: { min: 1, max: 3600 },
  poll_ms: { min: 10, max: 1000 },
};
const CASE_FIELDS: Record<string, Bound> = {
  ram_mb: { min: 64, max: 16384 },
  buffer_mb: { min: 0, max: 4096 },
  dirty_mb_s: { min: 0, max: 10000 },
  max_bandwidth_mbit_s: { min: 1, max: 100000 },
  downtime_limit_ms: { min: 1, max: 60000 },
};

export class GridError extends Error {}

/**
 * Reads a grid file: `{"warmup_s", "timeout_s", "poll_ms", "cases": [{"ram_mb", "buffer_mb",
 * "dirty_mb_s", "max_bandwidth_mbit_s", "downtime_limit_ms"}, ...]}`, every key required and
 * no other. A bad value is a GridError naming the file, the key's path and what was expected.
 */
export function readGrid(file: string): Grid {
  let source: unknown;
  try {
    source = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new GridError(`${file}: ${(error as Error).message}`);
  }
  const fail = (where: string, message: string): never => {
    throw new GridError(`${file}: ${where}: ${message}`);
  };
  const top = objectWith(source, [...Object.keys(TOP_LEVEL), 'cases'], 'the grid', fail);
  const [warmupSeconds, timeoutSeconds, pollMs] = Object.entries(TOP_LEVEL).map(([key, bound]) => wholeNumber(top[key], bound, key, fail)) as [number, number, number];
  const list = top.cases;
  if (!Array.isArray(list) || list.length === 0) return fail('cases', 'expected a non-empty list of cases');
  const ids = new Set<string>();
  const cases = list.map((entry: unknown, index) => {
    const where = `cases[${index}]`;
    const fields = objectWith(entry, Object.keys(CASE_FIELDS), where, fail);
    const [ramMB, bufferMB, dirtyMBps, bandwidthMbps, downtimeLimitMs] = Object.entries(CASE_FIELDS).map(([key, bound]) =>
      wholeNumber(fields[key], bound, `${where}.${key}`, fail),
    ) as [number, number, number, number, number];
    if (bufferMB > ramMB - GUEST_OWN_MB) fail(`${where}.buffer_mb`, `a ${bufferMB} MB working set leaves the ${ramMB} MB guest less than the ${GUEST_OWN_MB} MB it needs for itself`);
    if (bufferMB === 0 && dirtyMBps > 0) fail(`${where}.dirty_mb_s`, 'an idle guest (buffer_mb 0) dirties nothing: expected 0');
    const spec = { ramMB, bufferMB, dirtyMBps, bandwidthMbps, downtimeLimitMs };
    const id = caseId(spec);
    if (ids.has(id)) fail(where, `the same case as an earlier one (${id})`);
    ids.add(id);
    return { id, ...spec };
  });
  return { warmupSeconds, timeoutSeconds, pollMs, cases, source };
}

/**
 * E.g. `writer-ram256-idle-bw1000-dl30`, `writer-ram384-sweep32x40-bw1000-dl30`: named for the
 * harness's guest, so that they never clash with the ids of calibrate's grids beside them.
 */
function caseId(spec: Omit<CaseSpec, 'id'>): string {
  const load = { idle: 'idle', buffer: `buffer${spec.bufferMB}`, sweep: `sweep${spec.bufferMB}x${spec.dirtyMBps}` }[workloadOf({ id: '', ...spec })];
  return `writer-ram${spec.ramMB}-${load}-bw${spec.bandwidthMbps}-dl${spec.downtimeLimitMs}`;
}

function objectWith(value: unknown, keys: readonly string[], where: string, fail: (where: string, message: string) => never): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(where, `expected an object with ${keys.join(', ')}`);
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).find((key) => !keys.includes(key));
  if (unknown !== undefined) fail(where, `unknown key '${unknown}' (expected ${keys.join(', ')})`);
  const missing = keys.find((key) => !(key in record));
  if (missing !== undefined) fail(where, `missing '${missing}'`);
  return record;
}

function wholeNumber(value: unknown, { min, max }: Bound, where: string, fail: (where: string, message: string) => never): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return fail(where, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}
