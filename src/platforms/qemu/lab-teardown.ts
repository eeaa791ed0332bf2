import fs from 'node:fs';
import path from 'node:path';
import { acquireLock, isLabProcess, LAB_DIR_WHAT, netnsNameFor, readState, writeState, type LabState } from './lab-state.ts';
import { deleteNetns, netnsExists, netnsPath } from './network.ts';
import { isRunning, processesInNetns, processStartTime, signal, terminate, type ProcessIdentity } from './processes.ts';
import { canonicalPath, checkPrivateDir } from './safe-paths.ts';

/**
 * Taking a lab down from what is left on disk: its state file when there is one, and its
 * network namespace, whose name comes from the lab's directory. No live `Lab` is needed, so
 * this works after a crash or a kill -9 of the tool as well as after a clean run. A lab that
 * a live process drives (it holds the lab's lock: a run, a `lab up`) is not taken down.
 */

/** The files a lab creates in its directory (see lab.ts and lab-state.ts); taking it down removes these and nothing else. */
const LOCK_FILE = 'lab.lock';
const LAB_FILE = /^(lab\.json|lab\.lock|lab\.json\.\d+\.tmp|haproxy\.cfg|haproxy\.log|lb\.sock|haproxy-admin\.sock|p\d+\.(qmp|serial|log|migrate))$/;

export interface TakenDown {
  /** Processes that were still running and were ended. */
  processes: number;
  /** True when the namespace existed and was deleted. */
  netns: boolean;
  /** Lab files removed from the directory. */
  files: number;
}

type Log = (line: string) => void;

/** True when `dir` holds any file a lab makes (a lab, or what is left of one). */
export function hasLabFiles(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((entry) => LAB_FILE.test(entry));
  } catch {
    return false;
  }
}

/**
 * What taking down the lab in `dir` starts from: its canonical directory (checked: the
 * user's own, see safe-paths.ts), its lock taken (throws LabInUseError while another live
 * process holds it), its state when the state file can be trusted, and its namespace.
 */
function openForTakeDown(dir: string, log: Log): { dir: string; state: LabState | null; netns: string; release: () => void } {
  const resolved = canonicalPath(dir);
  const exists = checkPrivateDir(LAB_DIR_WHAT, resolved);
  const release = exists ? acquireLock(resolved, { mineIsFine: true }) : () => {};
  let state: LabState | null = null;
  try {
    state = exists ? readState(resolved) : null;
  } catch (error) {
    log(`ignoring the state file, no pid of it is signalled: ${(error as Error).message}`);
  }
  return { dir: resolved, state, netns: netnsNameFor(resolved), release };
}

/**
 * Ends every process of the lab in `dir` (those of its state file that are still its own,
 * and any left in its namespace), deletes the namespace with its bridge and taps, and removes
 * the lab's files (and the directory when that leaves it empty). Idempotent. Throws
 * LabInUseError, touching nothing, while another live process drives the lab.
 */
export async function takeDown(dir: string, log: Log = () => {}): Promise<TakenDown> {
  const { dir: resolved, state, netns, release } = openForTakeDown(dir, log);
  try {
    if (state && state.status !== 'stopping') {
      state.status = 'stopping';
      try {
        writeState(state);
      } catch {
        // a read-only directory: go on removing what can be removed
      }
    }
    const running = labProcesses(state, netns, log);
    await Promise.all(running.map((identity) => terminate(identity, 3000)));
    const hadNetns = netnsExists(netns);
    deleteNetns(netns);
    const files = removeLabFiles(resolved);
    if (running.length > 0 || hadNetns) log(`lab down: ended ${running.length} processes, ${hadNetns ? `deleted namespace ${netns}` : 'no namespace left'}`);
    return { processes: running.length, netns: hadNetns, files };
  } finally {
    release();
    removeIfEmpty(resolved);
  }
}

/**
 * The same, synchronously and with SIGKILL: for a process that is exiting and cannot wait
 * (an owned lab when the tool quits without closing its platform).
 */
export function takeDownSync(dir: string): void {
  const { dir: resolved, state, netns, release } = openForTakeDown(dir, () => {});
  try {
    const running = labProcesses(state, netns, () => {});
    for (const identity of running) signal(identity, 'SIGKILL');
    const deadline = performance.now() + 3000;
    while (running.some(isRunning) && performance.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    try {
      deleteNetns(netns);
    } catch {
      // still held by a process that would not die: lab down will retry
    }
    removeLabFiles(resolved);
  } finally {
    release();
    removeIfEmpty(resolved);
  }
}

/**
 * The running processes of the state file that really are the lab's (see isLabProcess), and
 * any other process in the lab's namespace (one the state file missed: only root can put a
 * process there).
 */
function labProcesses(state: LabState | null, netns: string, log: Log): ProcessIdentity[] {
  const identities: ProcessIdentity[] = [];
  for (const record of state?.processes ?? []) {
    if (isLabProcess(record, state?.dir as string)) identities.push(record);
    else if (isRunning(record)) log(`not signalling pid ${record.pid} of ${record.id}: it is not the lab's ${record.kind} any more`);
  }
  for (const pid of processesInNetns(netnsPath(netns))) {
    const starttime = processStartTime(pid);
    if (starttime !== null && !identities.some((p) => p.pid === pid && p.starttime === starttime)) identities.push({ pid, starttime });
  }
  return identities;
}

/**
 * Removes the lab's own files from `dir` but its lock, which its release removes (removed
 * while still held, a newcomer could lock a fresh one in the moment before); returns how many.
 */
function removeLabFiles(dir: string): number {
  let files = 0;
  try {
    for (const entry of fs.readdirSync(dir)) {
      if (!LAB_FILE.test(entry) || entry === LOCK_FILE) continue;
      fs.rmSync(path.join(dir, entry), { force: true });
      files++;
    }
  } catch {
    // no directory: nothing to remove
  }
  return files;
}

/** Removes the lab directory once the lab's files and lock are gone, if nothing else is in it. */
function removeIfEmpty(dir: string): void {
  try {
    if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  } catch {
    // no directory, or another process's file appeared: it stays
  }
}
