import { Command, InvalidArgumentError } from 'commander';
import { escapeInvisible, InputError } from '../errors.ts';
import { cacheDirOf, labDirOf, labLayout, loadQemuConfig, type QemuConfig } from '../platforms/qemu/config.ts';
import { Lab } from '../platforms/qemu/lab.ts';
import { isLabProcess, LabInUseError, lockHolder, readState, type LabState } from '../platforms/qemu/lab-state.ts';
import { QmpClient } from '../platforms/qemu/qmp.ts';
import { describeMissing } from '../platforms/qemu/requirements.ts';
import { canonicalPath } from '../platforms/qemu/safe-paths.ts';
import { positiveInteger } from './options.ts';

interface LabFlags {
  config?: string;
  dir?: string;
}

interface LabUpFlags extends LabFlags {
  hosts?: number;
  vms?: number;
  memory?: number;
}

interface LabStatusFlags extends LabFlags {
  json?: boolean;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;

function memoryMB(value: string): number {
  const mb = positiveInteger(value);
  if (mb < 64 || mb > 16384) throw new InvalidArgumentError('expected MB from 64 to 16384.');
  return mb;
}

function readConfig(flags: LabFlags): QemuConfig {
  return loadQemuConfig(flags.config);
}

const log = (line: string): void => {
  process.stderr.write(`lab: ${line}\n`);
};

/** `vm-monitoring lab up|status|down`: the QEMU lab on this machine. */
export function addLabCommand(program: Command, setExitCode: (code: number) => void): void {
  const lab = program
    .command('lab')
    .description('the QEMU lab on this machine: real VMs in logical hosts behind HAProxy, for --platform qemu')
    .showHelpAfterError(false)
    .exitOverride();

  const dirOption = [
    '--dir <dir>',
    'the lab\'s directory, your own and closed to others (default: the config\'s labDir, $VM_MONITORING_LAB_DIR or /run/vm-monitoring/lab; not root: $XDG_RUNTIME_DIR/vm-monitoring/lab)',
  ] as const;
  const configOption = ['--config <file>', 'qemu platform config (YAML or JSON)'] as const;

  lab
    .command('up')
    .description('build the guest image if needed, boot the VMs, start HAProxy; the lab stays up until `lab down`')
    .option('--hosts <n>', 'logical hosts esx1..esxN (default: 3 or the config\'s hosts)', positiveInteger)
    .option('--vms <n>', 'VMs vm01..vmNN spread over the hosts (default: 3 or the config\'s vms)', positiveInteger)
    .option('--memory <mb>', 'memory of each VM in MB (default: 256 or the config\'s memoryMB)', memoryMB)
    .option(...configOption)
    .option(...dirOption)
    .showHelpAfterError(false)
    .exitOverride()
    .action(async (flags: LabUpFlags) => setExitCode(await labUp(flags)));

  lab
    .command('status')
    .description('say whether a lab is up, its hosts, VMs (with QEMU\'s run state) and sockets; exit 1 when none is up or it is broken')
    .option('--json', 'print the lab\'s state file with each process\'s liveness')
    .option(...configOption)
    .option(...dirOption)
    .showHelpAfterError(false)
    .exitOverride()
    .action(async (flags: LabStatusFlags) => setExitCode(await labStatus(flags)));

  lab
    .command('down')
    .description('end every process of the lab, delete its namespace, taps and sockets; safe to repeat, also after a crash; refused while a run uses the lab')
    .option(...configOption)
    .option(...dirOption)
    .showHelpAfterError(false)
    .exitOverride()
    .action(async (flags: LabFlags) => setExitCode(await labDown(flags)));
}

export async function labUp(flags: LabUpFlags): Promise<number> {
  const config = readConfig(flags);
  const dir = labDirOf(config, flags.dir);
  const missing = describeMissing();
  if (missing) {
    process.stderr.write(`vm-monitoring: lab up: ${missing}\n`);
    return EXIT_FAILED;
  }
  const layout = labLayout(config, { hosts: flags.hosts, vms: flags.vms });
  if (layout.vms.length > 200) throw new InputError('at most 200 VMs');
  const started = performance.now();
  const up = await Lab.up(
    {
      dir, cacheDir: cacheDirOf(config), hosts: layout.hosts, vms: layout.vms, memoryMB: flags.memory ?? config.memoryMB,
      vcpus: config.vcpus, nic: config.nic, accelerator: config.accelerator, kvmProbeSeconds: config.kvmProbeSeconds,
      bootTimeoutSeconds: config.bootTimeoutSeconds, serverTimeoutSeconds: config.load.requestTimeoutSeconds,
    },
    log,
  );
  up.detach();
  log(`up in ${((performance.now() - started) / 1000).toFixed(1)} s; 'vm-monitoring lab down${flags.dir ? ` --dir ${flags.dir}` : ''}' takes it down`);
  process.stdout.write(await describeLab(up.state));
  return EXIT_OK;
}

export async function labStatus(flags: LabStatusFlags): Promise<number> {
  const config = readConfig(flags);
  const dir = canonicalPath(labDirOf(config, flags.dir));
  const state = readState(dir);
  if (!state) {
    process.stdout.write(flags.json ? `${JSON.stringify({ dir, status: 'down' })}\n` : `no lab is up in ${dir}\n`);
    return EXIT_FAILED;
  }
  const dead = state.processes.filter((record) => !isLabProcess(record, dir));
  if (flags.json) {
    const processes = state.processes.map((record) => ({ ...record, running: isLabProcess(record, dir) }));
    process.stdout.write(`${JSON.stringify({ ...state, processes, used_by_pid: lockHolder(dir)?.pid ?? null }, null, 2)}\n`);
  } else {
    process.stdout.write(await describeLab(state));
    for (const record of dead) process.stdout.write(`problem: process ${record.id} (${record.vm ?? record.kind}, pid ${record.pid}) is gone, or its pid is another process's now\n`);
  }
  return state.status === 'up' && dead.length === 0 ? EXIT_OK : EXIT_FAILED;
}

/** Exit 1 when a live process (a run) uses the lab: the command is right, the moment is not; nothing is touched. */
export async function labDown(flags: LabFlags): Promise<number> {
  const config = readConfig(flags);
  const dir = labDirOf(config, flags.dir);
  let result;
  try {
    result = await Lab.down(dir, log);
  } catch (error) {
    if (!(error instanceof LabInUseError)) throw error;
    // The message names the holder's command line: another user's bytes, shown escaped.
    process.stderr.write(`vm-monitoring: lab down refused: ${escapeInvisible(error.message)}; let it end, or stop it (Ctrl-C, or kill -INT ${error.holder}), then take the lab down\n`);
    return EXIT_FAILED;
  }
  process.stdout.write(
    result.processes === 0 && !result.netns && result.files === 0
      ? `no lab in ${dir}: nothing to do\n`
      : `lab in ${dir} is down: ${result.processes} processes ended, ${result.netns ? 'namespace deleted' : 'no namespace was left'}, ${result.files} files removed\n`,
  );
  return EXIT_OK;
}

/** A few lines a person reads: the lab, its hosts with their VMs and QEMU's run state of each. */
async function describeLab(state: LabState): Promise<string> {
  const lines = [
    `lab ${state.status} in ${state.dir}`,
    `  accelerator ${state.accelerator ?? '?'} (${state.accelerator_note}); ${state.qemu_version}`,
    `  guest ${state.image?.kernel ?? '?'} + initramfs ${state.image?.key ?? '?'}, ${state.memory_mb} MB, ${state.vcpus} vCPU, ${state.nic}`,
    `  load balancer: unix socket ${state.lb_socket} (round-robin; /vm/NAME/ for one VM)`,
    `  network namespace ${state.netns}`,
  ];
  const user = lockHolder(state.dir);
  if (user) lines.push(`  in use by process ${user.pid}`);
  for (const host of state.hosts) {
    lines.push(`  ${host.name}${host.cpus ? ` (CPUs ${host.cpus.join(',')})` : ''}:`);
    for (const vm of state.vms.filter((candidate) => candidate.host === host.name)) {
      const record = state.processes.find((p) => p.id === vm.process);
      const runState = record ? await qemuRunState(record.qmp, isLabProcess(record, state.dir)) : 'no process';
      lines.push(`    ${vm.name} ${vm.address} pid ${record?.pid ?? '?'} ${runState}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function qemuRunState(qmpPath: string | undefined, alive: boolean): Promise<string> {
  if (!alive) return 'gone';
  if (!qmpPath) return 'running (no QMP)';
  try {
    const qmp = await QmpClient.connect(qmpPath, 2000);
    try {
      const status = await qmp.execute<{ status: string }>('query-status');
      return status.status;
    } finally {
      qmp.close();
    }
  } catch (error) {
    return `QMP busy or unreachable (${(error as Error).message})`;
  }
}
