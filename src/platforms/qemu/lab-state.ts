import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { commandLine, isRunning, processStartTime, processUid, type ProcessIdentity } from './processes.ts';
import { tryLockExclusive } from './file-lock.ts';
import { checkPrivateDir, readNoFollow, writeExclusive } from './safe-paths.ts';

/**
 * The lab's state file, `LAB_DIR/lab.json`: everything the lab created, written before or
 * right after each thing is created, so that `lab down` can remove it all even after the
 * tool was killed. It is read back checked: in a directory of the user's own only, in the
 * shape this tool writes, every path where the lab puts it.
 */

const processRecordSchema = z
  .object({
    pid: z.number().int().nonnegative(),
    /** Field 22 of /proc/PID/stat: tells the process apart from a later one with its pid. */
    starttime: z.string(),
    id: z.string().regex(/^(haproxy|p\d+)$/),
    kind: z.enum(['qemu', 'haproxy', 'kvm-probe']),
    /** Where its stdout and stderr go. */
    log: z.string(),
    vm: z.string().optional(),
    host: z.string().optional(),
    tap: z.string().regex(/^t\d+h\d+$/).optional(),
    qmp: z.string().optional(),
    serial: z.string().optional(),
    /** True for a QEMU started with -incoming that has not taken over its VM yet. */
    incoming: z.boolean().optional(),
  })
  .strict();

const vmRecordSchema = z
  .object({
    name: z.string(),
    index: z.number().int().positive(),
    address: z.string(),
    mac: z.string(),
    host: z.string(),
    /** The id of the QEMU process running it ('' before it is started). */
    process: z.string(),
  })
  .strict();

const labStateSchema = z
  .object({
    version: z.literal(1),
    dir: z.string(),
    netns: z.string(),
    status: z.enum(['starting', 'up', 'stopping']),
    created_at: z.string(),
    accelerator: z.enum(['kvm', 'tcg']).nullable(),
    /** How the accelerator was chosen (tried KVM and it booted, or why not). */
    accelerator_note: z.string(),
    qemu: z.string(),
    qemu_version: z.string(),
    image: z.object({ kernel: z.string(), kernel_version: z.string(), initrd: z.string(), key: z.string(), modules: z.array(z.string()) }).strict().nullable(),
    memory_mb: z.number().int().positive(),
    vcpus: z.number().int().positive(),
    nic: z.string(),
    lb_socket: z.string(),
    admin_socket: z.string(),
    hosts: z.array(z.object({ name: z.string(), cpus: z.array(z.number().int().nonnegative()).nullable() }).strict()),
    vms: z.array(vmRecordSchema),
    processes: z.array(processRecordSchema),
    next_process: z.number().int().positive(),
    boot_seconds: z.record(z.string(), z.number()),
  })
  .strict();

export type Accelerator = 'kvm' | 'tcg';
export type ProcessRecord = z.infer<typeof processRecordSchema>;
export type VmRecord = z.infer<typeof vmRecordSchema>;
export type LabState = z.infer<typeof labStateSchema>;

export const STATE_FILE = 'lab.json';
export const LOCK_FILE = 'lab.lock';
export const LAB_DIR_WHAT = 'the lab directory';

/**
 * Where a lab goes by default: in a runtime directory only its user may enter (root's
 * /run/vm-monitoring, else $XDG_RUNTIME_DIR/vm-monitoring, else TMPDIR/vm-monitoring-UID),
 * made 0700 by `lab up` and checked like any lab directory (see safe-paths.ts).
 */
export function defaultLabDir(uid = process.geteuid?.() ?? 0, env: NodeJS.ProcessEnv = process.env): string {
  const runtime = uid === 0 ? '/run/vm-monitoring' : env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'vm-monitoring') : path.join(os.tmpdir(), `vm-monitoring-${uid}`);
  return path.join(runtime, 'lab');
}

/** The network namespace of the lab in `dir`: derived from the directory, so found even without a state file. */
export function netnsNameFor(dir: string): string {
  return `vmmon-${createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 10)}`;
}

