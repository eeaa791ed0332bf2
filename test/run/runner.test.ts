import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Load } from '../../src/load/load.ts';
import type {
  CounterReading,
  Inventory,
  MigrationOrder,
  MigrationOutcome,
  Platform,
} from '../../src/platforms/platform.ts';
import type {
  ActionRecord,
  DecisionRecord,
  MigrationRecord,
  RecordSink,
  RequestRecord,
  SampleRecord,
} from '../../src/record/records.ts';
import { RunFailure } from '../../src/run/run-failure.ts';
import { MAX_RUN_SECONDS, runExperiment, type RunOutcome } from '../../src/run/runner.ts';
import { VirtualClock } from '../../src/run/virtual-clock.ts';
import type { ClientType } from '../../src/script/experiment.ts';
import { parseScript } from '../../src/script/parse.ts';

/** A VM of the fake platform: where it starts and how its migrations behave. */
interface FakeVm {
  host: string;
  /** Seconds a migration of this VM takes (default 10). */
  seconds?: number;
  /** The migration promise rejects with this message after `seconds`. */
  rejectWith?: string;
  /** The migration promise rejects with this message at once, without touching the clock. */
  rejectAtOnce?: string;
}

/** A load that only writes down what it was asked, and when. */
class FakeLoad implements Load {
  readonly calls: { at: number; call: string }[] = [];

  constructor(private readonly clock: VirtualClock) {}

  addClients(type: ClientType, count: number): void {
    this.calls.push({ at: this.clock.now(), call: `add ${type} ${count}` });
  }

  removeClients(type: ClientType, count: number): void {
    this.calls.push({ at: this.clock.now(), call: `remove ${type} ${count}` });
  }

  async stopAll(signal?: AbortSignal): Promise<void> {
    this.calls.push({ at: this.clock.now(), call: signal?.aborted ? 'stopAll aborted' : 'stopAll' });
  }
}

/**
 * A platform on a real VirtualClock: each migration takes its VM's fixed time and settles
 * the way the sim's PreCopyMigration does (a clock callback that requests a yield, then
 * resolves); an abort ends it at once as `interrupted`. `sample()` gives one reading per host.
 */
class FakePlatform implements Platform {
  readonly name = 'fake';
  readonly clock = new VirtualClock();
  readonly refreshSeconds = 20;
  readonly minIntervalSeconds = 1;
  readonly migrateCalls: { order: MigrationOrder; at: number }[] = [];
  readonly sampleTimes: number[] = [];
  readonly loads: FakeLoad[] = [];
  /** `sample()` rejects with this from that time on. */
  sampleFailsFrom?: { atS: number; message: string };
  private readonly where = new Map<string, string>();

  constructor(
    private readonly hosts: string[],
    private readonly vms: Record<string, FakeVm>,
  ) {
    for (const [name, vm] of Object.entries(vms)) this.where.set(name, vm.host);
  }

  async inventory(): Promise<Inventory> {
    return { hosts: [...this.hosts], vms: [...this.where].map(([name, host]) => ({ name, host })) };
  }

