import { z } from 'zod';
import { balancerSchema, GUEST_SERVER_PATHS } from '../../config/balancer-schema.ts';
import { InputError } from '../../errors.ts';
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
    /** Without shared storage: copy the disks with the migration, whole (`all`, --copy-storage-all) or over a shared backing image (`inc`). */
    copyStorage: z.enum(['all', 'inc']).optional(),
    /** A migration still running after this long is aborted (virsh domjobabort), the VM staying on its source. */
    cancelAfterSeconds: z.number().positive().default(600),
  })
  .strict();

const probeSchema = z
  .object({
    /** The balancer's path to one VM's ping, `{vm}` standing for its name (the project's guest server answers /ping). */
    path: z.string().startsWith('/').includes('{vm}', { message: 'the probe path names the VM as {vm}' }).default('/vm/{vm}/ping'),
    /** The probe sends its next ping this long after the previous one was sent (or at once if it took longer). */
    intervalMs: z.number().min(1).default(1),
    /** After a migration, the probe waits at most this long for a first answer from the moved VM. */
    settleSeconds: z.number().positive().default(15),
  })
  .strict();

export const libvirtConfigSchema = z
  .object({
    hosts: z.array(hostSchema).min(1),
    /** The load balancer the user runs in front of the domains' workload servers. */
    load: balancerSchema(GUEST_SERVER_PATHS).refine((load) => load.url.startsWith('http:'), {
      message: 'the probe speaks plain HTTP to the balancer: an http:// URL (or http://NAME with socketPath)',
      path: ['url'],
    }),
    probe: probeSchema.prefault({}),
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

export type LibvirtProbeSettings = LibvirtConfig['probe'];

export function loadLibvirtConfig(path: string | undefined): LibvirtConfig {
  if (path === undefined) throw new InputError('the libvirt platform needs --config FILE naming its hosts and load.url (see samples/libvirt/config.yaml)');
  return loadConfigFile(path, libvirtConfigSchema);
}
