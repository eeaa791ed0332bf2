import type { LibvirtMigrationSettings } from './config.ts';

/**
 * `virsh migrate`'s arguments for a live migration of `domain` to `targetUri` with `settings`.
 * `direct` is libvirt's managed direct migration (virsh talks to both daemons), not --direct,
 * which QEMU's driver does not do.
 */
export function migrateArgs(domain: string, targetUri: string, targetHost: string, settings: LibvirtMigrationSettings): string[] {
  const args = ['migrate', '--live'];
  if (settings.mode === 'p2p') args.push('--p2p');
  if (settings.migrateUri !== undefined) args.push('--migrateuri', settings.migrateUri.replaceAll('{target}', targetHost));
  if (settings.maxBandwidthMiBps !== undefined) args.push('--bandwidth', String(settings.maxBandwidthMiBps));
  if (settings.autoConverge) args.push('--auto-converge');
  if (settings.postcopy?.switchOver === 'after-precopy') args.push('--postcopy', '--postcopy-after-precopy');
  if (settings.postcopy?.switchOver === 'after-timeout') args.push('--postcopy', '--timeout', String(settings.postcopy.afterSeconds), '--timeout-postcopy');
  if (settings.parallelConnections !== undefined) args.push('--parallel', '--parallel-connections', String(settings.parallelConnections));
  if (settings.compression !== undefined) args.push('--compressed', '--comp-methods', settings.compression.join(','));
  if (settings.copyStorage !== undefined) args.push(`--copy-storage-${settings.copyStorage}`);
  args.push('--', domain, targetUri);
  return args;
}

/** The strategy a migration used, for its record. */
export function strategyOf(settings: LibvirtMigrationSettings): string {
  const parts: string[] = [settings.mode];
  if (settings.autoConverge) parts.push('auto-converge');
  if (settings.postcopy) parts.push(`post-copy ${settings.postcopy.switchOver === 'after-precopy' ? 'after the first pass' : `after ${settings.postcopy.afterSeconds} s`}`);
  if (settings.parallelConnections !== undefined) parts.push(`${settings.parallelConnections} connections`);
  if (settings.compression) parts.push(`compressed (${settings.compression.join(', ')})`);
  if (settings.copyStorage) parts.push(`storage copied (${settings.copyStorage === 'all' ? 'whole disks' : 'incrementally'})`);
  return parts.join(', ');
}
