/**
 * The placement policy on real VMs (issue 15), through the CLI as a user runs it: `lab up`,
 * then `vm-monitoring run SCRIPT --platform qemu --config ... --policy ... --out ...`, then
 * `lab down`. `maintenance enter` evacuates a host under live cpu and memory2 clients without
 * losing or corrupting an answer; `drs 3` undoes an imbalance the script makes. Where the VMs
 * end up is read from the lab itself (its state file and `lab status`), not only from the CSV.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { cpuMhzFromCpuinfo, hostCpuCount } from '../../src/platforms/qemu/counters.ts';
import { readState, type LabState, type ProcessRecord } from '../../src/platforms/qemu/lab-state.ts';
import { balancePriority } from '../../src/policy/balance.ts';
import { DECISION_COLUMNS } from '../../src/record/columns.ts';
import { parseCsv, readCsvFile, runCli, writeScript, type CliResult } from '../support/cli.ts';
import { assertNothingLeft, watchLabProcesses } from './support/lab-leftovers.ts';
import { labSkipReason } from './support/lab-requirements.ts';
import { assertIntact, assertMigrationDetails } from './support/run-on-qemu.ts';

const skip = labSkipReason();
const { after, describe, it } = needing(skip);

/** Booting TCG guests on a busy 2-core machine can take minutes: the CLI gets all the time it needs. */
const CLI_TIMEOUT_MS = 900_000;

/** The CPU's clock as the qemu platform reads it (its fallback of 1000 MHz when /proc/cpuinfo has none). */
const CPU_MHZ = cpuMhzFromCpuinfo() ?? 1000;

/**
 * A host's CPU capacity as the policy must get it from the qemu platform's inventory: what the
 * host's cpu.usagemhz.average can reach. The platform computes that counter as the CPU time of
 * the host's QEMU processes per second × the `cpu MHz` of /proc/cpuinfo, bounded by the host's
 * CPUs (those it is pinned to, or else all of the machine's) × that MHz (src/platforms/qemu/
 * counters.ts, boundedCpuMhz): that bound is the capacity, computed here the same way and
 * checked in run.json. On this 2-core machine at 2596 MHz: 5192 MHz for an unpinned host,
 * 2596 for a host pinned to one CPU. run.json's cpu_mhz is checked against CPU_MHZ too.
 */
function hostCapacityMHz(cpus: readonly number[] | null): number {
  return Math.round(hostCpuCount(cpus) * CPU_MHZ);
}

function detail(result: CliResult): string {
  return `exit ${result.code}${result.signal ? ` (${result.signal})` : ''}\nstderr: ${result.stderr}\nstdout: ${result.stdout.slice(0, 500)}`;
}

/** `esx1=0.819 esx2=0.000` as a map. */
function parseLoads(text: string): Record<string, number> {
  return Object.fromEntries(text.split(' ').filter((entry) => entry !== '').map((entry) => {
    const [host, value] = entry.split('=');
    return [host as string, Number(value)];
  }));
}

interface RunRecords {
  runJson: { status: string; policy: { host_cpu_mhz: Record<string, number> }; platform: { name: string; cpu_mhz: number; lab: { owned_by_this_run: boolean } } };
  actions: Record<string, string>[];
  migrations: Record<string, string>[];
  decisions: Record<string, string>[];
  requests: Record<string, string>[];
  samples: Record<string, string>[];
}

/** The cells of `columns` of each row. */
function record(rows: readonly Record<string, string>[], columns: readonly string[]): string[][] {
  return rows.map((row) => columns.map((column) => row[column] as string));
}

const MIGRATION_SUMMARY = ['vm', 'source', 'target', 'requested_s', 'ended_s', 'duration_ms', 'downtime_ms', 'client_downtime_ms', 'passes', 'status', 'kind'];

/**
 * Reads the run directory and logs its decisions and migrations (before any assertion, so
 * that a failing run shows them), then asserts what every run of a policy script here must
 * show: it completed on the lab that was up, with the policy's capacity in run.json,
 * decisions.csv with its header and the same decisions as stdout, each migration's details
 * agreeing with migrations.csv, every request answered ok and every answer's data checked
 * intact, across every migration.
 */
