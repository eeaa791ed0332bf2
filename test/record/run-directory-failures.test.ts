import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { createEmptyDirectory, RunDirectory } from '../../src/record/run-directory.ts';
import { action, sample } from './fixtures.ts';
import { rootSkipReason } from '../support/needing.ts';

describe('RunDirectory under faults', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-faults-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');
  const dataLines = (dir: string, file: string): number => read(dir, file).split('\n').length - 2;

  it('writes everything out each time the experiment passes another minute, not only each wall second', () => {
    const dir = path.join(tmp, 'minutes');
    const run = RunDirectory.open(dir, {});
    run.action({ ...action, fired_s: 10 });
    run.sample({ ...sample, time_s: 59.5 });
    assert.equal(dataLines(dir, 'actions.csv'), 0, 'still buffered within the first minute');
    run.sample({ ...sample, time_s: 60 });
    assert.equal(dataLines(dir, 'actions.csv'), 1);
    assert.equal(dataLines(dir, 'samples.csv'), 2);
    run.sample({ ...sample, time_s: 100 });
    assert.equal(dataLines(dir, 'samples.csv'), 2, 'the next flush waits for the next minute');
    run.sample({ ...sample, time_s: 3000 });
    assert.equal(dataLines(dir, 'samples.csv'), 4);
    run.finish({});
  });

  it('refuses output paths that cannot be created, at once and as bad input', () => {
    for (const dir of ['', '/proc/vm-monitoring-x', '/proc/self/vm-monitoring-x/run', path.join(tmp, 'minutes', 'run.json', 'x')]) {
      assert.throws(() => createEmptyDirectory(dir), InputError, `'${dir}'`);
    }
  });

  it('refuses a symbolic link as the output directory', () => {
    const real = fs.mkdtempSync(path.join(tmp, 'real-'));
    const link = path.join(tmp, 'link');
    fs.symlinkSync(real, link);
    assert.throws(() => createEmptyDirectory(link), /symbolic link/);
    assert.deepEqual(fs.readdirSync(real), []);
  });

  it('on a full disk: says so once, keeps whole rows, drops the rest, and run.json says failed and why', { skip: rootSkipReason('to mount a small tmpfs') }, () => {
    const disk = fs.mkdtempSync(path.join(tmp, 'disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
    try {
      const dir = path.join(disk, 'run');
      const errors: string[] = [];
      const run = RunDirectory.open(dir, { script: 'x' }, { onWriteError: (reason) => errors.push(reason) });
      for (let i = 0; i < 20_000 && errors.length === 0; i++) run.sample({ ...sample, time_s: i / 100 });
      assert.equal(errors.length, 1);
      assert.match(errors[0] as string, /^cannot write .*samples\.csv: ENOSPC: no space left on device/);
      for (let i = 0; i < 100; i++) run.sample({ ...sample, time_s: 200 + i });
      run.finish({ status: 'completed' });
      assert.equal(errors.length, 1, 'the first error only');
      const samples = read(dir, 'samples.csv');
      assert.ok(samples.endsWith('\n'));
      for (const line of samples.split('\n').slice(1, -1)) assert.match(line, /^[\d.]+,host1,cpu,42\.25,%$/);
      const runJson = JSON.parse(read(dir, 'run.json')) as Record<string, unknown>;
      assert.equal(runJson.status, 'failed');
      assert.equal(runJson.error, errors[0]);
      assert.equal(runJson.script, 'x');
    } finally {
      execFileSync('umount', [disk]);
    }
  });

  it('on a disk left with no room at all, run.json still gets its last version, longer than its first', { skip: rootSkipReason('to mount a small tmpfs') }, () => {
    const disk = fs.mkdtempSync(path.join(tmp, 'full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
    try {
      const dir = path.join(disk, 'run');
      // A first run.json just short of a 4 KiB page: its last version crosses into the next one.
      const run = RunDirectory.open(dir, { script: 'x'.repeat(3900) });
      const filler = path.join(disk, 'filler');
      const fd = fs.openSync(filler, 'w');
      try {
        for (;;) fs.writeSync(fd, Buffer.alloc(4096));
      } catch {
        // The disk is full.
      } finally {
        fs.closeSync(fd);
      }
      run.finish({ status: 'failed', error: 'e'.repeat(500), ended_at: '2026-12-01T00:00:00Z', run_seconds: 12.5 });
      const runJson = JSON.parse(read(dir, 'run.json')) as Record<string, unknown>;
      assert.equal(runJson.status, 'failed');
      assert.equal(runJson.run_seconds, 12.5);
      assert.equal(runJson.script, 'x'.repeat(3900));
    } finally {
      execFileSync('umount', [disk]);
    }
  });
});
