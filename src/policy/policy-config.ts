import { z } from 'zod';
import { loadConfigFile } from '../config/load-config.ts';

/**
 * The placement policy's parameters (`run --policy FILE`, YAML or JSON). Every default says
 * which system it follows; none was tuned on this tool's results.
 */
export const policyConfigSchema = z
  .object({
    drs: z
      .object({
        /** vSphere DRS evaluates the cluster every 5 minutes (and when its settings change, as `drs LEVEL` does here). */
        cycleSeconds: z.number().positive().default(300),
        /**
         * A move must cut the spread of host CPU use by at least this (a fraction of capacity):
         * the floor of the cost-benefit test, so that no migration is spent on a gain too small
         * to outlast the migration's own cost. Chosen: one point of utilization.
         */
        minSpreadGain: z.number().min(0).max(1).default(0.01),
        /**
         * A VM that moved (for whatever reason) is not moved by DRS again for this long: against
         * ping-pong, as Proxmox CRS's hold-down and oVirt's over-commit duration. Chosen: two cycles.
         */
        holdDownSeconds: z.number().min(0).default(600),
        /** At most this many moves per cycle; the per-host slot limit applies besides (Kubernetes' descheduler moves at most a few per node per cycle). */
        maxMovesPerCycle: z.number().int().positive().default(8),
        /**
         * Each host's CPU capacity in MHz, for platforms that do not report it (the sim does),
         * or over what the platform reports: one figure for every host, or one per host name.
         */
        hostCpuMHz: z.union([z.number().positive(), z.record(z.string(), z.number().positive())]).optional(),
      })
      .strict()
      .prefault({}),
    maintenance: z
      .object({
        /** How long an evacuation that found nowhere to put a VM waits before it tries again. */
        retrySeconds: z.number().positive().default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type PolicyConfig = z.infer<typeof policyConfigSchema>;

export const DEFAULT_POLICY_CONFIG: PolicyConfig = policyConfigSchema.parse({});

export function loadPolicyConfig(path: string | undefined): PolicyConfig {
  return path === undefined ? DEFAULT_POLICY_CONFIG : loadConfigFile(path, policyConfigSchema);
}
