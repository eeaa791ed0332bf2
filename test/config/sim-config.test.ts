import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { MAX_HOSTS } from '../../src/input-limits.ts';
import { loadSimConfig } from '../../src/platforms/sim/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'vm-monitoring-sim-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The one-line form of the InputError that loading a sim config of `text` throws. */
function errorOf(text: string): string {
  const path = join(dir, 'sim.yaml');
  writeFileSync(path, text);
  try {
    loadSimConfig(path);
  } catch (error) {
    if (error instanceof InputError) return error.toOneLine().replace(`${path}:`, 'sim.yaml:');
    throw error;
  }
  assert.fail('expected an InputError');
}

describe('loadSimConfig', () => {
  it('reports a refresh rate finer than the sim samples at its line', () => {
    assert.equal(errorOf('profile: qemu\nrefreshSeconds: 0.5\n'), 'sim.yaml:2:17: refreshSeconds: the sim samples at most every 1 s');
  });

  it('reports a VM placed on a host the inventory lacks at the VM', () => {
    assert.equal(
      errorOf('inventory:\n  hosts: [esx1, esx2]\n  vms:\n    vm1: esx1\n    vm2: esx3\n'),
      "sim.yaml:5:10: inventory.vms.vm2: unknown host 'esx3' (not in inventory.hosts)",
    );
  });

  it(`reports an inventory of more than ${MAX_HOSTS} hosts at its list`, () => {
    const hosts = Array.from({ length: MAX_HOSTS + 1 }, (_, index) => `    - h${index}\n`).join('');
    assert.equal(errorOf(`inventory:\n  hosts:\n${hosts}  vms: {}\n`), `sim.yaml:3:5: inventory.hosts: at most ${MAX_HOSTS} hosts`);
  });
});