function readRun(label: string, out: string, result: CliResult, capacityMHz: number): RunRecords {
  assert.equal(result.code, 0, detail(result));
  const decisionFile = readCsvFile(path.join(out, 'decisions.csv'));
  const run: RunRecords = {
    runJson: JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunRecords['runJson'],
    actions: readCsvFile(path.join(out, 'actions.csv')).rows,
    migrations: readCsvFile(path.join(out, 'migrations.csv')).rows,
    decisions: decisionFile.rows,
    requests: readCsvFile(path.join(out, 'requests.csv')).rows,
    samples: readCsvFile(path.join(out, 'samples.csv')).rows,
  };
  console.log(`${label} decisions:\n${record(run.decisions, DECISION_COLUMNS).map((row) => row.join(',')).join('\n')}`);
  console.log(`${label} migrations:\n${record(run.migrations, MIGRATION_SUMMARY).map((row) => row.join(',')).join('\n')}`);

  const { runJson, requests } = run;
  assert.equal(runJson.status, 'completed');
  assert.equal(runJson.platform.name, 'qemu');
  assert.equal(runJson.platform.lab.owned_by_this_run, false, 'the run used the lab `lab up` brought up');
  assert.equal(runJson.platform.cpu_mhz, CPU_MHZ, 'the platform counts CPU time at the clock the capacity was computed from');
  assert.ok(Object.values(runJson.policy.host_cpu_mhz).every((mhz) => mhz === capacityMHz), `run.json: ${JSON.stringify(runJson.policy.host_cpu_mhz)}`);
  assert.deepEqual(decisionFile.header, [...DECISION_COLUMNS]);
  const stdoutDecisions = parseCsv(result.stdout).filter((row) => row[1] === 'decision');
  assert.equal(stdoutDecisions.length, run.decisions.length, 'stdout carries the decisions decisions.csv does');

  assertMigrationDetails(out);
  assert.ok(requests.length > 0, 'the clients made requests');
  const notOk = requests.filter((row) => row.status !== 'ok');
  assert.deepEqual(notOk, [], `${notOk.length} of ${requests.length} requests not ok`);
  const intact = assertIntact(out);
  assert.equal(intact.checkedRequests, requests.length, 'every answer checked its data, none corrupt');
  return run;
}

/** The last vm.count sampled on each host: VMs whose running QEMU process was there. */
function lastVmCounts(samples: readonly Record<string, string>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sample of samples) if (sample.counter === 'vm.count') counts[sample.host as string] = Number(sample.value);
  return counts;
}

/** Where the lab says each VM runs: its state file, and `lab status` agreeing. */
async function labPlacement(configPath: string, labDir: string): Promise<Record<string, string>> {
  const state = readState(labDir) as LabState;
  assert.equal(state.status, 'up');
  const placement = Object.fromEntries(state.vms.map((vm) => [vm.name, vm.host]));
  const status = await runCli(['lab', 'status', '--config', configPath], { timeoutMs: 120_000 });
  assert.equal(status.code, 0, detail(status));
  for (const host of state.hosts) {
    const listed = new RegExp(`^ {2}${host.name}(?: \\(CPUs [\\d,]+\\))?:\\n((?: {4}.*\\n)*)`, 'm').exec(status.stdout)?.[1] ?? '';
    const vms = [...listed.matchAll(/^ {4}(\S+) .* running$/gm)].map((match) => match[1]).sort();
    assert.deepEqual(vms, Object.keys(placement).filter((vm) => placement[vm] === host.name).sort(), `lab status lists ${host.name}'s VMs as the state file does:\n${status.stdout}`);
  }
  return placement;
}

