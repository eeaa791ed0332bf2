import type { Clock } from '../../run/clock.ts';
import type { VimSession } from './session.ts';

/** Turns the server's times (a task's start and completion) into seconds of the run's clock. */
export class ServerClock {
  /** Wall time (ms since the epoch) at which the run's clock read 0. */
  private readonly clockEpochMs: number;
  /** Server clock minus ours, in ms. */
  private offsetMs = 0;

  constructor(private readonly clock: Clock) {
    this.clockEpochMs = Date.now() - clock.now() * 1000;
  }

  /** Reads the server's clock (CurrentTime) against ours, taking the call's midpoint as its moment. */
  async measure(session: VimSession): Promise<void> {
    const before = Date.now();
    const serverTime = await session.run(() => session.client.currentTime());
    this.offsetMs = serverTime.getTime() - (before + Date.now()) / 2;
  }

  /** A server time as seconds since the run started. */
  runSeconds(time: Date): number {
    return (time.getTime() - this.offsetMs - this.clockEpochMs) / 1000;
  }
}
