import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../../src/run/virtual-clock.ts';

/**
 * A promise and the function that resolves it from a clock callback. As the clock's contract
 * asks, a callback that resumes async code requests a yield so that the code runs before
 * time moves on.
 */
function deferred(clock: VirtualClock): { promise: Promise<void>; resolve: () => void } {
  let settle!: () => void;
  const promise = new Promise<void>((r) => (settle = r));
  return {
    promise,
    resolve: () => {
      clock.requestYield();
      settle();
    },
  };
}

describe('VirtualClock', () => {
  it('starts at 0 and jumps from one callback time to the next, in time order', async () => {
    const clock = new VirtualClock();
    assert.equal(clock.now(), 0);
    const seen: [string, number][] = [];
    const done = deferred(clock);
    clock.at(100, () => {
      seen.push(['c', clock.now()]);
      done.resolve();
    });
    clock.at(5, () => seen.push(['b', clock.now()]));
    clock.at(2.5, () => seen.push(['a', clock.now()]));
    await clock.drive(done.promise);
    assert.deepEqual(seen, [['a', 2.5], ['b', 5], ['c', 100]]);
    assert.equal(clock.now(), 100);
  });

  it('runs callbacks due at the same time in the order they were scheduled, including ones scheduled meanwhile', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    const done = deferred(clock);
    for (const name of ['first', 'second', 'third']) {
      clock.at(3, () => {
        order.push(name);
        if (name === 'first') clock.at(3, () => order.push('added by first'));
      });
    }
    clock.at(4, () => done.resolve());
    await clock.drive(done.promise);
    assert.deepEqual(order, ['first', 'second', 'third', 'added by first']);
  });

  it('runs a callback scheduled in the past at the current time, not back in time', async () => {
    const clock = new VirtualClock();
    const done = deferred(clock);
    let ranAt = -1;
    clock.at(10, () => {
      clock.at(4, () => {
        ranAt = clock.now();
        done.resolve();
      });
    });
    await clock.drive(done.promise);
    assert.equal(ranAt, 10);
  });

  it('never runs a cancelled timer', async () => {
    const clock = new VirtualClock();
    let cancelledRan = false;
    const cancelled = clock.at(1, () => (cancelledRan = true));
    cancelled.cancelled = true;
    const done = deferred(clock);
    let ranAt = -1;
    clock.at(2, () => {
      ranAt = clock.now();
      done.resolve();
    });
    await clock.drive(done.promise);
    assert.equal(cancelledRan, false);
    assert.equal(ranAt, 2);
  });

  it('sleepUntil resolves at its time, after the callbacks due earlier', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.at(3, () => seen.push(clock.now()));
    const woke = await clock.drive(clock.sleepUntil(7).then(() => clock.now()));
    assert.equal(woke, 7);
    assert.deepEqual(seen, [3]);
  });

  it('sleepUntil with an already aborted signal resolves at once, without time passing', async () => {
    const clock = new VirtualClock();
    const aborted = AbortSignal.abort();
    let laterRan = false;
    clock.at(1, () => (laterRan = true));
    // Not driven: it must resolve on its own, before the event loop turns.
    const first = await Promise.race([
      clock.sleepUntil(50, aborted).then(() => 'woke'),
      new Promise((resolve) => setImmediate(() => resolve('still asleep'))),
    ]);
    assert.equal(first, 'woke');
    assert.equal(clock.now(), 0);
    assert.equal(laterRan, false);
  });

  it('sleepUntil for a time already reached resolves at once', async () => {
    const clock = new VirtualClock();
    await clock.sleepUntil(0);
    await clock.sleepUntil(-3);
    assert.equal(clock.now(), 0);
  });

  it('sleepUntil wakes when its signal is aborted mid-sleep, at the time of the abort', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    clock.at(10, () => {
      controller.abort();
      clock.requestYield();
    });
    const woke = await clock.drive(clock.sleepUntil(50, controller.signal).then(() => clock.now()));
    assert.equal(woke, 10);
  });

  it('drive rejects with a clear stalled error when nothing is scheduled and the work never settles', async () => {
    const clock = new VirtualClock();
    clock.at(5, () => {});
    await assert.rejects(clock.drive(new Promise<void>(() => {})), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /stalled/);
      assert.match(error.message, /\b5 s\b/, 'says at which time it stalled');
      return true;
    });
  });

  it('drive returns the work result, and rethrows its rejection', async () => {
    const clock = new VirtualClock();
    assert.equal(await clock.drive(Promise.resolve(42)), 42);
    await assert.rejects(clock.drive(Promise.reject(new Error('boom'))), /boom/);
  });

  it('paced, runs no faster than its factor of the wall clock, and still ends', async () => {
    const clock = new VirtualClock();
    clock.paceAt(1000);
    const wallFrom = performance.now();
    const woke: number[] = [];
    const work = (async () => {
      for (const t of [100, 200, 300]) {
        await clock.sleepUntil(t);
        woke.push(performance.now() - wallFrom);
      }
    })();
    await clock.drive(work);
    // 100 s of experiment per 100 ms of wall time (a timer fires at most late, never early).
    woke.forEach((ms, i) => assert.ok(ms >= (i + 1) * 100 - 2, `${(i + 1) * 100} s of experiment reached after ${ms.toFixed(0)} ms`));
    assert.throws(() => clock.paceAt(0), RangeError);
  });
});
