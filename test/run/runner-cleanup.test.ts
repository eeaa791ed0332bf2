import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Platform } from '../../src/platforms/platform.ts';
import { RealClock } from '../../src/run/real-clock.ts';
import { RunFailure } from '../../src/run/run-failure.ts';
import { runExperiment } from '../../src/run/runner.ts';
import { parseScript } from '../../src/script/parse.ts';

const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

describe('runExperiment on a real clock, when the run throws', () => {
  it('leaves no timer behind (the run-length watchdog and the sampling loop end with it)', async () => {
    const platform: Platform = {
      name: 'broken',
      clock: new RealClock(),
      refreshSeconds: 1,
      minIntervalSeconds: 1,
      inventory: async () => ({ hosts: ['h1'], vms: [{ name: 'vm1', host: 'h1' }] }),
      migrate: () => Promise.reject(new Error('not used')),
      sample: async () => [],
      createLoad: () => {
        throw new Error('not used');
      },
      describe: () => ({}),
      close: async () => {},
    };
    const load = {
      addClients: () => {
        throw new Error('the load balancer is gone');
      },
      removeClients: () => {},
      stopAll: async () => {},
    };
    const before = timers();
    const experiment = parseScript('h1:vm1\n0 add-client cpu 1\n10 end\n', 'test.txt');
    const records = { sample: () => {}, action: () => {}, migration: () => {}, request: () => {}, decision: () => {} };
    const run = runExperiment(experiment, platform, await platform.inventory(), load, records, {
      intervalSeconds: 1, maxMigrationsPerHost: 4, signal: new AbortController().signal, failure: new RunFailure(),
    });
    await assert.rejects(run, /the load balancer is gone/);
    assert.equal(timers(), before, `timers left: ${process.getActiveResourcesInfo().join(', ')}`);
  });
});
