import type { ClientType } from '../../script/experiment.ts';
import type { WorkloadsConfig } from './config.ts';
import type { SeededRandom } from '../../seeded-random.ts';

/**
 * How a compute phase writes its request's buffer: not at all, in page order (each write a page
 * not yet written this cycle), or at pages drawn uniformly from it (with replacement).
 */
export type BufferWrites = 'none' | 'sweep' | 'random';

/**
 * Part of a request's processing: CPU work (megacycles, or as much as it gets for `wallSeconds`
 * of the guest's time, a loop that watches the clock), or a sleep that needs no CPU.
 */
export type Phase =
  /** `fills`: the phase writes its buffer's fresh pages once, in order (a fill). */
  | { kind: 'compute'; megacycles: number; dirtyMBPerMegacycle: number; bufferWrites: BufferWrites; fills: boolean }
  | { kind: 'busy'; wallSeconds: number; dirtyMBPerMegacycle: number; bufferWrites: BufferWrites; fills: false }
  | { kind: 'sleep'; seconds: number };

/** What one request makes its server do. */
export interface RequestWork {
  phases: Phase[];
  bufferMB: number;
  /** The buffer holds the same value everywhere once written (the seed's `memory` fill), so pages share. */
  constantBuffer: boolean;
}

/** Builds the work of each request type, the seed's three server applications (memory2 with this tool's options). */
export function requestWorkFactory(
  config: WorkloadsConfig,
  mhzPerCore: number,
  maxDirtyMBps: number | null,
  random: SeededRandom,
): (type: ClientType) => RequestWork {
  const limit = (mbps: number): number => Math.min(mbps, maxDirtyMBps ?? Infinity);
  const fillMegacyclesPerMB = mhzPerCore / limit(config.memory.fillMBps);
  const memory2DirtyPerMegacycle = limit(config.memory2.dirtyMBps) / mhzPerCore;
  const vary = (value: number): number => random.jitter(value, config.jitter);
  /** Writing a whole buffer once, in order, at the memory app's fill rate. */
  const fill = (bufferMB: number): Phase => ({
    kind: 'compute',
    megacycles: bufferMB * fillMegacyclesPerMB,
    dirtyMBPerMegacycle: 1 / fillMegacyclesPerMB,
    bufferWrites: 'sweep',
    fills: true,
  });
  return (type) => {
    switch (type) {
      case 'cpu':
        return {
          phases: [{ kind: 'compute', megacycles: vary(config.cpu.seconds) * mhzPerCore, dirtyMBPerMegacycle: 0, bufferWrites: 'none', fills: false }],
          bufferMB: config.cpu.bufferMB,
          constantBuffer: false,
        };
      case 'memory':
        return {
          phases: [fill(config.memory.bufferMB), { kind: 'sleep', seconds: vary(config.memory.sleepSeconds) }],
          bufferMB: config.memory.bufferMB,
          constantBuffer: true,
        };
      case 'memory2': {
        const { bufferMB, seconds, writeOrder, prefilled, lasts, checkSeconds } = config.memory2;
        const writes = { dirtyMBPerMegacycle: memory2DirtyPerMegacycle, bufferWrites: writeOrder, fills: false } as const;
        const dirtying: Phase = lasts === 'wall' ? { kind: 'busy', wallSeconds: vary(seconds), ...writes } : { kind: 'compute', megacycles: vary(seconds) * mhzPerCore, ...writes };
        const check: Phase[] = checkSeconds > 0 ? [{ kind: 'compute', megacycles: checkSeconds * mhzPerCore, dirtyMBPerMegacycle: 0, bufferWrites: 'none', fills: false }] : [];
        return { phases: [...(prefilled ? [fill(bufferMB)] : []), dirtying, ...check], bufferMB, constantBuffer: false };
      }
    }
  };
}
