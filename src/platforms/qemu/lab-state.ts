import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isRunning, processStartTime, type ProcessIdentity } from './processes.ts';

/**
 * The lab's state file, `LAB_DIR/lab.json`: everything the lab created, written before or
 * right after each thing is created, so that `lab down` can remove it all even after the
 * tool was killed.
 */

export type Accelerator = 'kvm' | 'tcg';

export interface ProcessRecord extends ProcessIdentity {
  id: string;
  kind: 'qemu' | 'haproxy' | 'kvm-probe';
  /** Where its stdout and stderr go. */
  log: string;
  vm?: string;
  host?: string;
  tap?: string;
  qmp?: string;
  serial?: string;
  /** True for a QEMU started with -incoming that has not taken over its VM yet. */
  incoming?: boolean;
}

export interface VmRecord {
  name: string;
  index: number;
  address: string;
  mac: string;
  host: string;
  /** The id of the QEMU process running it. */
  process: string;
}

export interface LabState {
  version: 1;
  dir: string;
  netns: string;
  status: 'starting' | 'up' | 'stopping';
  created_at: string;
  accelerator: Accelerator | null;
  /** How the accelerator was chosen (tried KVM and it booted, or why not). */
  accelerator_note: string;
  qemu: string;
  qemu_version: string;
  image: { kernel: string; kernel_version: string; initrd: string; key: string; modules: string[] } | null;
  memory_mb: number;
  vcpus: number;
  nic: string;
  lb_socket: string;
  admin_socket: string;
  hosts: { name: string; cpus: number[] | null }[];
  vms: VmRecord[];
  processes: ProcessRecord[];
  next_process: number;
  boot_seconds: Record<string, number>;
}

export const STATE_FILE = 'lab.json';
export const LOCK_FILE = 'lab.lock';

/** The network namespace of the lab in `dir`: derived from the directory, so found even without a state file. */
export function netnsNameFor(dir: string): string {
  return `vmmon-${createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 10)}`;
}

export function readState(dir: string): LabState | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, STATE_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const state = JSON.parse(text) as LabState;
    return state.version === 1 ? state : null;
  } catch {
    return null;
  }
}

/** Writes the state atomically (a crash leaves the old or the new file, never half of one). */
export function writeState(state: LabState): void {
  const file = path.join(state.dir, STATE_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(temporary, file);
}

/** This process, as a lock owner. */
function self(): ProcessIdentity {
  return { pid: process.pid, starttime: processStartTime(process.pid) ?? '' };
}

/**
 * Takes the lab's lock: one tool at a time drives a lab. A lock left by a process that is
 * gone is taken over. Returns a release function.
 */
export function acquireLock(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const me = self();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return () => {
        const holder = readLock(file);
        if (holder && holder.pid === me.pid && holder.starttime === me.starttime) fs.rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(file);
      if (holder && isRunning(holder)) throw new Error(`the lab in ${dir} is in use by process ${holder.pid}`, { cause: error });
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock the lab in ${dir}`);
}

function readLock(file: string): ProcessIdentity | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ProcessIdentity;
  } catch {
    return null;
  }
}
