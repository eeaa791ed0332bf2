import { spawnSync } from 'node:child_process';
import { findExecutable } from '../../exec.ts';

const CONFLICT_EXIT_CODE = 100;

/**
 * Takes flock(2)'s exclusive lock on the open file `fd`, without waiting: true when taken,
 * false when another open file holds it. The lock belongs to the open file, not to a name:
 * it lasts until the descriptor is closed, by this process or by the kernel when the process
 * ends, however it ends; so a lock is never stale. Node has no flock: util-linux's flock(1)
 * takes it on the descriptor it is handed (an open file shared with this process) and exits.
 */
export function tryLockExclusive(fd: number, what: string): boolean {
  const flock = findExecutable('flock');
  if (flock === null) throw new Error(`cannot lock ${what}: flock (util-linux) is not installed`);
  const result = spawnSync(flock, ['--nonblock', '--exclusive', '--conflict-exit-code', String(CONFLICT_EXIT_CODE), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    encoding: 'utf8',
  });
  if (result.status === 0) return true;
  if (result.status === CONFLICT_EXIT_CODE) return false;
  const why = result.error?.message ?? (result.stderr.trim() || `flock exited with ${result.status ?? result.signal}`);
  throw new Error(`cannot lock ${what}: ${why}`);
}
