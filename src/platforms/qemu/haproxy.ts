import net from 'node:net';

/** The round-robin backend over every VM; each VM also has `vm_NAME` reached through `/vm/NAME/`. */
export const ALL_BACKEND = 'all';

export interface BalancerSpec {
  /** The unix socket clients connect to (on the host's file system). */
  listenSocket: string;
  /** HAProxy's admin socket (runtime API), to take servers in and out of rotation. */
  adminSocket: string;
  vms: { name: string; address: string }[];
  /** How long HAProxy waits for a server to answer: the longest job a client may ask for. */
  serverTimeoutSeconds: number;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * HAProxy's configuration: one frontend on a unix socket, round-robin over the VMs (like the
 * seed's mod_proxy_balancer `byrequests`), no health checks (a stopped VM stays in rotation
 * and its requests wait for TCP, as the seed's did), keep-alive on both sides.
 */
export function haproxyConfig(spec: BalancerSpec): string {
  const lines = [
    '# Written by vm-monitoring lab; regenerated on every lab up.',
    'global',
    '  nbthread 1',
    '  maxconn 4096',
    // Abnormal requests only (errors, timeouts, retries), on stdout: the lab's haproxy.log.
    '  log stdout format raw local0 info',
    `  stats socket ${spec.adminSocket} mode 600 level admin`,
    '',
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  option dontlog-normal',
    '  option http-keep-alive',
    '  timeout connect 10s',
    '  timeout http-request 30s',
    `  timeout client ${spec.serverTimeoutSeconds}s`,
    `  timeout server ${spec.serverTimeoutSeconds}s`,
    `  timeout http-keep-alive ${spec.serverTimeoutSeconds}s`,
    '',
    'frontend lb',
    `  bind unix@${spec.listenSocket} mode 600`,
    ...spec.vms.map((vm) => `  use_backend vm_${vm.name} if { path_beg /vm/${vm.name}/ }`),
    `  default_backend ${ALL_BACKEND}`,
    '',
    `backend ${ALL_BACKEND}`,
    '  balance roundrobin',
    ...spec.vms.map((vm) => `  server ${vm.name} ${vm.address}:80`),
  ];
  for (const vm of spec.vms) {
    lines.push(
      '',
      `backend vm_${vm.name}`,
      `  http-request replace-path ^/vm/${escapeRegex(vm.name)}(/.*)$ \\1`,
      `  server ${vm.name} ${vm.address}:80`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Sends one command to HAProxy's runtime API and resolves with its answer. */
export function haproxyCommand(adminSocket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(adminSocket);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`haproxy '${command}': no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`haproxy '${command}': ${error.message}`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer.trim());
    });
  });
}

/** Puts exactly `servers` of the round-robin backend in rotation, the others in maintenance. */
export async function setRotation(adminSocket: string, allVms: readonly string[], servers: readonly string[]): Promise<void> {
  for (const vm of allVms) {
    const state = servers.includes(vm) ? 'ready' : 'maint';
    const answer = await haproxyCommand(adminSocket, `set server ${ALL_BACKEND}/${vm} state ${state}`);
    if (answer !== '') throw new Error(`haproxy: set server ${ALL_BACKEND}/${vm} state ${state}: ${answer}`);
  }
}
