import fs from 'node:fs';
import path from 'node:path';
import { LAB_TCG_RAM_PADDING_KIB } from '../../calibrate/migration-case.ts';
import type { HostSpec } from './config.ts';
import { exec, findExecutable } from '../../exec.ts';
import { guestImage, type NicModel } from './guest-image.ts';
import { haproxyConfig } from './haproxy.ts';
import {
  acquireLock, isLabProcess, LAB_DIR_WHAT, labFiles, netnsNameFor, readState, serialChardev, STATE_FILE, writeState,
  type Accelerator, type LabState, type ProcessRecord, type VmRecord,
} from './lab-state.ts';
import { hasLabFiles, takeDown, takeDownSync, type TakenDown } from './lab-teardown.ts';
import { waitForVmThroughLb } from './lb-request.ts';
import { createNetns, createTap, deleteTap, guestAddress, guestMac, inNetns, netnsExists } from './network.ts';
import { isRunning, spawnDetached, terminate } from './processes.ts';
import { QmpClient } from './qmp.ts';
import { staticBusybox } from './requirements.ts';
import { canonicalPath, checkTrustedFile, makePrivateDir, writeExclusive } from './safe-paths.ts';

export interface LabUpSpec {
  dir: string;
  cacheDir: string;
  hosts: HostSpec[];
  vms: { name: string; host: string }[];
  memoryMB: number;
  vcpus: number;
  nic: NicModel;
  accelerator: 'auto' | Accelerator;
  kvmProbeSeconds: number;
  bootTimeoutSeconds: number;
  /** HAProxy's server timeout: the longest request a client may make. */
  serverTimeoutSeconds: number;
  /**
   * Whole-MiB guest RAM even under TCG, which brings back the bug guestMemoryArgument avoids:
   * only for the test proving that the integrity checks can fail. This Lab object keeps it;
   * a later `attach` does not.
   */
  wholeMiBMemory?: boolean;
}

export type LabLog = (line: string) => void;

/** What the init script prints first (the kernel booted and ran user space), and what the server prints when it serves. */
const INIT_STARTED = /^vmm-init: started/m;
const serverListening = (vm: string): RegExp => new RegExp(`^vmm-server: ${vm.replace(/[.]/g, '\\.')} listening on`, 'm');

/** The niceness of the VMs' QEMU processes (the tool and HAProxy run at 0). */
export const VM_NICENESS = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A lab: QEMU processes grouped into logical hosts, one network namespace with a bridge and a
 * tap per QEMU process, and HAProxy in front of the VMs on a unix socket. Everything it
 * creates is in its state file before or right after it exists.
 */
export class Lab {
  private readonly qmpClients = new Map<string, Promise<QmpClient>>();
  /** Processes being ended: no new QMP connection to them. */
  private readonly retiring = new Set<string>();
  /** Called with a QEMU process about to be ended (the counters read it one last time). */
  beforeRetire: ((record: ProcessRecord) => void) | null = null;

  private constructor(
    readonly state: LabState,
    private releaseLock: (() => void) | null,
    private readonly wholeMiBMemory = false,
  ) {}

  get dir(): string {
    return this.state.dir;
  }

  /**
   * Brings a lab up in `spec.dir` (made 0700 if missing; refused when it is not the user's
   * own, see safe-paths.ts) and returns it, locked by this process (see `detach`).
   */
  static async up(spec: LabUpSpec, log: LabLog = () => {}): Promise<Lab> {
    const dir = canonicalPath(spec.dir);
    makePrivateDir(LAB_DIR_WHAT, dir);
    const existing = readState(dir);
    if (existing || netnsExists(netnsNameFor(dir)) || hasLabFiles(dir)) {
      throw new Error(`a lab is already ${existing?.status === 'up' ? 'up' : 'there (maybe half made)'} in ${dir}: run 'vm-monitoring lab down' first`);
    }
    const release = acquireLock(dir);
    let lab: Lab | null = null;
    try {
      lab = new Lab(initialState(dir, spec), release, spec.wholeMiBMemory === true);
      await lab.build(spec, log);
      return lab;
    } catch (error) {
      log(`lab up failed: ${(error as Error).message}; taking down what was made`);
      lab?.closeQmp();
      try {
        await takeDown(dir);
      } catch (downError) {
        log(`taking down what was made failed too: ${(downError as Error).message}; run 'vm-monitoring lab down'`);
      } finally {
        release();
      }
      throw error;
    }
  }