  migrate(order: MigrationOrder, signal: AbortSignal): Promise<MigrationOutcome> {
    const startedS = this.clock.now();
    this.migrateCalls.push({ order, at: startedS });
    const vm = this.vms[order.vm];
    if (vm?.rejectAtOnce !== undefined) return Promise.reject(new Error(vm.rejectAtOnce));
    const outcome = (status: MigrationOutcome['status'], reason: string): MigrationOutcome => ({
      started_s: startedS, ended_s: this.clock.now(), client_downtime_ms: null, downtime_ms: 1, bytes: 100, passes: 1, status, reason,
    });
    if (vm === undefined || this.where.get(order.vm) !== order.source) {
      return Promise.resolve(outcome('failed', `fake: ${order.vm} is not on ${order.source}`));
    }
    return new Promise((resolve, reject) => {
      const settle = (done: () => void): void => {
        timer.cancelled = true;
        signal.removeEventListener('abort', onAbort);
        this.clock.requestYield();
        done();
      };
      const onAbort = (): void => settle(() => resolve(outcome('interrupted', 'the run was interrupted')));
      const timer = this.clock.at(startedS + (vm.seconds ?? 10), () =>
        settle(() => {
          if (vm.rejectWith !== undefined) {
            reject(new Error(vm.rejectWith));
            return;
          }
          this.where.set(order.vm, order.target);
          resolve(outcome('succeeded', ''));
        }),
      );
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async sample(): Promise<CounterReading[]> {
    this.sampleTimes.push(this.clock.now());
    if (this.sampleFailsFrom && this.clock.now() >= this.sampleFailsFrom.atS) throw new Error(this.sampleFailsFrom.message);
    return this.hosts.map((host) => ({
      host,
      counter: 'vm.count',
      instance: '',
      value: [...this.where.values()].filter((h) => h === host).length,
      unit: 'number',
    }));
  }

  createLoad(_servers: string[], _onRequest: (record: RequestRecord) => void): Load {
    const load = new FakeLoad(this.clock);
    this.loads.push(load);
    return load;
  }

  describe(): Record<string, unknown> {
    return { name: this.name };
  }

  async close(): Promise<void> {}
}

class Collector implements RecordSink {
  readonly samples: SampleRecord[] = [];
  readonly actions: ActionRecord[] = [];
  readonly migrations: MigrationRecord[] = [];
  readonly requests: RequestRecord[] = [];
  readonly decisions: DecisionRecord[] = [];

  sample(record: SampleRecord): void {
    this.samples.push(record);
  }

  action(record: ActionRecord): void {
    this.actions.push(record);
  }

  migration(record: MigrationRecord): void {
    this.migrations.push(record);
  }

  request(record: RequestRecord): void {
    this.requests.push(record);
  }

  decision(record: DecisionRecord): void {
    this.decisions.push(record);
  }

  migrationOf(vm: string, kind: MigrationRecord['kind'] = 'script'): MigrationRecord {
    const found = this.migrations.filter((m) => m.vm === vm && m.kind === kind);
    assert.equal(found.length, 1, `expected one ${kind} migration of ${vm}, got ${JSON.stringify(this.migrations)}`);
    return found[0] as MigrationRecord;
  }
}

interface RunResult {
  outcome: RunOutcome;
  records: Collector;
  load: FakeLoad;
}

/** Runs `lines` (placement line first) on `platform` under `clock.drive`. */
async function run(
  platform: FakePlatform,
  lines: string[],
  options: { interval?: number; maxPerHost?: number; signal?: AbortSignal; failure?: RunFailure } = {},
): Promise<RunResult> {
  const experiment = parseScript(lines.join('\n'), 'test.txt');
  const inventory = await platform.inventory();
  const load = platform.createLoad([], () => {}) as FakeLoad;
  const records = new Collector();
  const outcome = await platform.clock.drive(
    runExperiment(experiment, platform, inventory, load, records, {
      // A long interval by default, so that only the last sample is taken.
      intervalSeconds: options.interval ?? 1000,
      maxMigrationsPerHost: options.maxPerHost ?? 4,
      signal: options.signal ?? new AbortController().signal,
      failure: options.failure ?? new RunFailure(),
    }),
  );
  return { outcome, records, load };
}

const timesOf = (records: { fired_s: number }[]): number[] => records.map((r) => r.fired_s);

describe('runExperiment on a virtual clock', () => {
  it('fires each action its delay after the previous one fired, recording scheduled and fired times', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1' } });
    const { outcome, records, load } = await run(platform, [
      'h1:vm1 h2:',
      '0 add-client cpu 1',
      '2.5 add-client memory 2',
      '4 remove-client cpu 1',
      '1 end',
    ]);
    assert.deepEqual(records.actions, [
      { scheduled_s: 0, fired_s: 0, action: 'add-client', args: 'cpu 1', postponed_ms: 0, status: 'fired', line: 2 },
      { scheduled_s: 2.5, fired_s: 2.5, action: 'add-client', args: 'memory 2', postponed_ms: 0, status: 'fired', line: 3 },
      { scheduled_s: 6.5, fired_s: 6.5, action: 'remove-client', args: 'cpu 1', postponed_ms: 0, status: 'fired', line: 4 },
      { scheduled_s: 7.5, fired_s: 7.5, action: 'end', args: '', postponed_ms: 0, status: 'fired', line: 5 },
    ]);
    assert.deepEqual(load.calls, [
      { at: 0, call: 'add cpu 1' },
      { at: 2.5, call: 'add memory 2' },
      { at: 6.5, call: 'remove cpu 1' },
      { at: 7.5, call: 'stopAll' },
    ]);
    assert.deepEqual(outcome, { status: 'completed', failedSetup: [], endedS: 7.5 });
  });

  it('postpones a migrate touching a busy host until a slot frees, and times the next action from when it fired', async () => {
    const platform = new FakePlatform(['h1', 'h2', 'h3'], { vm1: { host: 'h1', seconds: 10 }, vm2: { host: 'h1', seconds: 4 } });
    const { outcome, records, load } = await run(
      platform,
      ['h1:vm1,vm2 h2: h3:', '0 migrate vm1 h2', '2 migrate vm2 h3', '5 add-client cpu 1', '0 end'],
      { maxPerHost: 1 },
    );
    assert.deepEqual(
      records.actions.map(({ scheduled_s, fired_s, action, postponed_ms }) => ({ scheduled_s, fired_s, action, postponed_ms })),
      [
        { scheduled_s: 0, fired_s: 0, action: 'migrate', postponed_ms: 0 },
        { scheduled_s: 2, fired_s: 10, action: 'migrate', postponed_ms: 8000 },
        { scheduled_s: 15, fired_s: 15, action: 'add-client', postponed_ms: 0 },
        { scheduled_s: 15, fired_s: 15, action: 'end', postponed_ms: 0 },
      ],
    );
    const first = records.migrationOf('vm1');
    const second = records.migrationOf('vm2');
    assert.equal(first.ended_s, 10);
    assert.deepEqual([second.requested_s, second.started_s, second.ended_s, second.duration_ms], [10, 10, 14, 4000]);
    assert.deepEqual(load.calls[0], { at: 15, call: 'add cpu 1' });
    assert.equal(outcome.endedS, 15);
  });

  it('does not postpone the same migrate when the limit allows two migrations per host', async () => {
    const platform = new FakePlatform(['h1', 'h2', 'h3'], { vm1: { host: 'h1', seconds: 10 }, vm2: { host: 'h1', seconds: 4 } });
    const { records } = await run(
      platform,
      ['h1:vm1,vm2 h2: h3:', '0 migrate vm1 h2', '2 migrate vm2 h3', '5 add-client cpu 1', '0 end'],
      { maxPerHost: 2 },
    );
    assert.deepEqual(timesOf(records.actions), [0, 2, 7, 7]);
    assert.deepEqual(records.actions.map((a) => a.postponed_ms), [0, 0, 0, 0]);
    assert.equal(records.migrationOf('vm2').started_s, 2);
  });

  const busyHostCases = [
    { name: 'the busy host is the source of the new migration (target of the running one)', line: '1 migrate vm3 h3', vm: 'vm3' },
    { name: 'the busy host is the target of the new migration (source of the running one)', line: '1 migrate vm4 h1', vm: 'vm4' },
  ];
  for (const { name, line, vm } of busyHostCases) {
    it(`counts a host as source or target: ${name}`, async () => {
      const platform = new FakePlatform(['h1', 'h2', 'h3', 'h4'], {
        vm1: { host: 'h1', seconds: 10 },
        vm3: { host: 'h2', seconds: 1 },
        vm4: { host: 'h4', seconds: 1 },
      });
      const { records } = await run(platform, ['h1:vm1 h2:vm3 h3: h4:vm4', '0 migrate vm1 h2', line], { maxPerHost: 1 });
      const waited = records.actions[1] as ActionRecord;
      assert.deepEqual([waited.scheduled_s, waited.fired_s, waited.postponed_ms], [1, 10, 9000]);
      assert.equal(records.migrationOf(vm).started_s, 10);
    });
  }

  it('runs migrations on disjoint hosts concurrently under a limit of one', async () => {
    const platform = new FakePlatform(['h1', 'h2', 'h3', 'h4'], {
      vm1: { host: 'h1', seconds: 10 },
      vm5: { host: 'h3', seconds: 5 },
    });
    const { records } = await run(platform, ['h1:vm1 h2: h3:vm5 h4:', '0 migrate vm1 h2', '1 migrate vm5 h4'], { maxPerHost: 1 });
    assert.deepEqual(records.actions.map((a) => a.postponed_ms), [0, 0]);
    const a = records.migrationOf('vm1');
    const b = records.migrationOf('vm5');
    assert.deepEqual([a.started_s, a.ended_s, b.started_s, b.ended_s], [0, 10, 1, 6]);
    assert.ok(a.started_s < b.ended_s && b.started_s < a.ended_s, 'the two migrations overlap');
  });

  it('waits for a VM that is still moving before migrating it again, from where it landed', async () => {
    const platform = new FakePlatform(['h1', 'h2', 'h3'], { vm1: { host: 'h1', seconds: 10 } });
    const { records } = await run(platform, ['h1:vm1 h2: h3:', '0 migrate vm1 h2', '1 migrate vm1 h3']);
    assert.deepEqual(records.actions.map((a) => [a.fired_s, a.postponed_ms]), [[0, 0], [10, 9000]]);
    assert.deepEqual(platform.migrateCalls[1], { order: { vm: 'vm1', source: 'h2', target: 'h3' }, at: 10 });
    assert.equal(records.migrations.filter((m) => m.status === 'succeeded').length, 2);
  });

  it('moves VMs to the placement line first, as setup migrations within the limit, then starts the timeline', async () => {
    const platform = new FakePlatform(['h1', 'h2'], {
      vm1: { host: 'h2', seconds: 7 },
      vm2: { host: 'h2', seconds: 3 },
    });
    const { records, load } = await run(platform, ['h1:vm1,vm2 h2:', '0 add-client cpu 1', '3 migrate vm1 h2'], {
      maxPerHost: 1,
    });
    const setup1 = records.migrationOf('vm1', 'setup');
    const setup2 = records.migrationOf('vm2', 'setup');
    assert.deepEqual([setup1.source, setup1.target, setup1.status, setup1.started_s, setup1.ended_s], ['h2', 'h1', 'succeeded', 0, 7]);
    assert.deepEqual([setup2.source, setup2.target, setup2.started_s, setup2.ended_s], ['h2', 'h1', 7, 10]);
    const [first, second] = records.actions as [ActionRecord, ActionRecord];
    assert.ok(first.scheduled_s >= setup2.ended_s, 'the first action is scheduled after setup ended');
    assert.deepEqual([first.scheduled_s, first.fired_s, second.scheduled_s], [10, 10, 13]);
    assert.deepEqual(load.calls[0], { at: 10, call: 'add cpu 1' });
    const scripted = records.migrationOf('vm1', 'script');
    assert.deepEqual([scripted.source, scripted.target], ['h1', 'h2']);
  });

  it('does not move a VM that is already where the placement line says', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1' } });
    const { records } = await run(platform, ['h1:vm1 h2:', '2 add-client cpu 1']);
    assert.deepEqual(records.migrations, []);
    assert.deepEqual(timesOf(records.actions), [2]);
  });

  it('skips the timeline and reports the VM when a setup migration fails', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h2', seconds: 3, rejectWith: 'no route to h1' } });
    const { outcome, records, load } = await run(platform, ['h1:vm1 h2:', '0 add-client cpu 1', '5 end']);
    assert.deepEqual(outcome.failedSetup, ['vm1']);
    assert.deepEqual(records.actions, []);
    assert.deepEqual(load.calls.map((c) => c.call), ['stopAll']);
    const setup = records.migrationOf('vm1', 'setup');
    assert.deepEqual([setup.status, setup.reason], ['failed', 'no route to h1']);
  });

  it('an interrupt during setup ends the run as interrupted, without starting the timeline', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h2', seconds: 10 } });
    const interrupt = new AbortController();
    platform.clock.at(3, () => {
      interrupt.abort();
      platform.clock.requestYield();
    });
    const { outcome, records, load } = await run(platform, ['h1:vm1 h2:', '0 add-client cpu 1', '5 end'], {
      signal: interrupt.signal,
    });
    assert.deepEqual(outcome, { status: 'interrupted', failedSetup: ['vm1'], endedS: 3 });
    assert.deepEqual(records.actions, []);
    assert.deepEqual(load.calls, [{ at: 3, call: 'stopAll aborted' }]);
    assert.equal(records.migrationOf('vm1', 'setup').status, 'interrupted');
  });

