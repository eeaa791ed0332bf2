import type { Clock } from '../../run/clock.ts';
import type { MigrationOrder, MigrationOutcome } from '../platform.ts';
import type { LibvirtMigrationSettings } from './config.ts';
import { jobStatsOf, type LibvirtJobStats } from './job-stats.ts';
import { migrateArgs, strategyOf } from './migrate-command.ts';
import type { Virsh } from './virsh.ts';

/** Time virsh migrate gets beyond the migration's own limit, to abort the job and report. */
const ABORT_GRACE_MS = 30_000;

export interface LibvirtMigrationContext {
  virsh: Virsh;
  clock: Clock;
  /** Each host's libvirt URI, by the name the script uses. */
  uris: ReadonlyMap<string, string>;
  settings: LibvirtMigrationSettings;
  /** Bytes the stream carried since the previous call, as libvirt's job statistics show them (each pass, and the end). */
  onBytes?: (bytes: number) => void;
}

/** What migration-details.jsonl holds of a libvirt migration, under `libvirt`. */
export interface LibvirtMigrationDetails {
  strategy: string;
  command: string[];
  /** libvirt's completed job statistics, when the job got that far. */
  job: LibvirtJobStats | null;
  /** A record per pass: libvirt's migration-iteration event, and the running job's statistics just after it. */
  progress: PassRecord[];
  /** Why the job was aborted, when it was. */
  aborted: string | null;
}

/** One pass as libvirt announced it (seconds since the migration started). */
export interface PassRecord {
  at_s: number;
  iteration: number;
  /** memory_processed, memory_remaining and memory_dirty_rate of the running job, where libvirt still had it. */
  job: Record<string, string> | null;
}

/** The pass number of a `virsh event` line for migration-iteration, or null for any other line. */
export function iterationOf(line: string): number | null {
  const match = /migration-iteration.*iteration:\s*'?(\d+)/.exec(line);
  return match ? Number(match[1]) : null;
}

/**
 * One live migration through libvirt: the downtime limit set on the source, `virsh migrate`
 * with the configured strategy, aborted (virsh domjobabort) when the run is interrupted or the
 * migration outlives `cancelAfterSeconds`; then the completed job's statistics from the source.
 * A refusal or failure is recorded with libvirt's reason: the VM stays where libvirt keeps it.
 */
export async function migrateDomain(order: MigrationOrder, context: LibvirtMigrationContext, signal: AbortSignal): Promise<MigrationOutcome> {
  const { virsh, clock, settings } = context;
  const sourceUri = context.uris.get(order.source);
  const targetUri = context.uris.get(order.target);
  const startedS = clock.now();
  const command = targetUri === undefined ? [] : migrateArgs(order.vm, targetUri, order.target, settings);
  const details: LibvirtMigrationDetails = { strategy: strategyOf(settings), command, job: null, progress: [], aborted: null };
  const outcome = (status: MigrationOutcome['status'], reason: string, job: LibvirtJobStats | null): MigrationOutcome => ({
    started_s: startedS,
    ended_s: clock.now(),
    downtime_ms: job?.downtimeMs ?? null,
    client_downtime_ms: null,
    bytes: job?.bytes ?? null,
    passes: job?.passes ?? null,
    status,
    reason,
    details: { libvirt: { ...details, job } },
  });
  if (sourceUri === undefined || targetUri === undefined) return outcome('failed', `libvirt: no URI for host ${sourceUri === undefined ? order.source : order.target}`, null);

  try {
    if (settings.downtimeLimitMs !== undefined) await virsh.run(sourceUri, ['migrate-setmaxdowntime', '--', order.vm, String(settings.downtimeLimitMs)]);
  } catch (error) {
    return outcome('failed', `libvirt refused the downtime limit: ${(error as Error).message}`, null);
  }

  const abort = (why: string): void => {
    if (details.aborted !== null) return;
    details.aborted = why;
    virsh.run(sourceUri, ['domjobabort', '--', order.vm]).catch(() => undefined);
  };
  const onAbort = (): void => abort('the run was interrupted');
  signal.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => abort(`still running after ${settings.cancelAfterSeconds} s`), settings.cancelAfterSeconds * 1000);
  const passes: Promise<void>[] = [];
  let bytesReported = 0;
  const reportBytes = (processed: number | null): void => {
    if (processed === null || processed <= bytesReported) return;
    context.onBytes?.(processed - bytesReported);
    bytesReported = processed;
  };
  const events = virsh.watch(sourceUri, ['event', '--domain', order.vm, '--event', 'migration-iteration', '--loop'], settings.cancelAfterSeconds + ABORT_GRACE_MS / 1000, (line) => {
    const iteration = iterationOf(line);
    if (iteration === null) return;
    const record: PassRecord = { at_s: clock.now() - startedS, iteration, job: null };
    details.progress.push(record);
    passes.push(runningJob(virsh, sourceUri, order.vm).then((job) => {
      record.job = job;
      reportBytes(job?.memory_processed === undefined ? null : Number(job.memory_processed));
    }));
  });
  let failure: string | null = null;
  try {
    if (signal.aborted) onAbort();
    else await virsh.run(sourceUri, command, settings.cancelAfterSeconds * 1000 + ABORT_GRACE_MS);
  } catch (error) {
    failure = (error as Error).message;
  } finally {
    clearTimeout(deadline);
    signal.removeEventListener('abort', onAbort);
    events.stop();
  }
  await Promise.all(passes);
  // A transient domain leaves its source with the migration, and its statistics with it; the target has them too (libvirt sends them over).
  const job = (await completedJob(virsh, sourceUri, order.vm)) ?? (failure === null ? await completedJob(virsh, targetUri, order.vm) : null);
  reportBytes(job?.bytes ?? null);
  if (failure === null && details.aborted === null) return outcome('succeeded', '', job);
  const status = signal.aborted ? 'interrupted' : 'failed';
  const reason = details.aborted === null ? (failure ?? 'the migration failed') : `aborted: ${details.aborted}${failure === null ? '' : ` (${failure})`}`;
  return outcome(status, reason, job);
}

const RUNNING_JOB_FIELDS = ['memory_processed', 'memory_remaining', 'memory_dirty_rate', 'memory_iteration'];

/** The running job's progress, as far as libvirt still has it. */
async function runningJob(virsh: Virsh, uri: string, domain: string): Promise<Record<string, string> | null> {
  try {
    const { raw } = jobStatsOf(await virsh.run(uri, ['domjobinfo', '--rawstats', '--', domain]));
    const fields = Object.entries(raw).filter(([key]) => RUNNING_JOB_FIELDS.includes(key));
    return fields.length > 0 ? Object.fromEntries(fields) : null;
  } catch {
    return null;
  }
}

/** The source's statistics of the job that just ended; null where it has none (refused before it began). */
async function completedJob(virsh: Virsh, uri: string, domain: string): Promise<LibvirtJobStats | null> {
  try {
    const stats = jobStatsOf(await virsh.run(uri, ['domjobinfo', '--completed', '--rawstats', '--', domain]));
    return Object.keys(stats.raw).length > 0 ? stats : null;
  } catch {
    return null;
  }
}