  /**
   * The lab that is up in `dir`, locked by this process; throws when there is none, it is
   * broken, or its state file names a process that is not its own or a QEMU that is not trusted.
   */
  static attach(dir: string): Lab {
    const resolved = canonicalPath(dir);
    const state = readState(resolved);
    if (!state) throw new Error(`no lab is up in ${resolved}: run 'vm-monitoring lab up'`);
    if (state.status !== 'up') throw new Error(`the lab in ${resolved} is ${state.status}: run 'vm-monitoring lab down' and up again`);
    const release = acquireLock(resolved);
    try {
      checkQemu(state.qemu);
      const strangers = state.processes.filter((p) => isRunning(p) && !isLabProcess(p, resolved));
      if (strangers.length > 0) {
        throw new Error(`the lab in ${resolved} lists processes that are not its own (${strangers.map((p) => `${p.id}: pid ${p.pid}`).join(', ')}): run 'vm-monitoring lab down' and up again`);
      }
      const dead = state.vms.filter((vm) => !state.processes.some((p) => p.id === vm.process && isRunning(p)));
      if (dead.length > 0) throw new Error(`the lab in ${resolved} lost ${dead.map((vm) => vm.name).join(', ')}: run 'vm-monitoring lab down' and up again`);
    } catch (error) {
      release();
      throw error;
    }
    return new Lab(state, release);
  }

  /** True when a lab with a state file is in `dir`; throws when `dir` is not the user's own. */
  static exists(dir: string): boolean {
    return readState(canonicalPath(dir)) !== null;
  }

  /**
   * Throws "the lab at DIR was taken down" once the lab is gone under this process: its state
   * file, its namespace or HAProxy (killed, or removed by hand); a run cannot go on without them.
   */
  assertStillUp(): void {
    const gone = this.whatIsGone();
    if (gone) throw new Error(`the lab at ${this.dir} was taken down: ${gone}`);
  }

  private whatIsGone(): string | null {
    const stateFile = path.join(this.dir, STATE_FILE);
    if (!fs.existsSync(stateFile)) return `its state file ${stateFile} is gone`;
    if (!netnsExists(this.state.netns)) return `its network namespace ${this.state.netns} is gone`;
    const balancer = this.state.processes.find((p) => p.kind === 'haproxy');
    if (!balancer || !isRunning(balancer)) return `its HAProxy${balancer ? ` (pid ${balancer.pid})` : ''} is gone`;
    return null;
  }

  /**
   * Takes the lab in `dir` down: ends every process it started (those in its state file and
   * any left in its namespace), deletes the namespace with its bridge and taps, and removes
   * its files. Idempotent; works from what is left after a crash (see lab-teardown.ts).
   */
  static down(dir: string, log: LabLog = () => {}): Promise<TakenDown> {
    return takeDown(dir, log);
  }

  /** The same, synchronously and with SIGKILL, for a process that is exiting and cannot wait. */
  static downSync(dir: string): void {
    takeDownSync(dir);
  }

  /** Lets go of the lab without taking it down: it stays up for the next command. */
  detach(): void {
    this.closeQmp();
    this.releaseLock?.();
    this.releaseLock = null;
  }

  vm(name: string): VmRecord {
    const vm = this.state.vms.find((candidate) => candidate.name === name);
    if (!vm) throw new Error(`no VM ${name} in the lab`);
    return vm;
  }

  process(id: string): ProcessRecord {
    return processById(this.state, id);
  }

  processOf(vmName: string): ProcessRecord {
    return this.process(this.vm(vmName).process);
  }

