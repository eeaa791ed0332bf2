/**
 * Real libvirt hosts on this one machine, for the tests of a libvirt platform: a libvirtd per
 * host, each in a private mount namespace where its own directories stand in for the system
 * ones (libvirt locks files under /run/libvirt and /var/lib/libvirt, so two daemons cannot
 * share them), each with its own host UUID (libvirt refuses to migrate to "the same host"),
 * all in ONE network namespace of their own that holds the guests' bridge and carries the
 * migration traffic on its loopback. Clients reach each daemon through its unix socket.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exec, findExecutable } from '../../../src/exec.ts';
import { BRIDGE, createNetns, deleteNetns, inNetns, netnsExists, netnsPath } from '../../../src/platforms/qemu/network.ts';
import { isRunning, processesInNetns, processStartTime, spawnDetached, terminate, type ProcessIdentity } from '../../../src/platforms/qemu/processes.ts';
import { missingLabPackages } from '../../../src/platforms/qemu/requirements.ts';

/** Distinct from the QEMU lab's 10.77.0.x, so that both can be up at once without confusion. */
export const LIBVIRT_SUBNET_PREFIX = '10.78.0';
/** The lab's bridge name, which the domains' XML names. */
export const LIBVIRT_BRIDGE = BRIDGE;
/** Fixed for the reason the lab fixes its own (network.ts BRIDGE_MAC): guests' ARP caches survive taps coming and going. */
const BRIDGE_MAC = '02:00:00:4e:00:01';
/** Each daemon gets its own range of QEMU migration ports, so that two incoming migrations never race for one. */
const MIGRATION_PORT_BASE = 49152;
const MIGRATION_PORTS_PER_HOST = 64;
const MAX_HOSTS = 3;

export interface LibvirtHost {
  name: string;
  /** What virsh -c takes. */
  uri: string;
  socket: string;
  /** libvirtd's own pid (each step of its start execs the next). */
  pid: number;
  identity: ProcessIdentity;
  /** This host's directories: etc (its /etc/libvirt), run, var/{lib,log,cache}, sock, libvirtd.log. */
  dir: string;
  /** From spawning libvirtd to its first answer to virsh. */
  startSeconds: number;
}

export interface LibvirtHosts {
  hosts: LibvirtHost[];
  netns: string;
  bridge: string;
  /** The bridge's address in the namespace; guests take others of its /24. */
  bridgeAddress: string;
  dir: string;
  /**
   * Ends one host's daemon (SIGTERM), leaves it down `downMs`, starts it again on the same
   * directories and socket: what a user's `systemctl restart libvirtd` does. The host's entry
   * in `hosts` is replaced (new pid); its domains are not touched.
   */
  restart(name: string, downMs: number): Promise<LibvirtHost>;
  /** Takes everything down (domains, daemons, QEMU processes, namespace, directory); safe to call again. */
  stop(): Promise<void>;
}

export interface LibvirtHostsOptions {
  count: number;
  /** The hosts' names, `count` of them (default host1, host2, ...): directory names, so plain words. */
  names?: readonly string[];
  /** How long each daemon may take to answer virsh. */
  readyTimeoutMs?: number;
  /** Hosts (host1, ...) whose daemon sees an empty, non-executable file where QEMU is: a host without the domains' emulator. */
  withoutEmulator?: readonly string[];
  log?: (line: string) => void;
}

/** The system directories each daemon gets its own of, and where they are in its host directory. */
const PRIVATE_DIRS = [
  // /etc/libvirt comes with the QEMU driver's package: its qemu.conf is replaced.
  { system: '/etc/libvirt', own: 'etc' },
  // The parents of /run/libvirt, /var/lib/libvirt ...: those exist only when
  // libvirt-daemon-system is installed, and making them would write to the machine. Hiding
  // the machine's /run also hides its D-Bus and systemd from the daemon.
  { system: '/run', own: 'run' },
  { system: '/var/lib', own: 'var/lib' },
  { system: '/var/log', own: 'var/log' },
  { system: '/var/cache', own: 'var/cache' },
] as const;