/** Where the lab's files are, from its directory alone: the state file is checked against these. */
export const labFiles = {
  lbSocket: (dir: string): string => path.join(dir, 'lb.sock'),
  adminSocket: (dir: string): string => path.join(dir, 'haproxy-admin.sock'),
  haproxyConfig: (dir: string): string => path.join(dir, 'haproxy.cfg'),
  haproxyLog: (dir: string): string => path.join(dir, 'haproxy.log'),
  /** A QEMU process's QMP socket, serial console, log and incoming migration socket. */
  ofProcess: (dir: string, id: string, suffix: 'qmp' | 'serial' | 'log' | 'migrate'): string => path.join(dir, `${id}.${suffix}`),
};

/** QEMU's serial console chardev for `serialPath`: also what tells the lab's QEMU processes from others (see isLabProcess). */
export function serialChardev(serialPath: string): string {
  return `file,id=serial0,path=${serialPath}`;
}

/**
 * The state of the lab in `dir` (absolute, canonical), or null when there is none. Throws
 * when the directory is not the user's own (see safe-paths.ts) or the file is not a state
 * file this tool wrote for this directory.
 */
export function readState(dir: string): LabState | null {
  if (!checkPrivateDir(LAB_DIR_WHAT, dir)) return null;
  const file = path.join(dir, STATE_FILE);
  let text: string;
  try {
    text = readNoFollow(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw notOurs(file, 'not JSON');
  }
  const parsed = labStateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw notOurs(file, `${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'invalid'}`);
  }
  const mismatch = pathMismatch(parsed.data, dir);
  if (mismatch) throw notOurs(file, mismatch);
  return parsed.data;
}

function notOurs(file: string, why: string): Error {
  return new Error(`${file} is not a lab state file this tool wrote (${why}): 'vm-monitoring lab down' clears the directory`);
}

/** What in `state` is not where the lab in `dir` puts it, or null. */
function pathMismatch(state: LabState, dir: string): string | null {
  if (state.dir !== dir) return `dir is ${state.dir}`;
  if (state.netns !== netnsNameFor(dir)) return `netns is ${state.netns}`;
  if (state.lb_socket !== labFiles.lbSocket(dir) || state.admin_socket !== labFiles.adminSocket(dir)) return 'a socket outside the directory';
  const ids = new Set<string>();
  for (const record of state.processes) {
    if (ids.has(record.id)) return `process ${record.id} listed twice`;
    ids.add(record.id);
    const expected: Partial<Record<'log' | 'qmp' | 'serial', string>> =
      record.kind === 'haproxy'
        ? { log: labFiles.haproxyLog(dir) }
        : { log: labFiles.ofProcess(dir, record.id, 'log'), serial: labFiles.ofProcess(dir, record.id, 'serial'), ...(record.kind === 'qemu' ? { qmp: labFiles.ofProcess(dir, record.id, 'qmp') } : {}) };
    if ((record.kind === 'haproxy') !== (record.id === 'haproxy')) return `process ${record.id} is a ${record.kind}`;
    for (const key of ['log', 'qmp', 'serial'] as const) {
      if (record[key] !== expected[key]) return `process ${record.id}'s ${key} is ${record[key] ?? 'missing'}`;
    }
  }
  const hosts = new Set(state.hosts.map((host) => host.name));
  for (const vm of state.vms) {
    if (!hosts.has(vm.host)) return `${vm.name} is on unknown host ${vm.host}`;
    if (vm.process !== '' && !ids.has(vm.process)) return `${vm.name}'s process ${vm.process} is not listed`;
  }
  return null;
}