  /** A QMP connection to the QEMU process `id`, opened once and kept. */
  qmp(id: string): Promise<QmpClient> {
    let client = this.qmpClients.get(id);
    if (!client) {
      const record = this.process(id);
      if (!record.qmp) throw new Error(`process ${id} has no QMP socket`);
      if (this.retiring.has(id)) throw new Error(`process ${id} is being ended`);
      client = QmpClient.connect(record.qmp);
      client.catch(() => this.qmpClients.delete(id));
      this.qmpClients.set(id, client);
    }
    return client;
  }

  /** Starts QEMU for `vmName` on `hostName`, waiting for an incoming migration (-incoming defer). */
  async startIncoming(vmName: string, hostName: string): Promise<ProcessRecord> {
    const vm = this.vm(vmName);
    const host = this.host(hostName);
    return this.spawnVm(vm, host, true);
  }

  /** The VM now runs in process `id` (the target of a completed migration). */
  commitMove(vmName: string, id: string): void {
    const vm = this.vm(vmName);
    const record = this.process(id);
    vm.process = id;
    vm.host = record.host as string;
    delete record.incoming;
    this.save();
  }

  /**
   * Ends QEMU process `id` (QMP quit, then signals), deletes its tap and its files and forgets
   * it. A tap that cannot be deleted is left to `lab down` (it goes with the namespace).
   */
  async retire(id: string): Promise<void> {
    const record = this.process(id);
    this.retiring.add(id);
    try {
      this.beforeRetire?.(record);
      const client = this.qmpClients.get(id);
      this.qmpClients.delete(id);
      if (client) {
        try {
          const qmp = await client;
          await qmp.execute('quit', undefined, 2000).catch(() => undefined);
          qmp.close();
        } catch {
          // not connected: signals below
        }
      }
      await terminate(record, 3000);
      if (record.tap) await deleteTap(this.state.netns, record.tap).catch(() => undefined);
      for (const suffix of ['qmp', 'migrate', 'serial', 'log'] as const) fs.rmSync(labFiles.ofProcess(this.dir, id, suffix), { force: true });
      // Forgotten only once it is gone: `lab down` still finds a process that would not die.
      if (!isRunning(record)) {
        this.state.processes = this.state.processes.filter((p) => p.id !== id);
        this.save();
      }
    } finally {
      this.retiring.delete(id);
    }
  }

  /** The unix socket the target of a migration into process `id` listens on. */
  migrationSocket(id: string): string {
    return labFiles.ofProcess(this.dir, id, 'migrate');
  }

  private host(name: string): HostSpec {
    const host = this.state.hosts.find((candidate) => candidate.name === name);
    if (!host) throw new Error(`no host ${name} in the lab`);
    return host;
  }

  private closeQmp(): void {
    for (const client of this.qmpClients.values()) client.then((qmp) => qmp.close(), () => undefined);
    this.qmpClients.clear();
  }

  private save(): void {
    writeState(this.state);
  }

