import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/cli.ts';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'apt-get-waiting.sh');
const FRONTEND_LOCK = '/var/lib/dpkg/lock-frontend';
const HOLD_SECONDS = 4;

function skipReason(): string | false {
  if (process.env.CI === 'true') return false;
  if (process.getuid?.() !== 0) return 'needs root to take dpkg\'s lock';
  if (!fs.existsSync(FRONTEND_LOCK)) return `no ${FRONTEND_LOCK}: not a Debian system`;
  if (spawnSync('python3', ['--version']).status !== 0) return 'needs python3 (Debian package python3) to hold the lock';
  return false;
}

describe('scripts/apt-get-waiting.sh', { skip: skipReason() }, () => {
  it('waits for another install to release dpkg\'s lock instead of failing at once', async () => {
    // dpkg and apt lock with fcntl; python's lockf takes the same kind of lock, as another apt would.
    const holder = spawn('python3', ['-c', `import fcntl,sys,time
f=open('${FRONTEND_LOCK}','w'); fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(${HOLD_SECONDS})`]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before locking`)));
      });
      const started = performance.now();
      // Installing a package that is already installed: it takes the lock, and changes nothing.
      const result = spawnSync('bash', [SCRIPT, 'install', '-y', '-qq', '--no-install-recommends', 'bash'], { encoding: 'utf8', timeout: 120_000 });
      const waitedS = (performance.now() - started) / 1000;
      assert.equal(result.status, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /Could not get lock/);
      assert.ok(waitedS >= HOLD_SECONDS - 1, `it waited for the lock: ${waitedS.toFixed(1)} s`);
    } finally {
      holder.kill();
    }
  });
});