/** Where libvirt keeps its probe of QEMU's capabilities: copied from the first daemon to the others, it saves them the probe. */
const CAPABILITIES_CACHE = 'var/cache/libvirt/qemu/capabilities';

/**
 * Runs in the daemon's new mount namespace: binds each host directory over its system one,
 * then becomes libvirtd on one CPU (see daemonCpu). Arguments: taskset, the CPU, libvirtd, its
 * config file, its pid file, then pairs of (own directory, system directory).
 */
const MOUNT_AND_EXEC = [
  'set -e',
  'taskset=$1; cpu=$2; libvirtd=$3; conf=$4; pidfile=$5; shift 5',
  'while [ $# -gt 0 ]; do mount --bind "$1" "$2"; shift 2; done',
  'exec "$taskset" -c "$cpu" "$libvirtd" -f "$conf" -p "$pidfile"',
].join('\n');

/**
 * The CPU every daemon runs on: the first this process may use. libvirt keeps the host's
 * CPUID with its cached QEMU capabilities and throws the cache away ("host cpuid changed")
 * when a daemon reads another, and some leaves (the APIC ID) differ from CPU to CPU: a daemon
 * on another CPU than the first would probe QEMU again (8 s instead of 0.2 s). libvirt gives
 * the QEMU processes it starts every CPU again, so the guests are not pinned.
 */
function daemonCpu(): string {
  const allowed = /^Cpus_allowed_list:\s*(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return allowed?.[1] ?? '0';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function required(name: string, debianPackage: string): string {
  const found = findExecutable(name);
  if (!found) throw new Error(`${name} not found: install ${debianPackage} (scripts/install-libvirt-deps.sh)`);
  return found;
}

/** virsh against `uri`, with a timeout; rejects with virsh's error. */
export async function virsh(uri: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  const { stdout } = await exec(required('virsh', 'libvirt-clients'), ['-c', uri, ...args], { timeoutMs });
  return stdout;
}

export function libvirtSocketUri(socket: string): string {
  return `qemu+unix:///system?socket=${socket}`;
}

/** A guest's address on the bridge, for 1-based `index` (the bridge is .1). */
export function libvirtGuestAddress(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 200) throw new RangeError(`guest index ${index} out of 1..200`);
  return `${LIBVIRT_SUBNET_PREFIX}.${10 + index}`;
}

/** A locally administered MAC for the guest with `index`, apart from the lab's 52:54:00:4d:... */
export function libvirtGuestMac(index: number): string {
  return `52:54:00:4e:${((index >> 8) & 0xff).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}`;
}

function libvirtdConf(hostDir: string, hostUuid: string): string {
  return [
    `unix_sock_dir = "${path.join(hostDir, 'sock')}"`,
    'auth_unix_rw = "none"',
    'auth_unix_ro = "none"',
    `host_uuid = "${hostUuid}"`,
    // Warnings and errors; dnsmasq, D-Bus and DMI data being absent is logged at start and harmless.
    `log_outputs = "3:file:${path.join(hostDir, 'libvirtd.log')}"`,
    '',
  ].join('\n');
}

function qemuConf(index: number): string {
  const min = MIGRATION_PORT_BASE + index * MIGRATION_PORTS_PER_HOST;
  return [
    'user = "root"',
    'group = "root"',
    'security_driver = "none"',
    'dynamic_ownership = 0',
    // QEMU's output straight to a file: no virtlogd to run.
    'stdio_handler = "file"',
    // No cgroups: the daemon would otherwise make machine groups in the machine's hierarchy.
    'cgroup_controllers = [ ]',
    `migration_port_min = ${min}`,
    `migration_port_max = ${min + MIGRATION_PORTS_PER_HOST - 1}`,
    '',
  ].join('\n');
}

function checkBaseDir(dir: string): void {
  // The binds would hide a directory under one of the system directories from its own daemon.
  for (const { system } of PRIVATE_DIRS) {
    if (dir === system || dir.startsWith(`${system}/`)) throw new Error(`the libvirt hosts' directory ${dir} is under ${system}, which each daemon gets its own of: set TMPDIR elsewhere`);
  }
}

function prepareHostDir(hostDir: string, index: number): void {
  for (const { own } of PRIVATE_DIRS) fs.mkdirSync(path.join(hostDir, own), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(hostDir, 'sock'), { mode: 0o700 });
  fs.writeFileSync(path.join(hostDir, 'etc', 'libvirtd.conf'), libvirtdConf(hostDir, randomUUID()), { flag: 'wx' });
  fs.writeFileSync(path.join(hostDir, 'etc', 'qemu.conf'), qemuConf(index), { flag: 'wx' });
}

function tail(file: string, bytes = 800): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return text.length > bytes ? `…${text.slice(-bytes)}` : text || '(empty)';
  } catch {
    return '(none)';
  }
}