  private async build(spec: LabUpSpec, log: LabLog): Promise<void> {
    const state = this.state;
    const qemu = findExecutable('qemu-system-x86_64');
    const haproxy = findExecutable('haproxy');
    const busybox = staticBusybox();
    if (!qemu) throw new Error('qemu-system-x86_64 not found: install qemu-system-x86 (scripts/install-lab-deps.sh)');
    if (!haproxy) throw new Error('haproxy not found: install haproxy (scripts/install-lab-deps.sh)');
    if (!busybox) throw new Error('no static busybox: install busybox-static (scripts/install-lab-deps.sh)');
    checkQemu(qemu);
    checkTrustedFile('HAProxy', haproxy);
    state.qemu = qemu;
    state.qemu_version = (await exec(qemu, ['--version'])).stdout.split('\n')[0]?.trim() ?? '';
    this.save();

    const image = await guestImage({ cacheDir: spec.cacheDir, nic: spec.nic, busybox });
    state.image = { kernel: image.kernel, kernel_version: image.kernelVersion, initrd: image.initrd, key: image.key, modules: image.modules };
    log(`guest image ${image.key} (${image.built ? `built in ${image.buildSeconds.toFixed(1)} s` : 'cached'}): ${image.kernel}, ${image.modules.length} modules`);
    this.save();

    await createNetns(state.netns);
    log(`network namespace ${state.netns}, bridge and taps; guests at ${state.vms.map((vm) => `${vm.name}=${vm.address}`).join(' ')}`);
    await this.startBalancer(haproxy, spec.serverTimeoutSeconds);
    log(`HAProxy on ${state.lb_socket}`);

    const { accelerator, note } = await this.chooseAccelerator(spec);
    state.accelerator = accelerator;
    state.accelerator_note = note;
    this.save();
    log(`accelerator ${accelerator}: ${note}`);

    const started = performance.now();
    const records = await Promise.all(state.vms.map(async (vm) => ({ vm, record: await this.spawnVm(vm, this.host(vm.host), false) })));
    await Promise.all(
      records.map(async ({ vm, record }) => {
        await waitForSerial(record, serverListening(vm.name), spec.bootTimeoutSeconds * 1000, `${vm.name} to boot`);
        state.boot_seconds[vm.name] = (performance.now() - started) / 1000;
        this.save();
        log(`${vm.name} up on ${vm.host} after ${state.boot_seconds[vm.name]?.toFixed(1)} s (pid ${record.pid})`);
      }),
    );
    await Promise.all(state.vms.map((vm) => waitForVmThroughLb(state.lb_socket, vm.name, 30_000)));
    state.status = 'up';
    this.save();
  }

  private async startBalancer(haproxy: string, serverTimeoutSeconds: number): Promise<void> {
    const state = this.state;
    const config = labFiles.haproxyConfig(this.dir);
    writeExclusive(config, haproxyConfig({
      listenSocket: state.lb_socket, adminSocket: state.admin_socket, serverTimeoutSeconds,
      vms: state.vms.map((vm) => ({ name: vm.name, address: vm.address })),
    }));
    await exec(haproxy, ['-c', '-q', '-f', config]);
    const log = labFiles.haproxyLog(this.dir);
    const [command, args] = inNetns(state.netns, haproxy, ['-db', '-f', config]);
    const { identity } = spawnDetached(command, args, log);
    state.processes.push({ id: 'haproxy', kind: 'haproxy', ...identity, log });
    this.save();
    const deadline = performance.now() + 10_000;
    while (!fs.existsSync(state.lb_socket) || !fs.existsSync(state.admin_socket)) {
      if (!isRunning(identity)) throw new Error(`HAProxy exited: ${tail(log)}`);
      if (performance.now() > deadline) throw new Error(`HAProxy did not open ${state.lb_socket}: ${tail(log)}`);
      await sleep(50);
    }
  }

