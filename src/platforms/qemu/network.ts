import fs from 'node:fs';
import { exec, execSync, findExecutable } from '../../exec.ts';

/**
 * The lab's network: one namespace of its own, a bridge in it, and a tap per QEMU process.
 * Guest addresses exist only inside the namespace; the host reaches the lab only through
 * unix sockets. Deleting the namespace deletes the bridge and every tap in it.
 */
export const BRIDGE = 'br0';
export const SUBNET_PREFIX = '10.77.0';
export const BRIDGE_ADDRESS = `${SUBNET_PREFIX}.1`;
/**
 * The bridge's MAC, set once: a Linux bridge otherwise takes the lowest MAC of its ports and
 * changes it as taps come and go, and the guests, whose ARP caches still hold the old one,
 * would lose the load balancer after a migration.
 */
export const BRIDGE_MAC = '02:00:00:4d:00:01';

function ip(): string {
  const path = findExecutable('ip');
  if (!path) throw new Error('ip not found: install iproute2');
  return path;
}

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export function netnsExists(name: string): boolean {
  return fs.existsSync(netnsPath(name));
}

/** The guest address of the VM with 1-based `index`. */
export function guestAddress(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 200) throw new RangeError(`VM index ${index} out of 1..200`);
  return `${SUBNET_PREFIX}.${10 + index}`;
}

/** A locally administered MAC for the VM with `index`; the same on every host it visits. */
export function guestMac(index: number): string {
  return `52:54:00:4d:${((index >> 8) & 0xff).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}`;
}

/** Creates the namespace with its loopback and bridge up (the lab's address and MAC unless told others). */
export async function createNetns(name: string, bridge: { address: string; mac: string } = { address: BRIDGE_ADDRESS, mac: BRIDGE_MAC }): Promise<void> {
  const cmd = ip();
  await exec(cmd, ['netns', 'add', name]);
  await exec(cmd, ['-n', name, 'link', 'set', 'lo', 'up']);
  await exec(cmd, ['-n', name, 'link', 'add', BRIDGE, 'address', bridge.mac, 'type', 'bridge']);
  // No STP and no forwarding delay: a port is forwarding as soon as it is up.
  await exec(cmd, ['-n', name, 'link', 'set', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  await exec(cmd, ['-n', name, 'addr', 'add', `${bridge.address}/24`, 'dev', BRIDGE]);
  await exec(cmd, ['-n', name, 'link', 'set', BRIDGE, 'up']);
}

/** Deletes the namespace if it exists (and with it the bridge and taps); synchronous for cleanup paths. */
export function deleteNetns(name: string): void {
  if (!netnsExists(name)) return;
  const result = execSync(ip(), ['netns', 'del', name]);
  if (!result.ok && netnsExists(name)) throw new Error(`ip netns del ${name}: ${result.stderr.trim()}`);
}

/** A tap in the namespace, on the bridge, up: QEMU attaches to it by name. */
export async function createTap(netns: string, tap: string): Promise<void> {
  const cmd = ip();
  await exec(cmd, ['-n', netns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  await exec(cmd, ['-n', netns, 'link', 'set', tap, 'master', BRIDGE]);
  await exec(cmd, ['-n', netns, 'link', 'set', tap, 'up']);
}

export async function deleteTap(netns: string, tap: string): Promise<void> {
  if (!netnsExists(netns)) return;
  try {
    await exec(ip(), ['-n', netns, 'link', 'del', tap]);
  } catch (error) {
    if (!/Cannot find device|does not exist/i.test((error as Error).message)) throw error;
  }
}

/** The command prefix that runs a program inside the namespace (the pid stays the program's: ip execs it). */
export function inNetns(netns: string, command: string, args: readonly string[]): [string, string[]] {
  return [ip(), ['netns', 'exec', netns, command, ...args]];
}

/** Received plus sent bytes of every interface of the namespace `pid` lives in, from /proc/PID/net/dev. */
export function interfaceBytes(pid: number): Map<string, number> | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return null;
  }
  const bytes = new Map<string, number>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    bytes.set(line.slice(0, colon).trim(), (fields[0] ?? 0) + (fields[8] ?? 0));
  }
  return bytes;
}