async function startDaemon(name: string, netns: string, hostDir: string, readyTimeoutMs: number, started: ProcessIdentity[], withoutEmulator: boolean): Promise<LibvirtHost> {
  const startedAt = performance.now();
  const unshare = required('unshare', 'util-linux');
  const libvirtd = required('libvirtd', 'libvirt-daemon');
  const taskset = required('taskset', 'util-linux');
  const binds = PRIVATE_DIRS.flatMap(({ system, own }) => [path.join(hostDir, own), system]);
  if (withoutEmulator) {
    const placeholder = path.join(hostDir, 'no-emulator');
    if (!fs.existsSync(placeholder)) fs.writeFileSync(placeholder, '', { flag: 'wx', mode: 0o644 });
    binds.push(placeholder, fs.realpathSync(required('qemu-system-x86_64', 'qemu-system-x86')));
  }
  const [command, args] = inNetns(netns, unshare, [
    '-m', '--propagation', 'private', 'sh', '-c', MOUNT_AND_EXEC, 'sh',
    taskset, daemonCpu(), libvirtd, path.join(hostDir, 'etc', 'libvirtd.conf'), path.join(hostDir, 'libvirtd.pid'), ...binds,
  ]);
  // A restarted daemon writes its own file (libvirtd.1.out, ...), the first one's kept.
  let output = path.join(hostDir, 'libvirtd.out');
  for (let restart = 1; fs.existsSync(output); restart += 1) output = path.join(hostDir, `libvirtd.${restart}.out`);
  const { identity } = spawnDetached(command, args, output);
  started.push(identity);
  const socket = path.join(hostDir, 'sock', 'libvirt-sock');
  const uri = libvirtSocketUri(socket);
  const deadline = performance.now() + readyTimeoutMs;
  let last = 'no socket yet';
  for (;;) {
    if (!isRunning(identity)) throw new Error(`libvirtd of ${name} exited: ${tail(output)} ${tail(path.join(hostDir, 'libvirtd.log'))}`);
    if (fs.existsSync(socket)) {
      try {
        // Without an emulator the QEMU driver has no version to give: that the daemon answers is enough.
        await virsh(uri, withoutEmulator ? ['uri'] : ['version'], Math.max(1000, Math.ceil(deadline - performance.now())));
        break;
      } catch (error) {
        last = (error as Error).message;
      }
    }
    if (performance.now() > deadline) throw new Error(`libvirtd of ${name} did not answer within ${readyTimeoutMs / 1000} s: ${last}; ${tail(path.join(hostDir, 'libvirtd.log'))}`);
    await sleep(100);
  }
  return { name, uri, socket, pid: identity.pid, identity, dir: hostDir, startSeconds: (performance.now() - startedAt) / 1000 };
}

/**
 * Starts `count` libvirt hosts (named host1, host2, ... unless named) in a new network namespace with a
 * bridge at 10.78.0.1/24. The first daemon probes QEMU; the others start from its cache, in
 * parallel. On failure everything made so far is taken down before the error is thrown.
 */
