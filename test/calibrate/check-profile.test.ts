import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkProfileOf } from '../../src/cli/calibrate-profile.ts';
import { InputError } from '../../src/errors.ts';
import { PROFILES } from '../../src/platforms/sim/profiles.ts';
import { REPO_ROOT, withTempDir, writeScript } from '../support/cli.ts';

const QEMU_LAB_FILE = path.join(REPO_ROOT, 'src/platforms/sim/qemu-lab-profile.json');

function errorOf(name: string): string {
  try {
    checkProfileOf(name);
  } catch (error) {
    assert.ok(error instanceof InputError, `an InputError, not ${String(error)}`);
    return error.toOneLine();
  }
  assert.fail(`${name} was accepted`);
}

describe('the profile calibrate --check predicts with', () => {
  it('is the sim\'s own profile by name, with the guest the profile was fitted with', () => {
    const saved = JSON.parse(fs.readFileSync(QEMU_LAB_FILE, 'utf8'));
    assert.deepEqual(checkProfileOf('qemu-lab'), { name: 'qemu-lab', model: { migration: PROFILES['qemu-lab'], vms: saved.vms } });
    assert.deepEqual(checkProfileOf('vsphere-4.1'), { name: 'vsphere-4.1', model: { migration: PROFILES['vsphere-4.1'], vms: {} } });
  });

  it('is, from a fitted-profile.json, its values over the profile it is based on', () =>
    withTempDir(async (dir) => {
      const file = writeScript(dir, 'fitted-profile.json', [JSON.stringify({ based_on: 'qemu', migration: { zeroPageBytes: 40 }, vms: { guestOsMB: 30 }, calibration: { at: 'then' } })]);
      assert.deepEqual(checkProfileOf(file).model, { migration: { ...PROFILES.qemu, zeroPageBytes: 40 }, vms: { guestOsMB: 30 } });
      assert.deepEqual(checkProfileOf(QEMU_LAB_FILE).model, checkProfileOf('qemu-lab').model);
    }));

  it('refuses an unknown name, and a fitted profile the sim would not take, at its line and column', () =>
    withTempDir(async (dir) => {
      assert.equal(errorOf('vmware'), `--profile: unknown profile 'vmware': expected ${Object.keys(PROFILES).join(', ')} or the path of a fitted-profile.json written by calibrate`);
      const file = writeScript(dir, 'fitted.json', ['{', '  "based_on": "qemu",', '  "migration": {},', '  "vms": { "guestOsMb": 30 }', '}']);
      assert.equal(errorOf(file), `${file}:4:12: unknown key 'guestOsMb' in vms`);
    }));
});
