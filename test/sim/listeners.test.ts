/** Many migrations at once on the sim: no listener piles up on the run's abort signal. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { simConfigSchema } from '../../src/platforms/sim/config.ts';
import { SimPlatform } from '../../src/platforms/sim/sim-platform.ts';
import { runOnSim } from './run-on-sim.ts';

const COUNT = 20;
const numbers = Array.from({ length: COUNT }, (_, i) => i + 1);

/** Runs `work`, then returns the MaxListenersExceededWarnings the process emitted meanwhile. */
async function listenerWarnings(work: () => Promise<unknown>): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning.message);
  };
  process.on('warning', onWarning);
  try {
    await work();
    await nextTurn(); // warnings are emitted on a later tick
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

test(`${COUNT} migrations running at once add no listener per migration`, async () => {
  const placement = numbers.map((n) => `s${n}:vm${n} t${n}:`).join(' ');
  const script = `${placement}\n${numbers.map((n) => `0 migrate vm${n} t${n}`).join('\n')}\n`;
  let migrations = 0;
  const warnings = await listenerWarnings(async () => {
    const run = await runOnSim(script);
    migrations = run.migrations.filter((m) => m.status === 'succeeded' && m.started_s === 0).length;
  });
  assert.equal(migrations, COUNT, 'all of them ran at the same time');
  assert.deepEqual(warnings, []);
});

test(`an abort interrupts all ${COUNT} running migrations through one listener, removed when they end`, async () => {
  const placement = numbers.flatMap((n) => [{ host: `s${n}`, vms: [`vm${n}`] }, { host: `t${n}`, vms: [] }]);
  const platform = new SimPlatform(simConfigSchema.parse({}), { configPath: undefined, seed: 1, placement, caFile: undefined, insecure: false });
  const interrupt = new AbortController();
  const listeners = (): number => getEventListeners(interrupt.signal, 'abort').length;
  const outcomes = Promise.all(numbers.map((n) => platform.migrate({ vm: `vm${n}`, source: `s${n}`, target: `t${n}` }, interrupt.signal)));
  let whileRunning = 0;
  // Before the first one's setup (6 s at least on the default profile) is over.
  platform.clock.at(1, () => {
    whileRunning = listeners();
    interrupt.abort();
  });
  const ended = await platform.clock.drive(outcomes);
  assert.equal(whileRunning, 1);
  assert.deepEqual(new Set(ended.map((o) => o.status)), new Set(['interrupted']));
  assert.equal(listeners(), 0);

  const later = new AbortController();
  await platform.clock.drive(platform.migrate({ vm: 'vm1', source: 's1', target: 't1' }, later.signal));
  assert.equal(getEventListeners(later.signal, 'abort').length, 0, 'none left once a migration has ended by itself');
});