export async function startLibvirtHosts(options: LibvirtHostsOptions): Promise<LibvirtHosts> {
  const { count, readyTimeoutMs = 60_000, log = () => {}, withoutEmulator = [] } = options;
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) throw new RangeError(`count ${count} out of 1..${MAX_HOSTS}`);
  const names = options.names ?? Array.from({ length: count }, (_, i) => `host${i + 1}`);
  if (names.length !== count || names.some((name) => !/^[a-z][a-z0-9-]*$/i.test(name))) throw new RangeError(`host names ${names.join(', ')}: ${count} plain words wanted`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-libvirt-'));
  const netns = `vmm-lv-${randomBytes(4).toString('hex')}`;
  const bridgeAddress = `${LIBVIRT_SUBNET_PREFIX}.1`;
  const started: ProcessIdentity[] = [];
  const hosts: LibvirtHost[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    await takeDown(hosts, started, netns, dir);
    stopped = true;
  };
  try {
    checkBaseDir(dir);
    await createNetns(netns, { address: bridgeAddress, mac: BRIDGE_MAC });
    names.forEach((name, index) => prepareHostDir(path.join(dir, name), index));
    const [first, ...rest] = names as [string, ...string[]];
    hosts.push(await startDaemon(first, netns, path.join(dir, first), readyTimeoutMs, started, withoutEmulator.includes(first)));
    log(`libvirtd ${first} answered after ${hosts[0]!.startSeconds.toFixed(1)} s`);
    for (const name of rest) fs.cpSync(path.join(dir, first, CAPABILITIES_CACHE), path.join(dir, name, CAPABILITIES_CACHE), { recursive: true });
    const others = await Promise.all(rest.map((name) => startDaemon(name, netns, path.join(dir, name), readyTimeoutMs, started, withoutEmulator.includes(name))));
    for (const host of others) log(`libvirtd ${host.name} answered after ${host.startSeconds.toFixed(1)} s (QEMU capabilities cached)`);
    hosts.push(...others);
    const restart = async (name: string, downMs: number): Promise<LibvirtHost> => {
      const index = hosts.findIndex((host) => host.name === name);
      if (index < 0) throw new RangeError(`no libvirt host ${name}`);
      await terminate(hosts[index]!.identity, 5000);
      await sleep(downMs);
      const again = await startDaemon(name, netns, path.join(dir, name), readyTimeoutMs, started, withoutEmulator.includes(name));
      hosts[index] = again;
      log(`libvirtd ${name} restarted, answered after ${again.startSeconds.toFixed(1)} s`);
      return again;
    };
    return { hosts, netns, bridge: LIBVIRT_BRIDGE, bridgeAddress, dir, restart, stop };
  } catch (error) {
    await stop().catch((stopError: unknown) => log(`taking down after a failed start failed too: ${(stopError as Error).message}`));
    throw error;
  }
}

/**
 * Destroys every domain the daemons still run, ends the daemons (SIGTERM, SIGKILL after a
 * grace), then whatever still lives in the namespace (a QEMU whose daemon could not destroy
 * it), deletes the namespace and the directory. Goes on past each failure and throws them all
 * at the end.
 */
async function takeDown(hosts: readonly LibvirtHost[], started: readonly ProcessIdentity[], netns: string, dir: string): Promise<void> {
  const failures: string[] = [];
  await Promise.all(hosts.filter((host) => isRunning(host.identity)).map(async (host) => {
    try {
      const running = (await virsh(host.uri, ['list', '--name'], 10_000)).split('\n').map((line) => line.trim()).filter(Boolean);
      for (const domain of running) await virsh(host.uri, ['destroy', domain], 30_000);
    } catch (error) {
      failures.push(`destroying the domains of ${host.name}: ${(error as Error).message}`);
    }
  }));
  // SIGTERM ends a daemon in 0.1-2 s here; the grace is for one stuck in a worker.
  await Promise.all(started.map((identity) => terminate(identity, 5000)));
  const strays = processesInNetns(netnsPath(netns))
    .map((pid) => ({ pid, starttime: processStartTime(pid) ?? '' }))
    .filter((identity) => identity.starttime !== '');
  await Promise.all(strays.map((identity) => terminate(identity, 3000)));
  for (const identity of [...started, ...strays]) if (isRunning(identity)) failures.push(`process ${identity.pid} still runs`);
  try {
    deleteNetns(netns);
  } catch (error) {
    failures.push((error as Error).message);
  }
  if (netnsExists(netns)) failures.push(`namespace ${netns} is still there`);
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    failures.push(`removing ${dir}: ${(error as Error).message}`);
  }
  if (failures.length > 0) throw new Error(`taking the libvirt hosts down: ${failures.join('; ')}`);
}

