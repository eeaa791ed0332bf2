/**
 * The runner reads time only through a clock: seconds since the run started. A real clock
 * for real platforms; a virtual one for the simulator, so the same runner code runs hours
 * of experiment in seconds.
 */
export interface Clock {
  now(): number;
  /** Resolves at time `t` (at once if `t` has passed or `signal` is aborted). */
  sleepUntil(t: number, signal?: AbortSignal): Promise<void>;
  /**
   * Runs `work` to completion, advancing time as needed, and returns its result. A clock that
   * runs faster than real time waits for `pace` between bursts of work.
   */
  drive<T>(work: Promise<T>, pace?: Pace): Promise<T>;
}

/** Undefined to go on, or a promise to wait for first (a slow reader catching up). */
export type Pace = () => Promise<void> | undefined;
