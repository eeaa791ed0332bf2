import { z } from 'zod';

/** The bounds of each setting of a case, the same whether a grid or a measured file gives it. */
export const CASE_LIMITS = {
  ramMB: z.number().int().min(64).max(16384),
  bufferMB: z.number().int().min(1).max(4096),
  dirtyMBps: z.number().positive().max(10_000),
  sleepMs: z.number().int().min(0).max(600_000),
  bandwidthMbps: z.number().positive().max(100_000),
  downtimeLimitMs: z.number().int().min(1).max(60_000),
  warmupSeconds: z.number().min(0).max(600),
  convergenceTimeoutSeconds: z.number().positive().max(3600),
};

/** How long the workload runs before the migration starts, when nothing says. */
export const DEFAULT_WARMUP_SECONDS = 5;
