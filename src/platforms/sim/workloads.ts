import type { ClientType } from '../../script/experiment.ts';
import type { WorkloadsConfig } from './config.ts';
import type { SeededRandom } from '../../seeded-random.ts';

/** Part of a request's processing: CPU work (megacycles), or a sleep that needs no CPU. */
export type Phase =
  | { kind: 'compute'; megacycles: number; dirtyMBPerMegacycle: number; writesBuffer: boolean }
  | { kind: 'sleep'; seconds: number };

/** What one request makes its server do. */
export interface RequestWork {
  phases: Phase[];
  bufferMB: number;
  /** The buffer holds the same value everywhere once written (the seed's `memory` fill), so pages share. */
  constantBuffer: boolean;
}

/** Builds the work of each request type, the seed's three server applications. */
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
  return (type) => {
    switch (type) {
      case 'cpu':
        return {
          phases: [{ kind: 'compute', megacycles: vary(config.cpu.seconds) * mhzPerCore, dirtyMBPerMegacycle: 0, writesBuffer: false }],
          bufferMB: config.cpu.bufferMB,
          constantBuffer: false,
        };
      case 'memory':
        return {
          phases: [
            { kind: 'compute', megacycles: config.memory.bufferMB * fillMegacyclesPerMB, dirtyMBPerMegacycle: 1 / fillMegacyclesPerMB, writesBuffer: true },
            { kind: 'sleep', seconds: vary(config.memory.sleepSeconds) },
          ],
          bufferMB: config.memory.bufferMB,
          constantBuffer: true,
        };
      case 'memory2':
        return {
          phases: [{ kind: 'compute', megacycles: vary(config.memory2.seconds) * mhzPerCore, dirtyMBPerMegacycle: memory2DirtyPerMegacycle, writesBuffer: true }],
          bufferMB: config.memory2.bufferMB,
          constantBuffer: false,
        };
    }
  };
}
