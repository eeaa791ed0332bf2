import type { Platform } from '../platforms/platform.ts';
import type { RecordSink } from '../record/records.ts';
import { averageInstances } from './average-instances.ts';

export interface RunningMonitor {
  /** Stops the loop and takes a last sample covering the time since the previous one. */
  stop(): Promise<void>;
}

/**
 * Samples every host of `platform` every `intervalSeconds`, on the platform's clock. A sample
 * that fails ends the loop and goes to `onFailure`: the run cannot go on blind.
 */
export function startMonitor(
  platform: Platform,
  records: RecordSink,
  intervalSeconds: number,
  onFailure: (reason: string) => void,
): RunningMonitor {
  const clock = platform.clock;
  const stopping = new AbortController();
  let lastSampleS = clock.now();
  let failed = false;

  const sampleNow = async (): Promise<void> => {
    try {
      const readings = await platform.sample();
      lastSampleS = clock.now();
      for (const record of averageInstances(readings, lastSampleS)) records.sample(record);
    } catch (error) {
      failed = true;
      onFailure(`sampling ${platform.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const loop = (async () => {
    let next = clock.now() + intervalSeconds;
    while (!failed) {
      await clock.sleepUntil(next, stopping.signal);
      if (stopping.signal.aborted) return;
      await sampleNow();
      next += intervalSeconds;
      // A slow platform skips the ticks it missed rather than sampling in a burst.
      while (next <= clock.now()) next += intervalSeconds;
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await loop;
      if (!failed && clock.now() > lastSampleS) await sampleNow();
    },
  };
}
