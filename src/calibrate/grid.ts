import { z } from 'zod';
import { loadConfigFile } from '../config/load-config.ts';
import { CASE_LIMITS, DEFAULT_WARMUP_SECONDS } from './case-limits.ts';
import { LAB_TCG_RAM_PADDING_KIB, type CaseSettings, type CaseWorkload, type MigrationCase } from './migration-case.ts';

const workloadSchema = z.union([
  z.literal('idle'),
  z.object({ memory: CASE_LIMITS.bufferMB, sleepMs: CASE_LIMITS.sleepMs.optional() }).strict(),
  z.object({ dirty: CASE_LIMITS.dirtyMBps, bufferMB: CASE_LIMITS.bufferMB.optional() }).strict(),
  z.object({ rewrite: CASE_LIMITS.dirtyMBps, bufferMB: CASE_LIMITS.bufferMB.optional() }).strict(),
  z.object({ sweep: CASE_LIMITS.dirtyMBps, bufferMB: CASE_LIMITS.bufferMB.optional() }).strict(),
], { error: 'expected idle, { memory: MB }, { dirty: MB/s }, { rewrite: MB/s } or { sweep: MB/s }' });

/**
 * The calibration grid: every combination of the lists is one case. By default cases are split
 * like a checkerboard (by the parity of the sum of their indices in the lists) between the
 * fit's half and the held-out half, so that each value of each list falls in both halves; a
 * grid can also be wholly fitted on, or wholly held out (a workload family the fit never sees).
 */
export const gridSchema = z
  .object({
    ramMB: z.array(CASE_LIMITS.ramMB).min(1),
    /**
     * The guest gets exactly `ramMB` MiB even under TCG, where QEMU 7.2 then syncs its dirty
     * bitmap by whole words and loses dirty pages (the guest may break: each case boots it
     * anew). Only for measuring that path; by default the lab adds 8 KiB.
     */
    wholeMiBRam: z.boolean().default(false),
    /**
     * `idle`, `{ memory: MB }` (the seed's memory app holding a filled buffer), `{ dirty: MB/s }`
     * (the guest dirtier, in page order), `{ rewrite: MB/s }` (random pages of a buffer filled first),
     * `{ sweep: MB/s }` (a buffer filled first, then rewritten in page order).
     */
    workloads: z.array(workloadSchema).min(1),
    bandwidthMbps: z.array(CASE_LIMITS.bandwidthMbps).min(1),
    downtimeLimitMs: z.array(CASE_LIMITS.downtimeLimitMs).min(1),
    /** The buffer of the dirtier, the rewriter and the sweep, unless a workload names its own. */
    dirtyBufferMB: CASE_LIMITS.bufferMB.default(64),
    /** How long the memory app sleeps holding its buffer, unless a workload says: by default longer than any case. */
    memorySleepMs: CASE_LIMITS.sleepMs.default(120_000),
    split: z.enum(['checkerboard', 'fit', 'held-out']).default('checkerboard'),
    /** Each case this many times (ids end in -r1, -r2, ...), to see how much the same migration varies. */
    repeat: z.number().int().min(1).max(100).default(1),
    warmupSeconds: CASE_LIMITS.warmupSeconds.default(DEFAULT_WARMUP_SECONDS),
    convergenceTimeoutSeconds: CASE_LIMITS.convergenceTimeoutSeconds.default(30),
  })
  .strict()
  .superRefine((grid, context) => {
    for (const [index, workload] of grid.workloads.entries()) {
      const bufferMB = typeof workload === 'string' ? 0 : 'memory' in workload ? workload.memory : (workload.bufferMB ?? grid.dirtyBufferMB);
      const smallest = Math.min(...grid.ramMB);
      if (bufferMB >= smallest) {
        context.addIssue({ code: 'custom', path: ['workloads', index], message: `a ${bufferMB} MB buffer does not fit in a ${smallest} MB guest` });
      }
    }
  });

export type Grid = z.infer<typeof gridSchema>;

export function loadGrid(path: string): Grid {
  return loadConfigFile(path, gridSchema);
}

export function settingsOf(grid: Grid): CaseSettings {
  return { warmupSeconds: grid.warmupSeconds, convergenceTimeoutSeconds: grid.convergenceTimeoutSeconds };
}

/** Every case of the grid, RAM size outermost (the lab is brought up once per size). */
export function casesOf(grid: Grid): MigrationCase[] {
  const cases: MigrationCase[] = [];
  for (const [r, ramMB] of grid.ramMB.entries()) {
    for (const [w, entry] of grid.workloads.entries()) {
      const workload = workloadOf(entry, grid);
      for (const [b, bandwidthMbps] of grid.bandwidthMbps.entries()) {
        for (const [d, downtimeLimitMs] of grid.downtimeLimitMs.entries()) {
          const id = `ram${ramMB}${grid.wholeMiBRam ? 'mib' : ''}-${workloadName(workload)}-bw${bandwidthMbps}-dl${downtimeLimitMs}`;
          const ramKiB = ramMB * 1024 + (grid.wholeMiBRam ? 0 : LAB_TCG_RAM_PADDING_KIB);
          const training = grid.split === 'checkerboard' ? (r + w + b + d) % 2 === 0 : grid.split === 'fit';
          const migrationCase = { id, ramMB, ramKiB, workload, bandwidthMbps, downtimeLimitMs, training };
          if (grid.repeat === 1) cases.push(migrationCase);
          else for (let repetition = 1; repetition <= grid.repeat; repetition++) cases.push({ ...migrationCase, id: `${id}-r${repetition}`, repetition });
        }
      }
    }
  }
  return cases;
}

function workloadOf(entry: Grid['workloads'][number], grid: Grid): CaseWorkload {
  if (entry === 'idle') return { kind: 'idle' };
  if ('memory' in entry) return { kind: 'memory', bufferMB: entry.memory, sleepMs: entry.sleepMs ?? grid.memorySleepMs };
  if ('rewrite' in entry) return { kind: 'rewrite', bufferMB: entry.bufferMB ?? grid.dirtyBufferMB, rateMBps: entry.rewrite };
  if ('sweep' in entry) return { kind: 'sweep', bufferMB: entry.bufferMB ?? grid.dirtyBufferMB, rateMBps: entry.sweep };
  return { kind: 'dirty', bufferMB: entry.bufferMB ?? grid.dirtyBufferMB, rateMBps: entry.dirty };
}

function workloadName(workload: CaseWorkload): string {
  switch (workload.kind) {
    case 'idle':
      return 'idle';
    case 'memory':
      return `memory${workload.bufferMB}`;
    case 'dirty':
      return `dirty${workload.bufferMB}x${workload.rateMBps}`;
    case 'rewrite':
      return `rewrite${workload.bufferMB}x${workload.rateMBps}`;
    case 'sweep':
      return `sweep${workload.bufferMB}x${workload.rateMBps}`;
  }
}