function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface DomainSpec {
  name: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  /**
   * The guest's RAM. Not a multiple of 256 KiB by default (262152 KiB, the lab's 256 MB
   * guest): under TCG, QEMU 7.2 loses dirty pages of a RAM block of such a size during
   * migration (see guestMemoryArgument in src/platforms/qemu/lab.ts).
   */
  memoryKiB?: number;
  mac: string;
  bridge: string;
  /** The serial console's file; append='on' lets the QEMU of each host it visits write to it. */
  serialLog: string;
}

/** The id of the memory backend that holds the guest's RAM when libvirt's own would be rounded (see exactMemoryArgs). */
export const EXACT_RAM_ID = 'vmm.ram';

/**
 * libvirt rounds <memory> up to whole MiB for x86 (262152 KiB becomes 263168: -m 257 and a
 * backend pc.ram of 257 MiB), a multiple of 256 KiB again, which brings the TCG bug back. So
 * the guest's RAM is given to QEMU a second time, exactly, after libvirt's arguments (later
 * -m and -machine options win): its own backend, which the machine then uses. libvirt's
 * pc.ram stays allocated but unused (never touched, not migrated); libvirt still reports the
 * rounded size and marks the domain tainted (custom-argv). The <qemu:commandline> travels
 * with the domain, so the destination's QEMU gets the same.
 */
function exactMemoryArgs(memoryKiB: number): string[] {
  const backend = { 'qom-type': 'memory-backend-ram', id: EXACT_RAM_ID, size: memoryKiB * 1024 };
  return ['-object', JSON.stringify(backend), '-machine', `memory-backend=${EXACT_RAM_ID}`, '-m', `${memoryKiB}k`];
}

/** A direct-kernel-boot TCG domain with no disk, one virtio NIC on `bridge` and its serial console in a file. */
export function domainXml(spec: DomainSpec): string {
  const memoryKiB = spec.memoryKiB ?? 262152;
  if (!Number.isInteger(memoryKiB) || memoryKiB <= 0) throw new RangeError(`memory ${memoryKiB} KiB is not a positive whole number`);
  const e = xmlEscape;
  const exact = memoryKiB % 1024 === 0 ? [] : exactMemoryArgs(memoryKiB);
  const commandline = exact.length === 0 ? '' : [
    '  <qemu:commandline>',
    ...exact.map((arg) => `    <qemu:arg value='${e(arg)}'/>`),
    '  </qemu:commandline>',
    '',
  ].join('\n');
  return `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${e(spec.name)}</name>
  <memory unit='KiB'>${memoryKiB}</memory>
  <currentMemory unit='KiB'>${memoryKiB}</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${e(spec.kernel)}</kernel>
    <initrd>${e(spec.initrd)}</initrd>
    <cmdline>${e(spec.cmdline)}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <interface type='bridge'>
      <source bridge='${e(spec.bridge)}'/>
      <mac address='${e(spec.mac)}'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='${e(spec.serialLog)}' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
${commandline}</domain>
`;
}

/**
 * The size in bytes of each RAM block QEMU has, by name, from `info ramblock` (through the
 * daemon's monitor): what the guest really got, whatever libvirt says.
 */
export async function ramBlocks(uri: string, domain: string): Promise<Map<string, number>> {
  const text = await virsh(uri, ['qemu-monitor-command', '--hmp', domain, 'info ramblock']);
  const blocks = new Map<string, number>();
  for (const line of text.split('\n').slice(1)) {
    // "   vmm.ram    4 KiB  0x0000000010100000 0x0000000010002000 0x0000000010002000": name, page size, offset, used, total.
    const match = /^\s*(\S*)\s+\d+ \w+\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s*$/i.exec(line);
    if (match) blocks.set(match[1] ?? '', Number(match[2]));
  }
  return blocks;
}

/** The kernel command line the guest's init (guest/init) reads its name and address from, as the QEMU lab gives it. */
export function guestCmdline(name: string, address: string): string {
  return `console=ttyS0 quiet panic=-1 init_on_free=1 vmm.name=${name} vmm.ip=${address}/24`;
}

