import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimerQueue, type Timer } from '../../src/run/timer-queue.ts';
import { SeededRandom } from '../../src/seeded-random.ts';

const timer = (time: number, seq: number): Timer => ({ time, seq, callback: () => undefined, cancelled: false });
const earlier = (a: Timer, b: Timer): number => a.time - b.time || a.seq - b.seq;

describe('TimerQueue', () => {
  it('gives timers back by time, then in the order they were scheduled', () => {
    const queue = new TimerQueue();
    for (const [time, seq] of [[5, 0], [1, 1], [5, 2], [1, 3], [0, 4], [5, 5]] as const) queue.push(timer(time, seq));
    const popped: number[] = [];
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) popped.push(next.seq);
    assert.deepEqual(popped, [4, 1, 3, 0, 2, 5]);
    assert.equal(queue.size, 0);
    assert.equal(queue.peek(), undefined);
  });

  it('keeps that order through pushes and pops in turns, past its first capacity, with many equal times', () => {
    const random = new SeededRandom(5);
    const queue = new TimerQueue();
    const expected: Timer[] = [];
    let seq = 0;
    let now = 0;
    for (let step = 0; step < 40_000; step++) {
      if (random.next() < 0.6 || expected.length === 0) {
        // Whole times, so that many timers share one, as callbacks at one instant do.
        const pushed = timer(now + Math.floor(random.between(0, 50)), seq++);
        queue.push(pushed);
        expected.push(pushed);
      } else {
        expected.sort(earlier);
        const want = expected.shift() as Timer;
        assert.equal(queue.peek(), want);
        assert.equal(queue.pop(), want);
        now = want.time;
      }
      assert.equal(queue.size, expected.length);
    }
    expected.sort(earlier);
    for (const want of expected) assert.equal(queue.pop(), want);
    assert.equal(queue.pop(), undefined);
  });
});
