import { parseKeyValues } from './virsh.ts';

/** What libvirt's completed job statistics say of a migration (`virsh domjobinfo --completed --rawstats`). */
export interface LibvirtJobStats {
  totalMs: number | null;
  downtimeMs: number | null;
  setupMs: number | null;
  /** QEMU's dirty-bitmap syncs (memory_iteration). */
  passes: number | null;
  /** Memory sent (memory_processed), in bytes. */
  bytes: number | null;
  /** Every field, as libvirt named it. */
  raw: Record<string, string>;
}

export function jobStatsOf(text: string): LibvirtJobStats {
  const raw = Object.fromEntries(parseKeyValues(text));
  const number = (key: string): number | null => {
    const value = raw[key];
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
  };
  return { totalMs: number('time_elapsed'), downtimeMs: number('downtime'), setupMs: number('setup_time'), passes: number('memory_iteration'), bytes: number('memory_processed'), raw };
}
