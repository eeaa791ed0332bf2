/**
 * The vsphere platform against govmomi's vCenter simulator (vcsim 0.24.2, Debian's
 * golang-github-vmware-govmomi-dev): login and TLS, inventory, a seed-format run with
 * migrations (their tasks and VmMigratedEvents), counters, a faulting migration, an expired
 * session. The run's clients load the project's own workload server (guest/server.c).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../src/errors.ts';
import type { PlatformOptions } from '../../src/platforms/platform.ts';
import type { VsphereMigrationDetails } from '../../src/platforms/vsphere/migrations.ts';
import { openVspherePlatform, type VspherePlatform } from '../../src/platforms/vsphere/vsphere-platform.ts';
import { VimClient } from '../../src/platforms/vsphere/vim-client.ts';
import { moRef } from '../../src/platforms/vsphere/soap.ts';
import { child, children, each } from '../../src/platforms/vsphere/xml.ts';
import { RunDirectory } from '../../src/record/run-directory.ts';
import type { ActionRecord, MigrationRecord, RecordSink, RequestRecord, SampleRecord } from '../../src/record/records.ts';
import { describeRun, executeRun, prepareRun } from '../../src/run/session.ts';
import { parseScript } from '../../src/script/parse.ts';
import { placementOf } from '../../src/script/validate.ts';
import { needing } from '../support/needing.ts';
import { serverSkipReason } from '../qemu/support/lab-requirements.ts';
import { startVcsim, vcsimSkip, type Vcsim } from './vcsim.ts';
import { startWorkloadServer } from './workload-server.ts';

const ENV_USER = 'TEST_VSPHERE_USER';
const ENV_PASSWORD = 'TEST_VSPHERE_PASSWORD';
/** The VM whose RelocateVM_Task vcsim refuses (MethodDisabled), for the faulting migration. */
const HELD_VM = 'DC0_C0_RP0_VM1';

interface Harness {
  sim: Vcsim;
  configPath: string;
}