export interface GuestAnswer {
  status: number;
  server: string;
  body: string;
}

/**
 * Node's fetch run inside the namespace (this process cannot enter it): the guests' addresses
 * exist only there. Prints the answer as JSON.
 */
const FETCH_IN_NETNS = [
  'const [url, timeout] = process.argv.slice(1);',
  'fetch(url, { signal: AbortSignal.timeout(Number(timeout)) })',
  '  .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, server: r.headers.get("x-server") ?? "", body: await r.text() })))',
  '  .catch((error) => { process.stderr.write(String(error.cause ?? error)); process.exit(1); });',
].join('\n');

/** One HTTP GET of `url` from inside `netns`. */
export async function getInNetns(netns: string, url: string, timeoutMs = 5000): Promise<GuestAnswer> {
  const [command, args] = inNetns(netns, process.execPath, ['-e', FETCH_IN_NETNS, url, String(timeoutMs)]);
  const { stdout } = await exec(command, args, { timeoutMs: timeoutMs + 10_000 });
  return JSON.parse(stdout) as GuestAnswer;
}

/** Resolves once `GET /ping` at `address` answers 200 from `name`; rejects after `timeoutMs` with the last failure. */
export async function waitForGuest(netns: string, address: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    try {
      const answer = await getInNetns(netns, `http://${address}/ping`, 2000);
      if (answer.status === 200 && answer.server === name) return;
      last = `HTTP ${answer.status} from '${answer.server}'`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${name} at ${address} does not answer: ${last}`);
}

export { parseKeyValues } from '../../../src/platforms/libvirt/virsh.ts';

const LIBVIRT_PACKAGES = 'libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients';

function namedInFile(file: string, name: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').some((line) => line.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/**
 * Why the libvirt tests cannot run here, or false when they can: they need the QEMU lab's
 * packages (the guest image), libvirt's, the user libvirt-qemu and root. With CI=true always
 * false, so that CI fails rather than skips.
 */
export function libvirtSkipReason(): string | false {
  if (process.env.CI === 'true') return false;
  const lab = [...new Set(missingLabPackages().map((entry) => entry.debianPackage))];
  if (lab.length > 0) return `missing Debian packages ${lab.join(' ')} (the guest image): run scripts/install-lab-deps.sh`;
  if (!findExecutable('libvirtd') || !findExecutable('virsh')) return `missing Debian packages ${LIBVIRT_PACKAGES} (libvirtd, virsh): run scripts/install-libvirt-deps.sh`;
  if (!namedInFile('/etc/passwd', 'libvirt-qemu') || !namedInFile('/etc/group', 'libvirt-qemu')) {
    return 'no user and group libvirt-qemu, without which the QEMU driver does not start: run scripts/install-libvirt-deps.sh';
  }
  if (process.getuid?.() !== 0) return 'the libvirt hosts need root (network and mount namespaces, taps)';
  return false;
}

/** A guest of the project's image (guest/init, its workload server) defined and started on `host`; resolves once it answers on the bridge. */
export async function bootDomain(
  lab: LibvirtHosts,
  host: LibvirtHost,
  guest: { name: string; index: number; kernel: string; initrd: string },
  bootTimeoutMs = 120_000,
): Promise<{ name: string; address: string }> {
  const address = libvirtGuestAddress(guest.index);
  const xmlFile = path.join(lab.dir, `${guest.name}.xml`);
  fs.writeFileSync(xmlFile, domainXml({
    name: guest.name, kernel: guest.kernel, initrd: guest.initrd, cmdline: guestCmdline(guest.name, address),
    mac: libvirtGuestMac(guest.index), bridge: lab.bridge, serialLog: path.join(lab.dir, `${guest.name}.serial`),
  }), { flag: 'wx' });
  await virsh(host.uri, ['define', xmlFile]);
  await virsh(host.uri, ['start', guest.name], 60_000);
  await waitForGuest(lab.netns, address, guest.name, bootTimeoutMs);
  return { name: guest.name, address };
}