  /** KVM if /dev/kvm opens and a guest really boots on it within the probe time; TCG otherwise. */
  private async chooseAccelerator(spec: LabUpSpec): Promise<{ accelerator: Accelerator; note: string }> {
    if (spec.accelerator === 'tcg') return { accelerator: 'tcg', note: 'configured' };
    try {
      fs.closeSync(fs.openSync('/dev/kvm', 'r+'));
    } catch (error) {
      const why = `cannot open /dev/kvm (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
      if (spec.accelerator === 'kvm') throw new Error(`accelerator kvm: ${why}`, { cause: error });
      return { accelerator: 'tcg', note: `${why}; TCG` };
    }
    const id = `p${this.state.next_process++}`;
    const record: ProcessRecord = {
      id, kind: 'kvm-probe', pid: 0, starttime: '', log: labFiles.ofProcess(this.dir, id, 'log'), serial: labFiles.ofProcess(this.dir, id, 'serial'),
    };
    writeExclusive(record.serial as string, '');
    const args = [
      '-name', 'kvm-probe', '-accel', 'kvm', '-m', '128', '-smp', '1',
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-kernel', this.state.image?.kernel as string, '-initrd', this.state.image?.initrd as string,
      '-append', 'console=ttyS0 quiet panic=-1 vmm.name=kvm-probe',
      '-chardev', serialChardev(record.serial as string), '-serial', 'chardev:serial0',
    ];
    const [command, fullArgs] = inNetns(this.state.netns, this.state.qemu, args);
    const started = performance.now();
    const { identity } = spawnDetached(command, fullArgs, record.log);
    Object.assign(record, identity);
    this.state.processes.push(record);
    this.save();
    const booted = await waitForSerial(record, INIT_STARTED, spec.kvmProbeSeconds * 1000, 'a KVM guest to boot').then(
      () => true,
      () => false,
    );
    const seconds = (performance.now() - started) / 1000;
    await terminate(record, 500);
    this.state.processes = this.state.processes.filter((p) => p.id !== id);
    this.save();
    for (const suffix of ['log', 'serial'] as const) fs.rmSync(labFiles.ofProcess(this.dir, id, suffix), { force: true });
    if (booted) return { accelerator: 'kvm', note: `a KVM guest booted to user space in ${seconds.toFixed(1)} s` };
    const why = `a KVM guest did not boot within ${spec.kvmProbeSeconds} s`;
    if (spec.accelerator === 'kvm') throw new Error(`accelerator kvm: ${why}`);
    return { accelerator: 'tcg', note: `${why}; TCG` };
  }

  private async spawnVm(vm: VmRecord, host: HostSpec, incoming: boolean): Promise<ProcessRecord> {
    const hostIndex = this.state.hosts.indexOf(host) + 1;
    const tap = `t${vm.index}h${hostIndex}`;
    const holder = this.state.processes.find((p) => p.tap === tap && isRunning(p));
    if (holder) throw new Error(`tap ${tap} of ${vm.name} on ${host.name} is still held by process ${holder.id} (pid ${holder.pid})`);
    // A tap left by a process that is gone (its retire could not delete it) is replaced.
    await deleteTap(this.state.netns, tap);
    await createTap(this.state.netns, tap);
    return this.spawnQemu(vm, host, tap, incoming);
  }

  private spawnQemu(vm: VmRecord, host: HostSpec, tap: string, incoming: boolean): ProcessRecord {
    const state = this.state;
    const image = state.image;
    if (!image || !state.accelerator) throw new Error('the lab has no guest image or accelerator yet');
    const id = `p${state.next_process++}`;
    const record: ProcessRecord = {
      id, kind: 'qemu', pid: 0, starttime: '', vm: vm.name, host: host.name, tap,
      qmp: labFiles.ofProcess(this.dir, id, 'qmp'), serial: labFiles.ofProcess(this.dir, id, 'serial'), log: labFiles.ofProcess(this.dir, id, 'log'),
      ...(incoming ? { incoming: true } : {}),
    };
    // Made here, so that QEMU opens a file of the lab's own and never follows a link.
    writeExclusive(record.serial as string, '');
    const args = [
      '-name', `${vm.name},debug-threads=on`,
      '-machine', 'pc', '-accel', state.accelerator,
      '-m', guestMemoryArgument(state.memory_mb, state.accelerator, this.wholeMiBMemory), '-smp', String(state.vcpus),
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-kernel', image.kernel, '-initrd', image.initrd,
      '-append', `console=ttyS0 ${process.env.QEMU_LAB_KERNEL_DEBUG ? 'loglevel=7' : 'quiet'} panic=-1 init_on_free=1 vmm.name=${vm.name} vmm.ip=${vm.address}/24`,
      '-chardev', serialChardev(record.serial as string), '-serial', 'chardev:serial0',
      '-netdev', `tap,id=net0,ifname=${tap},script=no,downscript=no`,
      '-device', `${state.nic},netdev=net0,mac=${vm.mac},romfile=`,
      '-qmp', `unix:${record.qmp},server=on,wait=off`,
      ...(incoming ? ['-incoming', 'defer'] : []),
    ];
    // Niced, so that the tool measuring the VMs (and HAProxy in front of them) is not starved
    // by them on a small machine: its actions and probes stay on time; the VMs still get
    // every idle cycle. `nice` and `taskset` exec QEMU, so the pid stays QEMU's.
    const qemu = [state.qemu, ...args];
    const pinned = host.cpus ? ['taskset', '-c', host.cpus.join(','), ...qemu] : qemu;
    const niced = ['nice', '-n', String(VM_NICENESS), ...pinned];
    const [command, fullArgs] = inNetns(state.netns, niced[0] as string, niced.slice(1));
    const { identity } = spawnDetached(command, fullArgs, record.log);
    Object.assign(record, identity);
    state.processes.push(record);
    if (!incoming) vm.process = id;
    this.save();
    return record;
  }
}

/**
 * QEMU's `-m` for a guest of `memoryMB`. Under TCG, QEMU before 9.0 loses dirty pages during
 * migration when a RAM block's size is a multiple of 64 pages: its fast path clears the
 * migration dirty bitmap without resetting TCG's TLB dirty state, so later writes through
 * the TLB are not tracked and the target gets stale pages (guests here panicked or lost
 * requests after migrations with more than one pass). The upstream fix is "physmem: Fix
 * migration dirty bitmap coherency with TCG memory access". 8 KiB more RAM makes QEMU take
 * its per-page slow path, which resets the TLB; the guest does not notice.
 */
export function guestMemoryArgument(memoryMB: number, accelerator: Accelerator, wholeMiB = false): string {
  return accelerator === 'tcg' && !wholeMiB ? `${memoryMB * 1024 + LAB_TCG_RAM_PADDING_KIB}K` : String(memoryMB);
}

/** The QEMU a lab runs: qemu-system-x86_64 that only root or the user can change (a state file could name any program). */
function checkQemu(qemu: string): void {
  if (path.basename(qemu) !== 'qemu-system-x86_64') throw new Error(`the lab's QEMU ${qemu || '(none)'} is not a qemu-system-x86_64: run 'vm-monitoring lab down' and up again`);
  checkTrustedFile('the lab\'s QEMU', qemu);
}

function processById(state: LabState, id: string): ProcessRecord {
  const record = state.processes.find((p) => p.id === id);
  if (!record) throw new Error(`no process ${id} in the lab`);
  return record;
}

/** Waits for `pattern` on the process's serial console; fails early when the process ends. */
async function waitForSerial(record: ProcessRecord, pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let text = '';
    try {
      text = fs.readFileSync(record.serial as string, 'utf8');
    } catch {
      // not created yet
    }
    if (pattern.test(text)) return;
    if (!isRunning(record)) throw new Error(`QEMU ${record.id} (${record.vm ?? record.kind}) exited while waiting for ${what}: ${tail(record.log)}`);
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

function tail(file: string, bytes = 600): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return text.length > bytes ? `…${text.slice(-bytes)}` : text || '(no output)';
  } catch {
    return '(no log)';
  }
}

function initialState(dir: string, spec: LabUpSpec): LabState {
  const hostNames = new Set(spec.hosts.map((host) => host.name));
  if (hostNames.size !== spec.hosts.length) throw new Error('a host is listed twice');
  if (new Set(spec.vms.map((vm) => vm.name)).size !== spec.vms.length) throw new Error('a VM is listed twice');
  for (const vm of spec.vms) if (!hostNames.has(vm.host)) throw new Error(`${vm.name} is placed on unknown host ${vm.host}`);
  return {
    version: 1,
    dir,
    netns: netnsNameFor(dir),
    status: 'starting',
    created_at: new Date().toISOString(),
    accelerator: null,
    accelerator_note: '',
    qemu: '',
    qemu_version: '',
    image: null,
    memory_mb: spec.memoryMB,
    vcpus: spec.vcpus,
    nic: spec.nic,
    lb_socket: labFiles.lbSocket(dir),
    admin_socket: labFiles.adminSocket(dir),
    hosts: spec.hosts.map((host) => ({ name: host.name, cpus: host.cpus })),
    vms: spec.vms.map((vm, i) => ({ name: vm.name, index: i + 1, address: guestAddress(i + 1), mac: guestMac(i + 1), host: vm.host, process: '' })),
    processes: [],
    next_process: 1,
    boot_seconds: {},
  };
}
