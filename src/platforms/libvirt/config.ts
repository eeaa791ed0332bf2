import { z } from 'zod';
import { loadConfigFile } from '../../config/load-config.ts';

/** A libvirt URI the user's ssh keys, agent or sockets reach: no password in it. */
const uriSchema = z
  .string()
  .min(1)
  .regex(/^[a-z][a-z0-9+]*:\/\//, 'expected a libvirt URI such as qemu+ssh://root@kvm1/system')
  .refine((uri) => !/^[a-z0-9+]+:\/\/[^/@]*:[^/@]*@/i.test(uri), 'a URI must not carry a password: use ssh keys or an agent');

const hostSchema = z
  .object({
    /** The host's name as the script uses it. */
    name: z.string().min(1),
    uri: uriSchema,
  })
  .strict();

const migrationSchema = z
  .object({
    /** `p2p`: the source's libvirtd drives the migration (virsh migrate --p2p); `direct`: virsh talks to both. */
    mode: z.enum(['p2p', 'direct']).default('p2p'),
    /** Where the stream goes (--migrateuri), `{target}` standing for the target host's name, e.g. tcp://{target}-mig. */
    migrateUri: z.string().min(1).optional(),
    /** --bandwidth, in MiB/s. */
    maxBandwidthMiBps: z.number().int().positive().optional(),
    /** The longest pause the switchover may take (virsh migrate-setmaxdowntime), in ms. */
    downtimeLimitMs: z.number().int().positive().optional(),
    autoConverge: z.boolean().default(false),
    /** Post-copy: switch to it after the first pre-copy pass (`after-precopy`) or after `afterSeconds`. */
    postcopy: z
      .object({ switchOver: z.enum(['after-precopy', 'after-timeout']), afterSeconds: z.number().int().positive().optional() })
      .strict()
      .refine((p) => (p.switchOver === 'after-timeout') === (p.afterSeconds !== undefined), 'afterSeconds goes with switchOver: after-timeout, and only with it')
      .optional(),
    /** Parallel connections for the stream (--parallel --parallel-connections N). */
    parallelConnections: z.number().int().min(2).max(255).optional(),
    /** --compressed with these methods (xbzrle, mt, zlib, zstd). */
    compression: z.array(z.enum(['xbzrle', 'mt', 'zlib', 'zstd'])).min(1).optional(),
    /** A migration still running after this long is aborted (virsh domjobabort), the VM staying on its source. */
    cancelAfterSeconds: z.number().positive().default(600),
  })
  .strict();

export const libvirtConfigSchema = z
  .object({
    hosts: z.array(hostSchema).min(1),
    migration: migrationSchema.prefault({}),
    timeouts: z
      .object({
        /** Any one virsh call but a migration. */
        callSeconds: z.number().positive().default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, context) => {
    const seen = new Set<string>();
    config.hosts.forEach((host, index) => {
      if (seen.has(host.name)) context.addIssue({ code: 'custom', path: ['hosts', index, 'name'], message: `host ${host.name} is named twice` });
      seen.add(host.name);
    });
  });

export type LibvirtConfig = z.infer<typeof libvirtConfigSchema>;
export type LibvirtMigrationSettings = LibvirtConfig['migration'];

export function loadLibvirtConfig(path: string): LibvirtConfig {
  return loadConfigFile(path, libvirtConfigSchema);
}
