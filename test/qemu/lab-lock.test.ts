/**
 * The lab's lock excludes: of processes that race for it at the same millisecond, exactly
 * one holds it, whether the lock file is missing, left by a process that is gone, or left
 * empty; and a holder killed with SIGKILL leaves nothing that keeps the lab locked. No QEMU:
 * the racers are node processes calling acquireLock on a directory of their own.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { LOCK_FILE } from '../../src/platforms/qemu/lab-state.ts';

const LAB_STATE = new URL('../../src/platforms/qemu/lab-state.ts', import.meta.url).href;

/**
 * A racer, driven by lines on its stdin: `race DIR AT` spins until the clock reads AT (ms),
 * calls acquireLock(DIR) and answers `held`, or `refused NAME` with the error's name;
 * `release` lets go of what it holds and answers `released`.
 */
const RACER = `
import readline from 'node:readline';
const { acquireLock } = await import(${JSON.stringify(LAB_STATE)});
let release = () => {};
process.stdout.write('ready\\n');
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [command, dir, at] = line.split(' ');
  if (command === 'race') {
    while (Date.now() < Number(at));
    try {
      release = acquireLock(dir);
      process.stdout.write('held\\n');
    } catch (error) {
      process.stdout.write('refused ' + error.name + '\\n');
    }
  } else {
    release();
    release = () => {};
    process.stdout.write('released\\n');
  }
}
`;

class Racer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;

  constructor() {
    this.child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RACER], { stdio: 'pipe' });
    this.#lines = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async answer(): Promise<string> {
    const next = await this.#lines.next();
    assert.ok(!next.done, `racer ${this.child.pid} ended`);
    return next.value;
  }

  async tell(line: string): Promise<string> {
    this.child.stdin.write(`${line}\n`);
    return this.answer();
  }
}

const RACERS = 4;
const TRIALS = 25;

describe('the lab lock', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-lab-lock-'));
  const racers: Racer[] = [];

  before(async () => {
    for (let index = 0; index < RACERS; index++) racers.push(new Racer());
    for (const racer of racers) assert.equal(await racer.answer(), 'ready');
  });

  after(() => {
    for (const racer of racers) racer.child.kill('SIGKILL');
    fs.rmSync(base, { recursive: true, force: true });
  });

  /** Every racer tries to lock `dir` at the same millisecond; returns what each answered, then lets go. */
  async function race(dir: string, contenders: readonly Racer[] = racers): Promise<string[]> {
    const at = Date.now() + 100;
    const answers = await Promise.all(contenders.map((racer) => racer.tell(`race ${dir} ${at}`)));
    for (const racer of contenders) assert.equal(await racer.tell('release'), 'released');
    return answers;
  }

  /** A lock file as a process that is gone left it (its pid is another process's now). */
  const goneHolder = JSON.stringify({ pid: process.pid, starttime: '1' });

  const cases: { name: string; plant: (file: string) => void }[] = [
    { name: 'no lock file', plant: () => {} },
    { name: 'a lock left by a process that is gone', plant: (file) => fs.writeFileSync(file, goneHolder) },
    { name: 'an empty lock file', plant: (file) => fs.writeFileSync(file, '') },
  ];
  for (const { name, plant } of cases) {
    it(`is held by exactly one of ${RACERS} processes racing for it, with ${name}`, async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const dir = fs.mkdtempSync(path.join(base, 'lab-'));
        plant(path.join(dir, LOCK_FILE));
        const answers = await race(dir);
        assert.equal(answers.filter((answer) => answer === 'held').length, 1, `trial ${trial}: ${answers.join(', ')}`);
        assert.deepEqual(answers.filter((answer) => answer !== 'held'), Array(RACERS - 1).fill('refused LabInUseError'), `trial ${trial}`);
      }
    });
  }

  it('is free again once its holder is killed with SIGKILL', async () => {
    const dir = fs.mkdtempSync(path.join(base, 'lab-'));
    const [victim, ...others] = racers as [Racer, ...Racer[]];
    assert.equal(await victim.tell(`race ${dir} 0`), 'held');
    const killed = new Promise((resolve) => victim.child.once('exit', resolve));
    victim.child.kill('SIGKILL');
    await killed;
    racers.splice(racers.indexOf(victim), 1);
    const answers = await race(dir, others);
    assert.equal(answers.filter((answer) => answer === 'held').length, 1, answers.join(', '));
  });
});
