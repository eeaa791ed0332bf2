import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import type { Inventory, Platform } from '../../src/platforms/platform.ts';
import { policyConfigSchema } from '../../src/policy/policy-config.ts';
import { VirtualClock } from '../../src/run/virtual-clock.ts';
import { prepareRun } from '../../src/run/session.ts';
import { parseScript } from '../../src/script/parse.ts';

/** Only what prepareRun reads: a name, the sampling limits and an inventory. */
function platformWith(inventory: Inventory): Platform {
  const unused = (): never => {
    throw new Error('prepareRun starts nothing');
  };
  return {
    name: 'fake', clock: new VirtualClock(), refreshSeconds: 1, minIntervalSeconds: 1,
    inventory: () => Promise.resolve(inventory),
    migrate: unused, sample: unused, createLoad: unused, describe: unused, close: unused,
  };
}

const INVENTORY: Inventory = { hosts: ['h1', 'h2'], vms: [{ name: 'vm1', host: 'h1' }] };
const DRS_SCRIPT = 'h1:vm1 h2:\n0 add-client cpu 1\n5 drs 3\n10 end\n';

describe('prepareRun and the placement policy', () => {
  it('takes each host\'s CPU capacity from the inventory, the policy config over it', async () => {
    const reported = await prepareRun(parseScript(DRS_SCRIPT, 's.txt'), platformWith({ ...INVENTORY, hostCpuMHz: { h1: 2000, h2: 4000 } }));
    assert.deepEqual(reported.policy?.capacityMHz, { h1: 2000, h2: 4000 });
    const perHost = await prepareRun(parseScript(DRS_SCRIPT, 's.txt'), platformWith({ ...INVENTORY, hostCpuMHz: { h1: 2000, h2: 4000 } }), undefined,
      policyConfigSchema.parse({ drs: { hostCpuMHz: { h2: 1000 } } }));
    assert.deepEqual(perHost.policy?.capacityMHz, { h1: 2000, h2: 1000 });
    const one = await prepareRun(parseScript(DRS_SCRIPT, 's.txt'), platformWith(INVENTORY), undefined, policyConfigSchema.parse({ drs: { hostCpuMHz: 3000 } }));
    assert.deepEqual(one.policy?.capacityMHz, { h1: 3000, h2: 3000 });
  });

  it('refuses a policy action when a host\'s capacity is unknown, at the first policy action', async () => {
    await assert.rejects(prepareRun(parseScript(DRS_SCRIPT, 's.txt'), platformWith(INVENTORY)), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /the fake platform does not report the CPU capacity of host h1.*drs\.hostCpuMHz/);
      assert.deepEqual([error.at?.line, error.at?.column], [3, 1]);
      return true;
    });
  });

  it('gives no policy to a script without policy actions', async () => {
    const prepared = await prepareRun(parseScript('h1:vm1 h2:\n0 add-client cpu 1\n10 end\n', 's.txt'), platformWith(INVENTORY));
    assert.equal(prepared.policy, undefined);
  });
});
