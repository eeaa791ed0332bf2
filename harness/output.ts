import fs from 'node:fs';
import path from 'node:path';
import { workloadOf, type CaseSpec, type Grid } from './grid.ts';
import type { CaseMeasurement } from './run-case.ts';

const MEASURED_CSV = 'measured.csv';
const DETAILS_JSONL = 'measured-details.jsonl';
const HARNESS_JSON = 'harness.json';

/** The README's case columns (`calibrate --check`), so the file says what each case was. */
const COLUMNS = [
  'id', 'ram_mb', 'max_bandwidth_mbit_s', 'downtime_limit_ms', 'timeout_s', 'warmup_s', 'workload', 'buffer_mb', 'dirty_mb_s',
  'converged', 'total_ms', 'downtime_ms', 'setup_ms', 'bytes', 'passes', 'reason',
] as const;

/**
 * The output dir: measured.csv and measured-details.jsonl, a row and a line appended (synchronously)
 * as each case ends, so that an interrupted run keeps every case it finished; and harness.json.
 * A dir that already holds a measured.csv is refused rather than added to.
 */
export class MeasuredOutput {
  readonly #dir: string;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const csv = path.join(dir, MEASURED_CSV);
    if (fs.existsSync(csv)) throw new Error(`${csv} exists: give --out a new dir (the harness does not add to earlier measurements)`);
    this.#dir = dir;
    fs.writeFileSync(csv, `${COLUMNS.join(',')}\n`, { flag: 'wx' });
    fs.writeFileSync(path.join(dir, DETAILS_JSONL), '', { flag: 'wx' });
  }

  writeHarness(description: Record<string, unknown>): void {
    fs.writeFileSync(path.join(this.#dir, HARNESS_JSON), `${JSON.stringify(description, null, 2)}\n`);
  }

  /** `hostLoad`: the host's 1-minute load average as the case began (other work on the host skews timings). */
  append(spec: CaseSpec, grid: Grid, measurement: CaseMeasurement, hostLoad: number): void {
    fs.appendFileSync(path.join(this.#dir, MEASURED_CSV), `${csvRow(spec, grid, measurement)}\n`);
    this.#appendDetails({ id: spec.id, qemu: detailsOf(spec, measurement), host_load_1m: hostLoad });
  }

  /** A case that measured nothing: its details line says why; measured.csv has no row of it. */
  appendFailure(spec: CaseSpec, error: string, hostLoad: number): void {
    this.#appendDetails({ id: spec.id, qemu: null, error, host_load_1m: hostLoad });
  }

  #appendDetails(line: Record<string, unknown>): void {
    fs.appendFileSync(path.join(this.#dir, DETAILS_JSONL), `${JSON.stringify(line)}\n`);
  }
}

function csvRow(spec: CaseSpec, grid: Grid, m: CaseMeasurement): string {
  const workload = workloadOf(spec);
  // A cancelled migration's figures are its last account before the cancellation, as calibrate's lab writes them.
  const account = m.last;
  const cells: Record<(typeof COLUMNS)[number], string | number> = {
    id: spec.id,
    ram_mb: spec.ramMB,
    max_bandwidth_mbit_s: spec.bandwidthMbps,
    downtime_limit_ms: spec.downtimeLimitMs,
    timeout_s: grid.timeoutSeconds,
    warmup_s: grid.warmupSeconds,
    workload,
    buffer_mb: workload === 'idle' ? '' : spec.bufferMB,
    dirty_mb_s: workload === 'sweep' ? spec.dirtyMBps : '',
    converged: m.converged ? 'yes' : 'no',
    total_ms: account.totalTimeMs ?? '',
    downtime_ms: m.converged ? (m.downtimeMs ?? '') : '',
    setup_ms: m.converged ? (m.setupTimeMs ?? '') : '',
    bytes: account.ram?.transferred ?? '',
    passes: account.ram?.dirtySyncCount ?? '',
    reason: m.reason,
  };
  return COLUMNS.map((column) => csvCell(cells[column])).join(',');
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The shape of the `qemu` of calibrate's measured-details.jsonl lines, with the destination's fate beside it. */
function detailsOf(spec: CaseSpec, m: CaseMeasurement): Record<string, unknown> {
  return {
    source_pid: m.sourcePid,
    target_pid: m.destinationPid,
    status: m.status,
    reason: m.reason,
    total_time_ms: m.totalTimeMs,
    downtime_ms: m.downtimeMs,
    setup_time_ms: m.setupTimeMs,
    transferred_bytes: m.transferredBytes,
    ram_total_bytes: m.ramTotalBytes,
    passes: m.passes,
    mbps: m.mbps,
    max_bandwidth_bytes_per_s: m.maxBandwidthBytesPerSecond,
    downtime_limit_ms: spec.downtimeLimitMs,
    progress: m.progress,
    destination: m.destination && { status: m.destination.status, console_trouble: m.destination.consoleTrouble },
  };
}
