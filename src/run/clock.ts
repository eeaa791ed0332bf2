/**
 * The runner reads time only through a clock: seconds since the run started. A real clock
 * for real platforms; a virtual one for the simulator, so the same runner code runs hours
 * of experiment in seconds.
 */
export interface Clock {
  now(): number;
  /** Resolves at time `t` (at once if `t` has passed or `signal` is aborted). */
  sleepUntil(t: number, signal?: AbortSignal): Promise<void>;
  /** Runs `work` to completion, advancing time as needed, and returns its result. */
  drive<T>(work: Promise<T>): Promise<T>;
}
