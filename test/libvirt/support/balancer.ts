/**
 * HAProxy on the libvirt hosts' bridge, as the user's load balancer: it runs in the hosts'
 * network namespace, forwards to the domains' addresses on the bridge, and listens on a unix
 * socket in the fixture's directory, which the tool (outside the namespace) reaches.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exec, findExecutable } from '../../../src/exec.ts';
import { haproxyConfig } from '../../../src/platforms/qemu/haproxy.ts';
import { waitForVmThroughLb } from '../../../src/platforms/qemu/lb-request.ts';
import { inNetns } from '../../../src/platforms/qemu/network.ts';
import { isRunning, spawnDetached, terminate, type ProcessIdentity } from '../../../src/platforms/qemu/processes.ts';
import type { LibvirtHosts } from './libvirt-hosts.ts';

export interface Balancer {
  /** The unix socket clients connect to. */
  socket: string;
  identity: ProcessIdentity;
  /** Ends HAProxy; safe to call again. */
  stop(): Promise<void>;
}

/** Starts HAProxy over `vms` and resolves once each VM answers its ping through it. */
export async function startBalancer(lab: LibvirtHosts, vms: readonly { name: string; address: string }[], readyTimeoutMs = 30_000): Promise<Balancer> {
  const haproxy = findExecutable('haproxy');
  if (!haproxy) throw new Error('haproxy not found: install haproxy (scripts/install-lab-deps.sh)');
  const dir = fs.mkdtempSync(path.join(lab.dir, 'balancer-'));
  const socket = path.join(dir, 'lb.sock');
  const config = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(config, haproxyConfig({ listenSocket: socket, adminSocket: path.join(dir, 'admin.sock'), vms: [...vms], serverTimeoutSeconds: 600 }), { flag: 'wx' });
  await exec(haproxy, ['-c', '-q', '-f', config]);
  const log = path.join(dir, 'haproxy.log');
  const [command, args] = inNetns(lab.netns, haproxy, ['-db', '-f', config]);
  const { identity } = spawnDetached(command, args, log);
  const balancer: Balancer = { socket, identity, stop: () => terminate(identity, 3000) };
  try {
    const deadline = performance.now() + readyTimeoutMs;
    while (!fs.existsSync(socket)) {
      if (!isRunning(identity)) throw new Error(`HAProxy exited: ${fs.readFileSync(log, 'utf8').slice(-800)}`);
      if (performance.now() > deadline) throw new Error(`HAProxy did not open ${socket}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all(vms.map((vm) => waitForVmThroughLb(socket, vm.name, Math.max(1000, deadline - performance.now()))));
    return balancer;
  } catch (error) {
    await balancer.stop();
    throw error;
  }
}
