import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RealClock } from '../../src/run/real-clock.ts';

test('the real clock never wakes a sleeper before its time', async () => {
  const clock = new RealClock();
  for (const t of [0.01, 0.03, 0.05]) {
    await clock.sleepUntil(t);
    assert.ok(clock.now() >= t, `woke at ${clock.now()} for ${t}`);
  }
});

test('an abort wakes a real-clock sleeper at once', async () => {
  const clock = new RealClock();
  const interrupt = new AbortController();
  setTimeout(() => interrupt.abort(), 10);
  await clock.sleepUntil(60, interrupt.signal);
  assert.ok(clock.now() < 5, `woke at ${clock.now()} s`);
});

test('a time already past resolves at once and drive passes the work through', async () => {
  const clock = new RealClock();
  await clock.sleepUntil(-1);
  assert.equal(await clock.drive(Promise.resolve(42)), 42);
});
