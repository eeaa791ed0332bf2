import fs from 'node:fs';
import path from 'node:path';
import { netnsNameFor, readState, writeState, type LabState } from './lab-state.ts';
import { deleteNetns, netnsExists, netnsPath } from './network.ts';
import { isRunning, processesInNetns, processStartTime, signal, terminate, type ProcessIdentity } from './processes.ts';

/**
 * Taking a lab down from what is left on disk: its state file when there is one, and its
 * network namespace, whose name comes from the lab's directory. No live `Lab` is needed, so
 * this works after a crash or a kill -9 of the tool as well as after a clean run.
 */

/** The files a lab creates in its directory (see lab.ts and lab-state.ts); taking it down removes these and nothing else. */
const LAB_FILE = /^(lab\.json|lab\.lock|lab\.json\.\d+\.tmp|haproxy\.cfg|haproxy\.log|lb\.sock|haproxy-admin\.sock|p\d+\.(qmp|serial|log|migrate))$/;

export interface TakenDown {
  /** Processes that were still running and were ended. */
  processes: number;
  /** True when the namespace existed and was deleted. */
  netns: boolean;
  /** Lab files removed from the directory. */
  files: number;
}

/**
 * Ends every process of the lab in `dir` (those in its state file and any left in its
 * namespace), deletes the namespace with its bridge and taps, and removes the lab's files
 * (and the directory when that leaves it empty). Idempotent.
 */
export async function takeDown(dir: string, log: (line: string) => void = () => {}): Promise<TakenDown> {
  const resolved = path.resolve(dir);
  const state = readState(resolved);
  const netns = state?.netns ?? netnsNameFor(resolved);
  if (state && state.status !== 'stopping') {
    state.status = 'stopping';
    try {
      writeState(state);
    } catch {
      // a read-only or vanished directory: go on removing what can be removed
    }
  }
  const running = labProcesses(state, netns).filter(isRunning);
  await Promise.all(running.map((identity) => terminate(identity, 3000)));
  const hadNetns = netnsExists(netns);
  deleteNetns(netns);
  const files = removeLabFiles(resolved);
  if (running.length > 0 || hadNetns) log(`lab down: ended ${running.length} processes, ${hadNetns ? `deleted namespace ${netns}` : 'no namespace left'}`);
  return { processes: running.length, netns: hadNetns, files };
}

/**
 * The same, synchronously and with SIGKILL: for a process that is exiting and cannot wait
 * (an owned lab when the tool quits without closing its platform).
 */
export function takeDownSync(dir: string): void {
  const resolved = path.resolve(dir);
  const state = readState(resolved);
  const netns = state?.netns ?? netnsNameFor(resolved);
  const running = labProcesses(state, netns).filter(isRunning);
  for (const identity of running) signal(identity, 'SIGKILL');
  const deadline = performance.now() + 3000;
  while (running.some(isRunning) && performance.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  try {
    deleteNetns(netns);
  } catch {
    // still held by a process that would not die: lab down will retry
  }
  removeLabFiles(resolved);
}

/** The processes of the state file, and any other process in the lab's namespace (one the state file missed). */
function labProcesses(state: LabState | null, netns: string): ProcessIdentity[] {
  const identities: ProcessIdentity[] = [...(state?.processes ?? [])];
  for (const pid of processesInNetns(netnsPath(netns))) {
    const starttime = processStartTime(pid);
    if (starttime !== null && !identities.some((p) => p.pid === pid && p.starttime === starttime)) identities.push({ pid, starttime });
  }
  return identities;
}

/** Removes the lab's own files from `dir`, and `dir` when that leaves it empty; returns how many. */
function removeLabFiles(dir: string): number {
  let files = 0;
  try {
    for (const entry of fs.readdirSync(dir)) {
      if (!LAB_FILE.test(entry)) continue;
      fs.rmSync(path.join(dir, entry), { force: true });
      files++;
    }
    if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  } catch {
    // no directory: nothing to remove
  }
  return files;
}