/** Writes the state atomically (a crash leaves the old or the new file, never half of one), never through a link. */
export function writeState(state: LabState): void {
  const file = path.join(state.dir, STATE_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.rmSync(temporary, { force: true });
  writeExclusive(temporary, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(temporary, file);
}

/**
 * True when `record` runs and really is the lab in `dir`'s process: the very one it started
 * (same start time), as this user, with the command line the lab gave it. A pid from the
 * state file is signalled only then.
 */
export function isLabProcess(record: ProcessRecord, dir: string): boolean {
  if (!isRunning(record) || processUid(record.pid) !== (process.geteuid?.() ?? 0)) return false;
  const marker = record.kind === 'haproxy' ? labFiles.haproxyConfig(dir) : serialChardev(labFiles.ofProcess(dir, record.id, 'serial'));
  return (commandLine(record.pid) ?? []).includes(marker);
}

/** This process, as a lock owner. */
function self(): ProcessIdentity {
  return { pid: process.pid, starttime: processStartTime(process.pid) ?? '' };
}

const isSelf = (holder: ProcessIdentity): boolean => {
  const me = self();
  return holder.pid === me.pid && holder.starttime === me.starttime;
};

/** The lab is driven by another live process: a run, a `lab up`, a calibration. */
export class LabInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: number,
  ) {
    const command = (commandLine(holder) ?? []).join(' ');
    const shown = command.length > 100 ? `${command.slice(0, 100)}…` : command;
    super(`the lab in ${dir} is in use by process ${holder}${shown ? ` (${shown})` : ''}`);
    this.name = 'LabInUseError';
  }
}

const OPEN_LOCK = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;
/** How long a lock taken by a process that has not written its name yet (it is about to) is waited on. */
const NAMING_WAIT_MS = 2000;

/**
 * Takes the lab's lock, the lease of whoever drives the lab (a run holds it from start to
 * end): one process at a time. The lock is flock(2)'s on LAB_DIR/lab.lock (see file-lock.ts),
 * so the kernel decides who holds it and ends it with its holder, however that ends: no lock
 * is ever stale, and none is taken over. The holder writes its identity into the file for the
 * others to name it. One held by another process throws LabInUseError, and so does one this
 * process holds unless `mineIsFine` (taking down a lab this process drives). Returns a release
 * function.
 */
export function acquireLock(dir: string, options: { mineIsFine?: boolean } = {}): () => void {
  const file = path.join(dir, LOCK_FILE);
  const deadline = Date.now() + NAMING_WAIT_MS;
  for (;;) {
    const fd = fs.openSync(file, OPEN_LOCK, 0o600);
    let held: boolean;
    try {
      // A holder removes the file as it lets go: a lock on the file it removed is no lock on the one there now.
      held = tryLockExclusive(fd, `the lab in ${dir}`) && isAt(fd, file);
      if (held) {
        fs.ftruncateSync(fd, 0);
        fs.writeSync(fd, JSON.stringify(self()), 0);
      }
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    if (held) return releaseOnce(fd, file);
    fs.closeSync(fd);
    const holder = readLock(file);
    if (holder && isRunning(holder)) {
      if (options.mineIsFine && isSelf(holder)) return () => {};
      throw new LabInUseError(dir, holder.pid);
    }
    if (Date.now() > deadline) throw new Error(`cannot lock the lab in ${dir}: it is locked by a process that does not name itself in ${file}`);
    pause(5);
  }
}

/** Lets go of the lock on `fd`, removing `file` while it is still the one locked; a second call does nothing. */
function releaseOnce(fd: number, file: string): () => void {
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    try {
      if (isAt(fd, file)) fs.rmSync(file, { force: true });
    } finally {
      fs.closeSync(fd);
    }
  };
}

/** True when `file` is the open file `fd`. */
function isAt(fd: number, file: string): boolean {
  const open = fs.fstatSync(fd);
  try {
    const named = fs.lstatSync(file);
    return named.dev === open.dev && named.ino === open.ino;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The process the lab's lock names, while it runs, or null. */
export function lockHolder(dir: string): ProcessIdentity | null {
  const holder = readLock(path.join(dir, LOCK_FILE));
  return holder && isRunning(holder) ? holder : null;
}

function readLock(file: string): ProcessIdentity | null {
  try {
    const holder = JSON.parse(readNoFollow(file)) as Partial<ProcessIdentity>;
    return typeof holder.pid === 'number' && Number.isInteger(holder.pid) && holder.pid > 0 && typeof holder.starttime === 'string'
      ? { pid: holder.pid, starttime: holder.starttime }
      : null;
  } catch {
    return null;
  }
}