  it('records a migrate to the host the VM is already on as a failed migration with a reason, and goes on', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1' } });
    const { outcome, records, load } = await run(platform, ['h1:vm1 h2:', '0 migrate vm1 h1', '1 add-client cpu 1']);
    const failed = records.migrationOf('vm1');
    assert.deepEqual([failed.source, failed.target, failed.status], ['h1', 'h1', 'failed']);
    assert.match(failed.reason, /h1/);
    assert.deepEqual(platform.migrateCalls, [], 'the platform is not asked to move a VM onto its own host');
    assert.deepEqual(load.calls[0], { at: 1, call: 'add cpu 1' });
    assert.equal(outcome.status, 'completed');
  });

  it('at end stops the load, waits for a running migration, records it and takes a last sample at the end time', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1', seconds: 30 } });
    const { outcome, records, load } = await run(
      platform,
      ['h1:vm1 h2:', '0 add-client cpu 2', '0 migrate vm1 h2', '5 end'],
      { interval: 20 },
    );
    assert.deepEqual(load.calls, [
      { at: 0, call: 'add cpu 2' },
      { at: 5, call: 'stopAll' },
    ]);
    const migration = records.migrationOf('vm1');
    assert.deepEqual([migration.status, migration.ended_s], ['succeeded', 30]);
    assert.equal(outcome.status, 'completed');
    assert.ok(outcome.endedS >= migration.ended_s, `endedS ${outcome.endedS} >= ${migration.ended_s}`);
    assert.deepEqual(platform.sampleTimes, [20, outcome.endedS]);
    assert.deepEqual(records.samples.filter((s) => s.host === 'h2').map((s) => [s.time_s, s.value]), [[20, 0], [30, 1]]);
  });

  it('ends after the last action when the script has no end', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1' } });
    const { outcome, load, records } = await run(platform, ['h1:vm1 h2:', '0 add-client cpu 1', '3 remove-client cpu 1']);
    assert.deepEqual(load.calls.at(-1), { at: 3, call: 'stopAll' });
    assert.equal(outcome.endedS, 3);
    assert.deepEqual(records.samples.map((s) => s.time_s), [3, 3]);
  });

  const rejectCases: { variant: string; vm: FakeVm; endedS: number }[] = [
    { variant: 'rejects later', vm: { host: 'h1', seconds: 2, rejectWith: 'h2 unreachable' }, endedS: 2 },
    { variant: 'rejects at once', vm: { host: 'h1', rejectAtOnce: 'h2 unreachable' }, endedS: 0 },
  ];
  for (const { variant, vm, endedS } of rejectCases) {
    it(`records a platform migrate that ${variant} as a failed migration and goes on`, async () => {
      const platform = new FakePlatform(['h1', 'h2', 'h3'], { vm1: vm });
      const { outcome, records, load } = await run(platform, [
        'h1:vm1 h2: h3:',
        '0 migrate vm1 h2',
        '5 add-client cpu 1',
        '1 end',
      ]);
      const failed = records.migrationOf('vm1');
      assert.deepEqual([failed.status, failed.reason, failed.requested_s], ['failed', 'h2 unreachable', 0]);
      assert.equal(failed.ended_s, endedS);
      assert.deepEqual(timesOf(records.actions), [0, 5, 6]);
      assert.deepEqual(load.calls[0], { at: 5, call: 'add cpu 1' });
      assert.equal(outcome.status, 'completed');
    });
  }

  // The end action on a sampling tick, reached before or after the monitor's own wake-up at
  // that time (16 + 4: the runner's timer is set after the monitor's), and between ticks.
  const monitorCases = [
    { script: ['0 add-client cpu 1', '20 end'], expected: [5, 10, 15, 20] },
    { script: ['0 add-client cpu 1', '16 add-client cpu 1', '4 end'], expected: [5, 10, 15, 20] },
    { script: ['0 add-client cpu 1', '17 end'], expected: [5, 10, 15, 17] },
  ];
  for (const { script, expected } of monitorCases) {
    it(`samples every interval and once more at the end, without a duplicate (${script.join(', ')})`, async () => {
      const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1' } });
      const { records } = await run(platform, ['h1:vm1 h2:', ...script], { interval: 5 });
      assert.deepEqual(platform.sampleTimes, expected);
      for (const host of ['h1', 'h2']) {
        assert.deepEqual(records.samples.filter((s) => s.host === host).map((s) => s.time_s), expected, host);
      }
      assert.deepEqual(records.samples.filter((s) => s.host === 'h1').map((s) => s.value), [1, 1, 1, 1]);
    });
  }

  it('an interrupt during a postponement records that action as interrupted and fires nothing after it', async () => {
    const platform = new FakePlatform(['h1', 'h2', 'h3'], { vm1: { host: 'h1', seconds: 20 }, vm2: { host: 'h1', seconds: 1 } });
    const interrupt = new AbortController();
    platform.clock.at(12, () => {
      interrupt.abort();
      platform.clock.requestYield();
    });
    const { outcome, records, load } = await run(
      platform,
      ['h1:vm1,vm2 h2: h3:', '0 migrate vm1 h2', '2 migrate vm2 h3', '1 add-client cpu 1', '1 end'],
      { maxPerHost: 1, signal: interrupt.signal },
    );
    assert.equal(records.actions.length, 2);
    assert.deepEqual(records.actions[1], {
      scheduled_s: 2, fired_s: 12, action: 'migrate', args: 'vm2 h3', postponed_ms: 10000, status: 'interrupted', line: 3,
    });
    assert.deepEqual(platform.migrateCalls.map((c) => c.order.vm), ['vm1'], 'the interrupted migrate never starts');
    assert.deepEqual(load.calls, [{ at: 12, call: 'stopAll aborted' }]);
    assert.deepEqual([records.migrationOf('vm1').status, records.migrationOf('vm1').ended_s], ['interrupted', 12]);
    assert.deepEqual(outcome, { status: 'interrupted', failedSetup: [], endedS: 12 });
    assert.deepEqual(platform.sampleTimes, [12]);
  });

  it('an interrupt while waiting for the next action ends the run at once, firing nothing more', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1' } });
    const interrupt = new AbortController();
    platform.clock.at(3, () => {
      interrupt.abort();
      platform.clock.requestYield();
    });
    const { outcome, records, load } = await run(
      platform,
      ['h1:vm1 h2:', '0 add-client cpu 1', '10 add-client cpu 1', '1 end'],
      { signal: interrupt.signal },
    );
    assert.deepEqual(timesOf(records.actions), [0]);
    assert.deepEqual(load.calls, [
      { at: 0, call: 'add cpu 1' },
      { at: 3, call: 'stopAll aborted' },
    ]);
    assert.deepEqual(outcome, { status: 'interrupted', failedSetup: [], endedS: 3 });
  });

  it('a sample that fails ends the run as failed, with the error as its reason, like an interrupt otherwise', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1', seconds: 100 } });
    platform.sampleFailsFrom = { atS: 30, message: 'the lab is gone' };
    const { outcome, records, load } = await run(platform, ['h1:vm1 h2:', '0 add-client cpu 1', '5 migrate vm1 h2', '200 end'], { interval: 10 });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.failure, 'sampling fake failed: the lab is gone');
    assert.equal(outcome.endedS, 30);
    assert.deepEqual(platform.sampleTimes, [10, 20, 30]);
    assert.equal(records.migrationOf('vm1', 'script').status, 'interrupted');
    assert.deepEqual(records.actions.map((a) => a.action), ['add-client', 'migrate']);
    assert.equal(load.calls.at(-1)?.call, 'stopAll aborted');
  });

  it('a failure reported by a record sink stops the run at that point, as failed', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1' } });
    const failure = new RunFailure();
    platform.clock.at(42, () => {
      failure.fail('cannot write samples.csv: ENOSPC');
      platform.clock.requestYield();
    });
    const { outcome, records } = await run(platform, ['h1:vm1 h2:', '0 add-client cpu 1', '100 migrate vm1 h2', '100 end'], { failure });
    assert.deepEqual(outcome, { status: 'failed', failure: 'cannot write samples.csv: ENOSPC', failedSetup: [], endedS: 42 });
    assert.deepEqual(records.actions.map((a) => a.action), ['add-client']);
    assert.equal(records.migrations.length, 0);
    failure.fail('a later error');
    assert.equal(failure.reason, 'cannot write samples.csv: ENOSPC');
  });

  it('a run that would never end (a migration of 10^9 s) fails once it passes the script limit plus a day', async () => {
    const platform = new FakePlatform(['h1', 'h2'], { vm1: { host: 'h1', seconds: 1e9 } });
    const { outcome, records } = await run(platform, ['h1:vm1 h2:', '0 migrate vm1 h2', '10 end'], { interval: 100_000 });
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.failure ?? '', /still going after 691200 s/);
    assert.equal(outcome.endedS, MAX_RUN_SECONDS);
    assert.equal(records.migrationOf('vm1', 'script').status, 'interrupted');
  });
});
