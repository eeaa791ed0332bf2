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
        /**
         * A move's gain must last: its source must have been above the hosts' mean and its target
         * below it in each of the last this many cycles, each over samples since the host's last
         * migration (vSphere's cost-benefit weighs how stable the loads are). Chosen: two; 1
         * acts on the last cycle alone.
         */
        stableCycles: z.number().int().positive().default(2),
        /** At most this many moves per cycle; the per-host slot limit applies besides (Kubernetes' descheduler moves at most a few per node per cycle). */
        maxMovesPerCycle: z.number().int().positive().default(8),
        /**
         * Each host's CPU capacity in MHz, over what the platform reports (every built-in
         * platform does): one figure for every host, or one per host name.
         */
        hostCpuMHz: z.union([z.number().positive(), z.record(z.string(), z.number().positive())]).optional(),
      })
      .strict()
      .prefault({}),
    dpm: z
      .object({
        /** How often DPM looks (vSphere DPM runs with DRS, every 5 minutes). */
        cycleSeconds: z.number().positive().default(300),
        /** vSphere DPM's target host utilization (DemandCapacityRatioTarget, 63 %) and its tolerance (18 %): the range 45-81 %. */
        targetUtilization: z.number().gt(0).lt(1).default(0.63),
        tolerance: z.number().min(0).lt(1).default(0.18),
        /** vSphere DPM weighs 5 minutes of demand to power a host on, 40 minutes to power one off. */
        powerOnHistorySeconds: z.number().positive().default(300),
        powerOffHistorySeconds: z.number().positive().default(2400),
        /** How far ahead the load's trend is carried before waking a host: about the time a host takes to wake (the sim's default 180 s). */
        wakeLeadSeconds: z.number().min(0).default(180),
        /** Hosts DPM always leaves on. */
        minHostsOn: z.number().int().positive().default(1),
      })
      .strict()
      .refine((dpm) => dpm.targetUtilization + dpm.tolerance <= 1 && dpm.targetUtilization - dpm.tolerance >= 0, {
        message: 'targetUtilization ± tolerance must stay within 0 to 1',
        path: ['tolerance'],
      })
      .prefault({}),
    /**
     * Run even where the platform's own automatic placement moves VMs too (a vSphere cluster's
     * DRS, fully automated): two policies would fight over the same VMs, so by default a
     * script with policy actions is refused there.
     */
    alongsidePlatformPolicy: z.boolean().default(false),
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

/** What a run with policy actions gives its policy: the parameters and each placement host's CPU capacity. */
export interface PolicySetup {
  config: PolicyConfig;
  capacityMHz: Record<string, number>;
}

export const DEFAULT_POLICY_CONFIG: PolicyConfig = policyConfigSchema.parse({});

export function loadPolicyConfig(path: string | undefined): PolicyConfig {
  return path === undefined ? DEFAULT_POLICY_CONFIG : loadConfigFile(path, policyConfigSchema);
}