function writeConfig(sim: Vcsim, name: string, extra: Record<string, unknown> = {}): string {
  const config = {
    url: sim.url,
    credentials: { usernameEnv: ENV_USER, passwordEnv: ENV_PASSWORD },
    tls: { caFile: path.basename(sim.caFile) },
    // Port 9 (discard): only the run test sends load, to a workload server of its own.
    load: { url: 'http://127.0.0.1:9' },
    timeouts: { callSeconds: 10, migrationSeconds: 60, taskPollSeconds: 0.1 },
    ...extra,
  };
  const file = path.join(sim.dir, name);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

function options(configPath: string, overrides: Partial<PlatformOptions> = {}): PlatformOptions {
  return { configPath, seed: 1, placement: [], caFile: undefined, insecure: false, ...overrides };
}

function deps(sim: Vcsim, password = sim.password): { env: NodeJS.ProcessEnv; warn: (m: string) => void; warnings: string[] } {
  const warnings: string[] = [];
  return { env: { [ENV_USER]: sim.username, [ENV_PASSWORD]: password }, warn: (m) => warnings.push(m), warnings };
}

/** Each VM's host name and resource pool, read through the API by a client of its own. */
async function vmPlacement(sim: Vcsim): Promise<Map<string, { host: string; pool: string }>> {
  const client = await VimClient.connect(new URL(sim.url), { ca: fs.readFileSync(sim.caFile, 'utf8'), insecure: false }, { timeoutMs: 10_000, maxResponseMiB: 16 });
  try {
    await client.login(sim.username, sim.password);
    const view = await client.createContainerView(client.content.rootFolder, ['HostSystem', 'VirtualMachine'], true);
    const objects = await client.retrieveProperties({
      propSet: [{ type: 'HostSystem', pathSet: ['name'] }, { type: 'VirtualMachine', pathSet: ['name', 'runtime.host', 'resourcePool'] }],
      objectSet: [{ obj: view, skip: true, traverseView: true }],
    });
    const hostNames = new Map(objects.filter((o) => o.obj.type === 'HostSystem').map((o) => [o.obj.value, o.props.get('name')!.text]));
    return new Map(
      objects
        .filter((o) => o.obj.type === 'VirtualMachine')
        .map((o) => [o.props.get('name')!.text, { host: hostNames.get(moRef(o.props.get('runtime.host'))!.value)!, pool: o.props.get('resourcePool')!.text }]),
    );
  } finally {
    await client.logout();
    await client.close();
  }
}

interface CollectedRun {
  samples: SampleRecord[];
  actions: ActionRecord[];
  migrations: MigrationRecord[];
  requests: RequestRecord[];
}

function collector(): CollectedRun & RecordSink {
  const run = {
    samples: [] as SampleRecord[],
    actions: [] as ActionRecord[],
    migrations: [] as MigrationRecord[],
    requests: [] as RequestRecord[],
    sample: (r: SampleRecord) => run.samples.push(r),
    action: (r: ActionRecord) => run.actions.push(r),
    migration: (r: MigrationRecord) => run.migrations.push(r),
    request: (r: RequestRecord) => run.requests.push(r),
    decision: () => {},
  };
  return run;
}

const { after, before, describe, it } = needing(vcsimSkip().skip);

describe('vsphere platform against vcsim', () => {
  let harness: Harness;

  before(async () => {
    const sim = await startVcsim({ hostsPerCluster: 3, standaloneHosts: 1, vmsPerPool: 2, disableMethods: [`${HELD_VM}:RelocateVM_Task`] });
    harness = { sim, configPath: writeConfig(sim, 'config.json') };
  });

  after(async () => {
    await harness?.sim.stop();
  });

  it('logs in with the CA file, and says nothing of the password in describe() or run.json', async () => {
    const d = deps(harness.sim);
    const platform = await openVspherePlatform(options(harness.configPath), d);
    try {
      const described = platform.describe();
      assert.equal(described.name, 'vsphere');
      assert.equal((described.server as { api_type: string }).api_type, 'VirtualCenter');
      assert.equal(platform.refreshSeconds, 20, 'the real-time refresh rate vcsim reports');
      assert.equal(platform.minIntervalSeconds, 20);
      assert.deepEqual(d.warnings, []);
      const experiment = parseScript('DC0_C0_H0:\n0 end\n', 'test.txt');
      const prepared = await prepareRun(experiment, platform);
      const out = path.join(harness.sim.dir, 'run-json');
      const directory = RunDirectory.open(out, describeRun(prepared, { scriptPath: 'test.txt', scriptText: '', seed: 1, maxMigrationsPerHost: 4 }));
      directory.finish({ status: 'completed' });
      const runJson = fs.readFileSync(path.join(out, 'run.json'), 'utf8');
      assert.ok(runJson.includes(harness.sim.url), 'run.json names the server');
      assert.ok(runJson.includes(ENV_PASSWORD), 'run.json says where the password came from');
      assert.ok(!runJson.includes(harness.sim.password), 'run.json holds no password');
      assert.ok(!JSON.stringify(described).includes(harness.sim.password));
    } finally {
      await platform.close();
    }
  });

  it('refuses a server whose certificate it cannot verify, and says what to do', async () => {
    const configPath = writeConfig(harness.sim, 'no-ca.json', { tls: {} });
    await assert.rejects(openVspherePlatform(options(configPath), deps(harness.sim)), (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.match(error.message, /TLS: .*--ca-file.*--insecure/);
      return true;
    });
  });

  it('skips verification only with --insecure, and warns', async () => {
    const configPath = writeConfig(harness.sim, 'insecure.json', { tls: {} });
    const d = deps(harness.sim);
    const platform = await openVspherePlatform(options(configPath, { insecure: true }), d);
    await platform.close();
    assert.equal(d.warnings.length, 1);
    assert.match(d.warnings[0]!, /TLS certificate verification is OFF/);
  });

  it('takes --ca-file over the config', async () => {
    const configPath = writeConfig(harness.sim, 'flag-ca.json', { tls: {} });
    const platform = await openVspherePlatform(options(configPath, { caFile: harness.sim.caFile }), deps(harness.sim));
    await platform.close();
  });

  it('turns a wrong password into a clear error that does not carry it', async () => {
    const wrong = 'Wrong-pass-0815?';
    await assert.rejects(openVspherePlatform(options(harness.configPath), deps(harness.sim, wrong)), (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.match(error.message, /login as 'administrator@vsphere.local' .* failed: InvalidLogin/);
      assert.match(error.message, new RegExp(ENV_PASSWORD));
      assert.ok(!error.message.includes(wrong) && !error.message.includes(harness.sim.password), error.message);
      return true;
    });
  });

  it('reads the inventory the simulator holds', async () => {
    const platform = await openVspherePlatform(options(harness.configPath), deps(harness.sim));
    try {
      const inventory = await platform.inventory();
      assert.deepEqual([...inventory.hosts].sort(), [...harness.sim.hosts].sort());
      assert.deepEqual(
        Object.fromEntries(inventory.vms.map((vm) => [vm.name, vm.host])),
        harness.sim.vms,
      );
      assert.equal(inventory.hosts.length, 4);
      assert.equal(inventory.vms.length, 4);
    } finally {
      await platform.close();
    }
  });

  it('refuses a migration to a host it does not have, at validation, with line and column', async () => {
    const platform = await openVspherePlatform(options(harness.configPath), deps(harness.sim));
    try {
      const experiment = parseScript('DC0_C0_H0:\n1 migrate DC0_C0_RP0_VM0 esx9\n', 'missing.txt');
      await assert.rejects(prepareRun(experiment, platform), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.toOneLine(), /^missing\.txt:2:26: unknown host 'esx9' \(the platform has DC0_/);
        return true;
      });
    } finally {
      await platform.close();
    }
  });

  it('refuses a sampling interval finer than the server refreshes', async () => {
    const platform = await openVspherePlatform(options(harness.configPath), deps(harness.sim));
    try {
      await assert.rejects(prepareRun(parseScript('DC0_C0_H0:\n0 end\n', 'i.txt'), platform, 5), /--interval 5: the vsphere platform samples at most every 20 s/);
    } finally {
      await platform.close();
    }
  });

  it('logs in again once when the session expires', async () => {
    const platform = await openVspherePlatform(options(harness.configPath), deps(harness.sim));
    const admin = await VimClient.connect(new URL(harness.sim.url), { ca: fs.readFileSync(harness.sim.caFile, 'utf8'), insecure: false }, { timeoutMs: 10_000, maxResponseMiB: 16 });
    try {
      await admin.login(harness.sim.username, harness.sim.password);
      const sessionManager = admin.content.sessionManager;
      const props = await admin.objectProperties(sessionManager, ['sessionList', 'currentSession']);
      const mine = child(props.get('currentSession'), 'key')!.text;
      const others = children(props.get('sessionList'), 'UserSession').map((s) => child(s, 'key')!.text).filter((key) => key !== mine);
      assert.ok(others.length >= 1, 'the platform has a session');
      await admin.call('TerminateSession', sessionManager, each('sessionId', others));
      const inventory = await platform.inventory();
      assert.equal(inventory.hosts.length, 4);
      const readings = await platform.sample();
      assert.ok(readings.some((r) => r.counter === 'cpu.usagemhz.average'));
      const now = await admin.objectProperties(sessionManager, ['sessionList']);
      const keys = children(now.get('sessionList'), 'UserSession').map((s) => child(s, 'key')!.text);
      assert.ok(others.every((key) => !keys.includes(key)), 'the old session is gone');
      assert.equal(keys.filter((key) => key !== mine).length, others.length, 'the platform logged in again, once');
    } finally {
      await admin.logout();
      await admin.close();
      await platform.close();
    }
  });

  it('runs a seed-format script: moves VMs, records the migrations, their events and a fault, samples counters', { skip: serverSkipReason() }, async (t) => {
    // One workload server stands for the VMs' servers and for the load balancer in front of them:
    // vcsim's VMs run nothing, so what the clients reach is the project's server, natively.
    const workload = await startWorkloadServer('vm-workload');
    t.after(() => workload.stop());
    const configPath = writeConfig(harness.sim, 'run.json', {
      // A light job (1 MB held 100 ms) keeps the shared CI cores free for the simulator.
      load: { url: workload.url, paths: { memory: '/memory?mb=1&ms=100' }, requestTimeoutSeconds: 30, maxRequestsPerClient: 5000 },
    });
    const before = await vmPlacement(harness.sim);
    const heldHost = before.get(HELD_VM)!.host;
    const elsewhere = ['DC0_C0_H0', 'DC0_C0_H1', 'DC0_C0_H2'].find((h) => h !== heldHost)!;
    // The placement line: VM0 on H0 (a setup migration if vcsim put it elsewhere), the held VM where it is.
    const placement = new Map<string, string[]>([['DC0_C0_H0', []], ['DC0_C0_H1', []], ['DC0_C0_H2', []], ['DC0_H0', []]]);
    placement.get('DC0_C0_H0')!.push('DC0_C0_RP0_VM0');
    placement.get(heldHost)!.push(HELD_VM);
    placement.get('DC0_H0')!.push('DC0_H0_VM0');
    const script = [
      [...placement].map(([host, vms]) => `${host}:${vms.join(',')}`).join(' '),
      '0    add-client memory 2',
      '0.5  migrate DC0_C0_RP0_VM0 DC0_C0_H2',
      `0    migrate ${HELD_VM} ${elsewhere}   # vcsim faults: MethodDisabled`,
      '0.2  migrate DC0_H0_VM0 DC0_C0_H1     # to another compute resource: its root pool',
      '20.5 end',
    ].join('\n');
    const experiment = parseScript(script, 'vsphere.txt');
    const platform = await openVspherePlatform(options(configPath, { placement: placementOf(experiment) }), deps(harness.sim));
    let outcome;
    const run = collector();
    try {
      const prepared = await prepareRun(experiment, platform);
      assert.equal(prepared.intervalSeconds, 20);
      outcome = await executeRun(prepared, run, { maxMigrationsPerHost: 4, signal: new AbortController().signal });
    } finally {
      await platform.close();
    }
    assert.equal(outcome.status, 'completed');
    assert.deepEqual(outcome.failedSetup, []);

    // Through the API: the VMs really moved, the held one did not.
    const afterRun = await vmPlacement(harness.sim);
    assert.equal(afterRun.get('DC0_C0_RP0_VM0')!.host, 'DC0_C0_H2');
    assert.equal(afterRun.get('DC0_H0_VM0')!.host, 'DC0_C0_H1');
    assert.equal(afterRun.get('DC0_H0_VM0')!.pool, afterRun.get('DC0_C0_RP0_VM0')!.pool, 'moved into the cluster\'s root pool');
    assert.notEqual(before.get('DC0_H0_VM0')!.pool, afterRun.get('DC0_H0_VM0')!.pool);
    assert.equal(afterRun.get(HELD_VM)!.host, heldHost);

    // The records.
    const script3 = run.migrations.filter((m) => m.kind === 'script');
    assert.equal(script3.length, 3);
    const byVm = new Map(script3.map((m) => [m.vm, m]));
    assert.equal(byVm.get('DC0_C0_RP0_VM0')!.status, 'succeeded');
    assert.equal(byVm.get('DC0_C0_RP0_VM0')!.source, 'DC0_C0_H0');
    assert.equal(byVm.get('DC0_H0_VM0')!.status, 'succeeded');
    const held = byVm.get(HELD_VM)!;
    assert.equal(held.status, 'failed');
    assert.match(held.reason, /RelocateVM_Task: MethodDisabled/);
    for (const m of run.migrations) {
      assert.ok(m.started_s >= m.requested_s && m.ended_s >= m.started_s, JSON.stringify(m));
      assert.ok(m.duration_ms >= 0 && m.duration_ms < 5000, JSON.stringify(m));
      assert.equal(m.downtime_ms, null);
      assert.equal(m.client_downtime_ms, null);
    }
    const setupNeeded = before.get('DC0_C0_RP0_VM0')!.host !== 'DC0_C0_H0';
    assert.equal(run.migrations.filter((m) => m.kind === 'setup').length, setupNeeded ? 1 : 0);
    assert.deepEqual(run.actions.map((a) => a.action), ['add-client', 'migrate', 'migrate', 'migrate', 'end']);
    assert.ok(run.requests.length > 10, `${run.requests.length} requests`);
    for (const r of run.requests) {
      assert.equal(r.status, 'ok', JSON.stringify(r));
      assert.equal(r.server, 'vm-workload', 'the workload server answered, with its name');
      assert.ok(r.processing_ms !== null && r.processing_ms >= 100, `the server held the buffer its 100 ms: ${JSON.stringify(r)}`);
    }

    // Each moved VM's record carries its task's times and the VmMigratedEvent the server logged.
    for (const m of run.migrations.filter((m) => m.status === 'succeeded')) {
      const details = (m.details as { vsphere: VsphereMigrationDetails } | undefined)?.vsphere;
      assert.ok(details, `details of ${JSON.stringify(m)}`);
      assert.match(details.task, /^task-\d+$/);
      const started = Date.parse(details.task_start_time!);
      const completed = Date.parse(details.task_complete_time!);
      assert.ok(started <= completed, JSON.stringify(details));
      const event = details.event;
      assert.ok(event, `${m.vm}'s VmMigratedEvent: ${JSON.stringify(details)}`);
      assert.equal(event.type, 'VmMigratedEvent');
      assert.equal(event.source_host, m.source);
      assert.equal(event.target_host, m.target);
      assert.ok(Date.parse(event.created_time) >= started, JSON.stringify(details));
      assert.match(event.message, new RegExp(`^Migration of virtual machine ${m.vm} from ${m.source}, \\S+ to ${m.target}, \\S+ completed$`));
    }
    assert.equal(held.details, undefined, 'vcsim refused the call: there was no task');

    // Counters: at 20 s and at the end, for every host, with the monitor's averaging of instances.
    const times = [...new Set(run.samples.map((s) => s.time_s))];
    assert.equal(times.length, 2, `sample times ${times.join(', ')}`);
    assert.ok(Math.abs(times[0]! - 20) < 1.5, `first sample at ${times[0]} s`);
    for (const host of ['DC0_C0_H0', 'DC0_C0_H1', 'DC0_C0_H2', 'DC0_H0']) {
      for (const counter of ['cpu.usagemhz.average', 'mem.consumed.average', 'mem.active.average', 'mem.shared.average', 'mem.swapused.average', 'net.usage.average', 'vm.count']) {
        const rows = run.samples.filter((s) => s.host === host && s.counter === counter);
        assert.equal(rows.length, 2, `${host} ${counter}`);
        assert.ok(rows.every((r) => Number.isFinite(r.value) && r.value >= 0), `${host} ${counter}: ${rows.map((r) => r.value).join(', ')}`);
      }
    }
    const lastTime = times[1]!;
    const count = (host: string): number => run.samples.find((s) => s.time_s === lastTime && s.host === host && s.counter === 'vm.count')!.value;
    for (const host of ['DC0_C0_H0', 'DC0_C0_H1', 'DC0_C0_H2', 'DC0_H0']) {
      assert.equal(count(host), [...afterRun.values()].filter((vm) => vm.host === host).length, `vm.count of ${host}`);
    }
    assert.ok(run.samples.some((s) => s.counter === 'cpu.usagemhz.average' && s.value > 0), 'vcsim serves non-zero CPU data');
  });

  it('reports counters per instance for the monitor to average, without the aggregate', async () => {
    const platform: VspherePlatform = await openVspherePlatform(options(harness.configPath), deps(harness.sim));
    try {
      const readings = await platform.sample();
      const net = readings.filter((r) => r.host === 'DC0_C0_H0' && r.counter === 'net.usage.average');
      assert.deepEqual(net.map((r) => r.instance), ['vmnic0'], 'vcsim has "" and vmnic0: the NIC only');
      assert.equal(net[0]!.unit, 'KBps');
      const cpu = readings.filter((r) => r.host === 'DC0_C0_H0' && r.counter === 'cpu.usagemhz.average');
      assert.deepEqual(cpu.map((r) => [r.instance, r.unit]), [['', 'MHz']]);
    } finally {
      await platform.close();
    }
    const aggregatePath = writeConfig(harness.sim, 'aggregate.json', { instances: 'aggregate' });
    const aggregate = await openVspherePlatform(options(aggregatePath), deps(harness.sim));
    try {
      const net = (await aggregate.sample()).filter((r) => r.host === 'DC0_C0_H0' && r.counter === 'net.usage.average');
      assert.deepEqual(net.map((r) => r.instance), ['']);
    } finally {
      await aggregate.close();
    }
  });
});
