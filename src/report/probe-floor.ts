import type { MigrationRecord } from '../record/records.ts';
import { median } from './statistics.ts';

/** The platforms whose own account of a migration its details line holds under their name. */
export const DETAIL_PLATFORMS = ['qemu', 'libvirt', 'vsphere', 'sim'] as const;

/** The probe's own record of a migration in its details line (libvirt's at the top, QEMU's inside its own), if any. */
export function probeRecord(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const candidates = [details?.probe, ...DETAIL_PLATFORMS.map((name) => (details?.[name] as { probe?: unknown } | undefined)?.probe)];
  return candidates.find((candidate): candidate is Record<string, unknown> => typeof candidate === 'object' && candidate !== null);
}

/**
 * How finely the probe saw one migration: the 99th percentile of its gaps other than the
 * longest where it recorded them, else the mean time between its answers; null without a probe.
 */
export function probeFloorMs(migration: MigrationRecord): number | null {
  const probe = probeRecord(migration.details);
  if (probe === undefined) return null;
  if (typeof probe.gapP99Ms === 'number') return probe.gapP99Ms;
  const seconds = migration.ended_s - migration.started_s;
  return typeof probe.answers === 'number' && probe.answers > 0 ? (seconds * 1000) / probe.answers : null;
}

/** The median probe floor over the migrations that were probed. */
export function medianProbeFloorMs(migrations: readonly MigrationRecord[]): number | null {
  return median(migrations.map(probeFloorMs).filter((floor): floor is number => floor !== null));
}