describe('the placement policy on real VMs, through the CLI', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-policy-'));
  const labDirs: string[] = [];

  after(async () => {
    for (const dir of labDirs) await Lab.down(dir);
    fs.rmSync(base, { recursive: true, force: true });
  });

  /** The lab's config: its hosts (as the config's `hosts` list gives them) and VMs, TCG, timeouts as the other lab tests. */
  function configFile(name: string, layout: string[]): { path: string; labDir: string } {
    const labDir = path.join(base, `lab-${name}`);
    labDirs.push(labDir);
    const file = path.join(base, `${name}.yaml`);
    fs.writeFileSync(file, [`labDir: ${labDir}`, ...layout, 'accelerator: tcg', 'load: { requestTimeoutSeconds: 60 }', 'probe: { settleSeconds: 10 }', ''].join('\n'));
    return { path: file, labDir };
  }

  function policyFile(name: string, lines: string[]): string {
    const file = path.join(base, `${name}-policy.yaml`);
    fs.writeFileSync(file, [...lines, ''].join('\n'));
    return file;
  }

  /**
   * `lab up` with the hosts and VMs of `layout` (config lines; VMs round-robin: vm01 on esx1,
   * vm02 on esx2), then `body`, then `lab down`; whatever happens, what the lab started is
   * stopped and checked gone.
   */
  async function onLab(name: string, layout: string[], body: (config: { path: string; labDir: string }) => Promise<void>): Promise<void> {
    const config = configFile(name, layout);
    const watch = watchLabProcesses(config.labDir);
    let seen: ProcessRecord[];
    let downFailed: unknown;
    try {
      const up = await runCli(['lab', 'up', '--config', config.path], { timeoutMs: CLI_TIMEOUT_MS });
      assert.equal(up.code, 0, detail(up));
      await body(config);
      const down = await runCli(['lab', 'down', '--config', config.path], { timeoutMs: 120_000 });
      assert.equal(down.code, 0, detail(down));
    } finally {
      seen = watch.stop();
      // Whatever happened, nothing of the lab stays; a failure here does not hide the body's.
      await Lab.down(config.labDir).catch((error: unknown) => (downFailed = error));
    }
    if (downFailed !== undefined) throw downFailed;
    assertNothingLeft(config.labDir, seen);
  }

  it('maintenance enter evacuates a host under cpu and memory2 clients, every answer ok and intact', async () => {
    // Unpinned hosts: each may use all of the machine's CPUs.
    const capacityMHz = hostCapacityMHz(null);
    await onLab('maintenance', ['hosts: [esx1, esx2, esx3]', 'vms: [vm01, vm02]'], async (config) => {
      // vm02 starts on esx2 (lab up's round-robin): the placement line brings it to esx1 first.
      const script = writeScript(base, 'maintenance.txt', [
        'esx1:vm01,vm02 esx2: esx3:',
        '0 add-client cpu 1',
        '0 add-client memory2 1',
        '5 maintenance enter esx1',
        '30 end',
      ]);
      // No --policy: the defaults, and the hosts' capacity from the platform.
      const out = path.join(base, 'run-maintenance');
      const started = performance.now();
      const result = await runCli(['run', script, '--platform', 'qemu', '--config', config.path, '--out', out], { timeoutMs: CLI_TIMEOUT_MS });
      console.log(`maintenance run: ${((performance.now() - started) / 1000).toFixed(1)} s wall`);
      const run = readRun('maintenance', out, result, capacityMHz);

      assert.deepEqual(record(run.actions, ['action', 'args', 'status']), [
        ['add-client', 'cpu 1', 'fired'], ['add-client', 'memory2 1', 'fired'], ['maintenance', 'enter esx1', 'fired'], ['end', '', 'fired'],
      ]);
      const enteredS = Number(run.actions[2]!.fired_s);
      const endS = Number(run.actions[3]!.fired_s);

      // The setup brought vm02 to esx1; then both left esx1, one to each empty host (the least
      // loaded, counting the VM already sent there), and succeeded.
      assert.deepEqual(record(run.migrations.filter((m) => m.kind === 'setup'), ['vm', 'source', 'target', 'status']), [['vm02', 'esx2', 'esx1', 'succeeded']]);
      const evacuations = run.migrations.filter((m) => m.kind === 'maintenance');
      assert.deepEqual(evacuations.map((m) => m.vm).sort(), ['vm01', 'vm02'], 'both VMs were evacuated, each once');
      assert.deepEqual(run.migrations.filter((m) => !['setup', 'maintenance'].includes(m.kind as string)), [], 'no other migration');
      for (const m of evacuations) {
        assert.equal(m.status, 'succeeded', `${m.vm}: ${m.reason}`);
        assert.equal(m.source, 'esx1');
        assert.ok(Number(m.requested_s) >= enteredS - 0.001, `${m.vm} asked for once esx1 entered maintenance`);
      }
      assert.deepEqual(evacuations.map((m) => m.target).sort(), ['esx2', 'esx3'], 'one VM to each empty host');

      // decisions.csv: a move per VM, then done: esx1 is empty.
      const moves = run.decisions.filter((d) => d.outcome === 'move');
      assert.deepEqual(moves.map((d) => [d.policy, d.vm, d.source, d.target]).sort(), evacuations.map((m) => ['maintenance', m.vm, 'esx1', m.target]).sort());
      const done = run.decisions.filter((d) => d.outcome === 'done');
      assert.equal(done.length, 1, `one done row: ${JSON.stringify(run.decisions)}`);
      assert.equal(done[0]!.policy, 'maintenance');
      assert.equal(done[0]!.source, 'esx1');
      assert.match(done[0]!.reason as string, /esx1 is empty/);
      const lastEndS = Math.max(...evacuations.map((m) => Number(m.ended_s)));
      assert.ok(Number(done[0]!.time_s) >= lastEndS - 0.001 && Number(done[0]!.time_s) <= endS, 'done once both evacuations ended, before the end');
      assert.deepEqual(run.decisions.filter((d) => !['move', 'done'].includes(d.outcome as string)), [], 'no other decision (DRS is off)');

      // Both clients were answered throughout, by both VMs, and during the evacuations.
      for (const type of ['cpu', 'memory2']) assert.ok(run.requests.some((r) => r.client_type === type), `${type} requests`);
      for (const m of evacuations) {
        const across = run.requests.filter((r) => r.server === m.vm && Number(r.sent_s) <= Number(m.ended_s) && Number(r.received_s) >= Number(m.requested_s));
        assert.ok(across.length > 0, `${m.vm} answered across its evacuation`);
      }

      // The lab itself: no VM on esx1 (its last sample, its state file, lab status).
      assert.equal(lastVmCounts(run.samples).esx1, 0, 'esx1\'s last sample counts no VM');
      const placement = await labPlacement(config.path, config.labDir);
      assert.deepEqual(placement, Object.fromEntries(evacuations.map((m) => [m.vm, m.target])), 'the lab has each VM where its evacuation took it');
      assert.ok(Object.values(placement).every((host) => host !== 'esx1'));
    });
  });

  it('drs 3 moves a VM back off the host the script overloaded, and the spread goes down', async () => {
    // Each host pinned to a CPU of its own (the second CPU, or the first again on a 1-CPU
    // machine), as hosts of a datacenter have CPUs of their own: two VMs on one host share its
    // one CPU, and the host's capacity is that CPU's MHz.
    const secondCpu = Math.min(1, os.cpus().length - 1);
    const capacityMHz = hostCapacityMHz([0]);
    await onLab('drs', [`hosts: [{ name: esx1, cpus: [0] }, { name: esx2, cpus: [${secondCpu}] }]`, 'vms: [vm01, vm02]'], async (config) => {
      // Two cpu clients keep both VMs busy. Once the script has put both on esx1, they share
      // its one CPU: esx1 uses all of its capacity (0.98-1.00 measured) and esx2 nothing, a
      // spread of about 0.5, priority 2 (6 - ceil(0.5 / 0.1 × sqrt 2) = -2, never below 2).
      // Level 3 applies priorities up to 3, i.e. a spread above 0.1 / sqrt 2 = 0.141: esx1
      // above 0.283 of its CPU, less than a third of what it uses. (Unpinned, with a capacity
      // of both CPUs, esx1 measured 0.36-0.88: enough, but noisy, and no real shortage.) DRS
      // moves only from a host above the mean in each of the last two cycles (stableCycles,
      // left at its default), counting samples after the host's last migration: the look at
      // `drs 3`, 15 s after the script's migration, finds one cycle only and waits for the
      // next. Once DRS moves a VM back, each host has one and no move can cut the spread, so
      // there is exactly one DRS move; 60 s of DRS leave two looks at least after it.
      const script = writeScript(base, 'drs.txt', [
        'esx1:vm01 esx2:vm02',
        '0 add-client cpu 2',
        '5 migrate vm02 esx1',
        '15 drs 3',
        '60 end',
      ]);
      const policy = policyFile('drs', ['drs: { cycleSeconds: 15, holdDownSeconds: 0 }']);
      const out = path.join(base, 'run-drs');
      const started = performance.now();
      const result = await runCli(['run', script, '--platform', 'qemu', '--config', config.path, '--policy', policy, '--out', out], { timeoutMs: CLI_TIMEOUT_MS });
      console.log(`drs run: ${((performance.now() - started) / 1000).toFixed(1)} s wall`);
      const run = readRun('drs', out, result, capacityMHz);

      assert.deepEqual(record(run.actions, ['action', 'args', 'status']), [
        ['add-client', 'cpu 2', 'fired'], ['migrate', 'vm02 esx1', 'fired'], ['drs', '3', 'fired'], ['end', '', 'fired'],
      ]);
      const drsS = Number(run.actions[2]!.fired_s);

      // The script's migration made the imbalance; DRS's one move undid it.
      assert.equal(run.migrations.length, 2, `the script's migration and one DRS move: ${JSON.stringify(record(run.migrations, ['vm', 'source', 'target', 'status', 'kind']))}`);
      const [scripted, drs] = run.migrations as [Record<string, string>, Record<string, string>];
      assert.deepEqual([scripted.vm, scripted.source, scripted.target, scripted.status, scripted.kind], ['vm02', 'esx2', 'esx1', 'succeeded', 'script']);
      assert.deepEqual([drs.source, drs.target, drs.status, drs.kind], ['esx1', 'esx2', 'succeeded', 'drs'], drs.reason);
      assert.ok(Number(drs.requested_s) >= drsS - 0.001, 'asked for once DRS was on');

      // Its move row: level 3, the imbalance seen on esx1 at a priority level 3 applies, and the
      // spread it expects after the move lower than before.
      const moves = run.decisions.filter((d) => d.outcome === 'move');
      assert.equal(moves.length, 1, `one move: ${JSON.stringify(run.decisions)}`);
      const move = moves[0]!;
      assert.deepEqual([move.policy, move.level, move.vm, move.source, move.target], ['drs', '3', drs.vm, 'esx1', 'esx2']);
      assert.ok(Math.abs(Number(move.time_s) - Number(drs.requested_s)) < 0.5, 'the migration is the move decided');
      const seen = parseLoads(move.loads as string);
      assert.ok((seen.esx1 as number) > (seen.esx2 as number), `esx1 the loaded host: ${move.loads}`);
      const spreadBefore = Number(move.spread);
      assert.ok(balancePriority(spreadBefore, 2) <= 3, `spread ${spreadBefore}: priority ${balancePriority(spreadBefore, 2)}, within level 3`);
      const expected = /the spread goes from ([\d.]+) to ([\d.]+)$/.exec(move.reason as string);
      assert.ok(expected, move.reason);
      assert.equal(Number(expected[1]), Number(spreadBefore.toFixed(3)), 'the reason gives the row\'s spread');
      assert.ok(Number(expected[2]) < spreadBefore, `the move is expected to cut the spread: ${move.reason}`);

      // What it did: every DRS look after the move ended (on samples after it: nothing moved
      // since) saw a spread lower than before, too small for level 3.
      const later = run.decisions.filter((d) => Number(d.time_s) > Number(drs.ended_s));
      assert.ok(later.length >= 1, `a DRS look after the move: ${JSON.stringify(run.decisions)}`);
      for (const d of later) {
        assert.equal(d.outcome, 'none', d.reason);
        assert.ok(Number(d.spread) < spreadBefore && balancePriority(Number(d.spread), 2) > 3, `spread ${d.spread} at ${d.time_s} s after ${spreadBefore}`);
      }
      assert.ok(run.decisions.every((d) => d.policy === 'drs' && (d.outcome === 'move' || d.outcome === 'none')), 'only DRS looks and its move');

      // What the clients got, for the log: the imbalance was a real shortage of CPU.
      const answersPerSecond = (fromS: number, toS: number): string =>
        (run.requests.filter((r) => Number(r.received_s) >= fromS && Number(r.received_s) < toS).length / (toS - fromS)).toFixed(1);
      const endS = Number(run.actions[3]!.fired_s);
      console.log(`drs: cpu answers/s ${answersPerSecond(Number(scripted.ended_s), Number(drs.requested_s))} with both VMs on esx1, ${answersPerSecond(Number(drs.ended_s), endS)} after DRS's move`);

      // The lab has one VM on each host: the moved one on esx2.
      assert.deepEqual(lastVmCounts(run.samples), { esx1: 1, esx2: 1 }, 'the last sample counts a VM on each host');
      const placement = await labPlacement(config.path, config.labDir);
      assert.deepEqual(placement, drs.vm === 'vm01' ? { vm01: 'esx2', vm02: 'esx1' } : { vm01: 'esx1', vm02: 'esx2' });
    });
  });
});
