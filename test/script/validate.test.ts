import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import type { Inventory } from '../../src/platforms/platform.ts';
import type { Experiment } from '../../src/script/experiment.ts';
import { MAX_VMS } from '../../src/input-limits.ts';
import { parseScript } from '../../src/script/parse.ts';
import { checkAgainstInventory, placementVms } from '../../src/script/validate.ts';

const INVENTORY: Inventory = {
  hosts: ['esx1', 'esx2', 'esx3'],
  vms: [
    { name: 'vm1', host: 'esx1' },
    { name: 'vm2', host: 'esx1' },
    { name: 'vm3', host: 'esx3' },
  ],
};

function check(script: string, inventory: Inventory = INVENTORY): void {
  checkAgainstInventory(parseScript(script, 's.txt'), inventory);
}

/** The one-line form of the InputError that checking `script` against `inventory` throws. */
function errorOf(script: string, inventory: Inventory = INVENTORY): string {
  try {
    check(script, inventory);
  } catch (error) {
    if (error instanceof InputError) return error.toOneLine();
    throw error;
  }
  assert.fail('expected an InputError');
}

function inventoryOfVms(count: number): Inventory {
  return { hosts: ['esx1'], vms: Array.from({ length: count }, (_, i) => ({ name: `vm${i + 1}`, host: 'esx1' })) };
}

describe('checkAgainstInventory', () => {
  it('accepts hosts and VMs the platform has', () => {
    check('esx1:vm1,vm2 esx2: esx3:vm3\n0 migrate vm3 esx2\n5 end');
  });

  it('rejects an unknown host on the placement line', () => {
    assert.equal(errorOf('esx1:vm1 esx9:'), "s.txt:1:10: unknown host 'esx9' (the platform has esx1, esx2, esx3)");
  });

  it('rejects an unknown VM on the placement line', () => {
    assert.equal(errorOf('esx1:vm1,vm7'), "s.txt:1:10: unknown VM 'vm7' (the platform has vm1, vm2, vm3)");
  });

  it('rejects migrating an unknown VM', () => {
    assert.equal(
      errorOf('esx1:vm1\n0 migrate vm7 esx2'),
      "s.txt:2:11: unknown VM 'vm7' (the platform has vm1, vm2, vm3)",
    );
  });

  it('rejects migrating to an unknown host', () => {
    assert.equal(
      errorOf('esx1:vm1\n0 migrate vm1 esx9'),
      "s.txt:2:15: unknown host 'esx9' (the platform has esx1, esx2, esx3)",
    );
  });

  it('accepts maintenance on hosts the platform has', () => {
    check('esx1:vm1,vm2 esx2: esx3:vm3\n0 maintenance enter esx3\n5 maintenance exit esx3\n5 end');
  });

  it('rejects maintenance on a host the platform does not have, at the action', () => {
    // The parser only lets a script enter maintenance on a placement line host, which this check
    // rejects first: build the experiment by hand, as any other caller could.
    const where = (line: number, column: number) => ({ file: 's.txt', line, column });
    const experiment: Experiment = {
      file: 's.txt',
      placement: [{ host: { name: 'esx1', at: where(1, 1) }, vms: [{ name: 'vm1', at: where(1, 6) }] }],
      steps: [
        { delaySeconds: 0, action: { kind: 'drs', level: 2 }, at: where(2, 1) },
        {
          delaySeconds: 1,
          action: { kind: 'maintenance', mode: 'enter', host: { name: 'esx9', at: where(3, 21) } },
          at: where(3, 1),
        },
      ],
    };
    assert.throws(
      () => checkAgainstInventory(experiment, INVENTORY),
      (error) =>
        error instanceof InputError &&
        error.toOneLine() === "s.txt:3:21: unknown host 'esx9' (the platform has esx1, esx2, esx3)",
    );
  });

  it('lists at most 8 names', () => {
    assert.equal(
      errorOf('esx1:vm0', inventoryOfVms(9)),
      "s.txt:1:6: unknown VM 'vm0' (the platform has vm1, vm2, vm3, vm4, vm5, vm6, vm7, vm8, …)",
    );
    assert.equal(
      errorOf('esx1:vm0', inventoryOfVms(8)),
      "s.txt:1:6: unknown VM 'vm0' (the platform has vm1, vm2, vm3, vm4, vm5, vm6, vm7, vm8)",
    );
  });

  it(`checks the most VMs a script may place, ${MAX_VMS}, against as many in well under a second`, () => {
    const inventory = inventoryOfVms(MAX_VMS);
    const script = `esx1:${inventory.vms.map((vm) => vm.name).join(',')}`;
    const experiment = parseScript(script, 's.txt');
    const started = performance.now();
    checkAgainstInventory(experiment, inventory);
    // Comparing each name with every other one took 14 s here.
    assert.ok(performance.now() - started < 2000, `took ${Math.round(performance.now() - started)} ms`);
  });

  it('escapes control characters in the names it lists', () => {
    const inventory: Inventory = { hosts: ['esx1', 'esx\u001b[2J'], vms: [] };
    assert.equal(errorOf('esx9:', inventory), "s.txt:1:1: unknown host 'esx9' (the platform has esx1, esx\\u001b[2J)");
  });

  it('says so when the platform has nothing', () => {
    assert.equal(
      errorOf('esx1:', { hosts: [], vms: [] }),
      "s.txt:1:1: unknown host 'esx1' (the platform has no hosts)",
    );
  });
});

describe('placementVms', () => {
  it('lists the VMs of the placement line in order', () => {
    assert.deepEqual(placementVms(parseScript('esx1:vm1,vm2 esx2: esx3:vm3\n0 migrate vm9 esx1', 's.txt')), [
      'vm1',
      'vm2',
      'vm3',
    ]);
  });
});
