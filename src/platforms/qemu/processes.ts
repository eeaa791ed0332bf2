import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { openExclusive } from './safe-paths.ts';

/**
 * A process the lab started, told apart from a later process that reuses its pid by its
 * start time (field 22 of /proc/PID/stat, in clock ticks since boot).
 */
export interface ProcessIdentity {
  pid: number;
  starttime: string;
}

/** The fields of /proc/PID/stat from field 3 (the state) on, or null when there is no such process. */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Field 22 of /proc/PID/stat, or null when there is no such process. */
export function processStartTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** True while the process runs (a zombie, already dead but not reaped, counts as gone). */
export function isRunning(identity: ProcessIdentity): boolean {
  const fields = statFields(identity.pid);
  return fields !== null && fields[19] === identity.starttime && fields[0] !== 'Z' && fields[0] !== 'X';
}

/** The arguments the process was started with (argv), or null when there is no such process. */
export function commandLine(pid: number): string[] | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return null;
  }
}

/** The real user id of the process, or null when there is no such process. */
export function processUid(pid: number): number | null {
  try {
    const match = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Starts `command` in its own session, detached from this process (it outlives the tool:
 * the lab stays up between commands), stdout and stderr going to `logPath`, a new file.
 */
export function spawnDetached(command: string, args: readonly string[], logPath: string): { identity: ProcessIdentity } {
  const log = openExclusive(logPath);
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
    // A failed spawn is thrown below (no pid); its 'error' event, emitted later, must not crash the tool.
    child.once('error', () => undefined);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`cannot start ${command}`);
    child.unref();
    // The start time as soon as /proc has it: the process exists once spawn returned a pid.
    const starttime = processStartTime(pid) ?? '';
    return { identity: { pid, starttime } };
  } finally {
    fs.closeSync(log);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Ends the process: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function terminate(identity: ProcessIdentity, graceMs = 3000): Promise<void> {
  if (!isRunning(identity)) return;
  signal(identity, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  while (isRunning(identity) && performance.now() < deadline) await sleep(20);
  if (!isRunning(identity)) return;
  signal(identity, 'SIGKILL');
  const killDeadline = performance.now() + 5000;
  while (isRunning(identity) && performance.now() < killDeadline) await sleep(20);
}

/** Sends `name` to the process if it is still the one we started. */
export function signal(identity: ProcessIdentity, name: NodeJS.Signals): void {
  if (!isRunning(identity)) return;
  try {
    process.kill(identity.pid, name);
  } catch {
    // gone meanwhile
  }
}

/** The pids of the processes whose network namespace is the one bound at `netnsPath` (/run/netns/NAME). */
export function processesInNetns(netnsPath: string): number[] {
  let target: fs.Stats;
  try {
    target = fs.statSync(netnsPath);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ns = fs.statSync(`/proc/${entry}/ns/net`);
      if (ns.ino === target.ino && ns.dev === target.dev) pids.push(Number(entry));
    } catch {
      // gone, or not ours to look at
    }
  }
  return pids;
}
