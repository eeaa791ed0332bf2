import { COUNTERS } from '../monitor/counters.ts';
import type { DecisionRecord, MigrationKind, MigrationRecord, SampleRecord } from '../record/records.ts';
import type { Clock } from '../run/clock.ts';
import type { PolicyLevel } from '../script/experiment.ts';
import { balancePriority, bestMove, describeLoads, spreadOf, vmShareMHz, withMove, type HostLoad } from './balance.ts';
import type { PolicyConfig } from './policy-config.ts';

/** What the policy needs of the runner's migration dispatcher: its moves go through the same slots and records as the script's. */
export interface MoveDispatcher {
  hostOfVm(vm: string): string | undefined;
  canStart(vm: string, target: string): boolean;
  start(vm: string, target: string, kind: MigrationKind): void;
  closeTarget(host: string, reason: string): void;
  reopenTarget(host: string): void;
  acceptsVms(host: string): boolean;
  isBusy(host: string): boolean;
  nextEnd(): Promise<void>;
}

export interface PolicyContext {
  clock: Clock;
  dispatcher: MoveDispatcher;
  record: (decision: DecisionRecord) => void;
  /** The placement line's hosts and VMs: the testbed the policy places VMs in. */
  hosts: readonly string[];
  vms: readonly string[];
  capacityMHz: Readonly<Record<string, number>>;
  /** The monitor's interval: a sample covers the interval before its time. */
  intervalSeconds: number;
  config: PolicyConfig;
}

interface CpuSample {
  timeS: number;
  mhz: number;
}

/**
 * DRS and maintenance mode, on any platform: reads the monitor's CPU samples and the
 * migrations' records, and asks the dispatcher for moves. Every decision, including each
 * decision to do nothing, is recorded as it is made.
 */
export class PlacementPolicy {
  private drsLevel: PolicyLevel | null = null;
  private drsCycles: AbortController | undefined;
  private readonly maintenance = new Set<string>();
  private readonly cpu = new Map<string, CpuSample[]>();
  /** When a migration from or to each host last ended, and when each VM last moved. */
  private readonly hostSettledS = new Map<string, number>();
  private readonly vmMovedS = new Map<string, number>();
  /** A VM whose evacuation failed is tried again after the retry time. */
  private readonly vmRetryS = new Map<string, number>();
  private readonly stopping = new AbortController();
  private readonly stopped = new Promise<void>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  private readonly loops = new Set<Promise<void>>();

  constructor(private readonly context: PolicyContext) {}

  observeSample(record: SampleRecord): void {
    if (record.counter !== COUNTERS.cpuUsage.name) return;
    const samples = this.cpu.get(record.host) ?? [];
    samples.push({ timeS: record.time_s, mhz: record.value });
    // A cycle's worth is all any decision reads.
    const keepFromS = record.time_s - this.context.config.drs.cycleSeconds - this.context.intervalSeconds;
    while ((samples[0]?.timeS ?? Number.POSITIVE_INFINITY) < keepFromS) samples.shift();
    this.cpu.set(record.host, samples);
  }

  observeMigration(record: MigrationRecord): void {
    for (const host of [record.source, record.target]) this.hostSettledS.set(host, record.ended_s);
    if (record.status === 'succeeded') this.vmMovedS.set(record.vm, record.ended_s);
    if (record.kind === 'maintenance' && record.status !== 'succeeded') {
      this.vmRetryS.set(record.vm, record.ended_s + this.context.config.maintenance.retrySeconds);
    }
  }

  /** `drs LEVEL` / `drs off`: a first cycle now, then one every cycle. */
  setDrs(level: PolicyLevel | null): void {
    this.drsCycles?.abort();
    this.drsLevel = level;
    if (level === null) {
      this.drsCycles = undefined;
      return;
    }
    const cycles = new AbortController();
    this.drsCycles = cycles;
    this.track(this.runDrs(AbortSignal.any([cycles.signal, this.stopping.signal])));
  }

  /** `maintenance enter HOST`: no VM may go there from now on, and its VMs leave. */
  enterMaintenance(host: string): void {
    if (this.maintenance.has(host)) return;
    this.maintenance.add(host);
    this.context.dispatcher.closeTarget(host, `host ${host} is in maintenance`);
    this.track(this.evacuate(host));
  }

  /** `maintenance exit HOST`: the host takes VMs again (DRS may then use it). */
  exitMaintenance(host: string): void {
    if (!this.maintenance.delete(host)) return;
    this.context.dispatcher.reopenTarget(host);
    this.decide({ policy: 'maintenance', outcome: 'done', source: host, reason: `host ${host} is out of maintenance and takes VMs again` });
  }

  /** No decision after this; resolves when the policy's loops have returned. */
  async stop(): Promise<void> {
    this.stopping.abort();
    while (this.loops.size > 0) await Promise.all(this.loops);
  }

  private track(loop: Promise<void>): void {
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
  }

  private async runDrs(signal: AbortSignal): Promise<void> {
    const { clock, config } = this.context;
    while (!signal.aborted) {
      this.drsCycle();
      await clock.sleepUntil(clock.now() + config.drs.cycleSeconds, signal);
    }
  }

  private drsCycle(): void {
    const level = this.drsLevel;
    if (level === null) return;
    const { config, dispatcher } = this.context;
    const hosts = this.context.hosts.filter((host) => !this.maintenance.has(host));
    const latest = this.latestLoads();
    const decide = (fields: Partial<DecisionRecord> & Pick<DecisionRecord, 'outcome' | 'reason'>): void =>
      this.decide({ policy: 'drs', loads: describeLoads(latest), spread: latest.length > 0 ? spreadOf(latest) : null, ...fields });
    if (hosts.length < 2) return decide({ outcome: 'none', reason: 'fewer than two hosts out of maintenance: nothing to balance' });
    const busy = hosts.find((host) => dispatcher.isBusy(host));
    if (busy !== undefined) return decide({ outcome: 'none', reason: `a migration of ${busy} is running: its load is not yet what it will be` });
    const loads: HostLoad[] = [];
    for (const host of hosts) {
      const load = this.settledLoad(host);
      if (load === undefined) {
        const since = this.hostSettledS.has(host) ? ' since its last migration ended' : '';
        return decide({ outcome: 'none', reason: `no sample of ${host}${since} yet` });
      }
      loads.push(load);
    }
    const seen = { loads: describeLoads(loads), spread: spreadOf(loads) };
    const priority = balancePriority(seen.spread, loads.length);
    if (level === 1) return decide({ ...seen, outcome: 'none', reason: 'level 1 applies mandatory moves only' });
    if (priority > level) {
      const why = priority === 6 ? 'the hosts are balanced' : `balancing would be priority ${priority}, level ${level} applies up to ${level}`;
      return decide({ ...seen, outcome: 'none', reason: why });
    }
    const nowS = this.context.clock.now();
    const movable = (vm: string, target: string): boolean =>
      nowS - (this.vmMovedS.get(vm) ?? Number.NEGATIVE_INFINITY) >= config.drs.holdDownSeconds && dispatcher.canStart(vm, target);
    const acceptsVms = (host: string): boolean => dispatcher.acceptsVms(host);
    let state = loads;
    for (let moves = 0; moves < config.drs.maxMovesPerCycle; moves++) {
      const move = bestMove(state, { minGain: config.drs.minSpreadGain, movable, acceptsVms });
      if (move === undefined) {
        if (moves > 0) return;
        const waiting = bestMove(state, { minGain: config.drs.minSpreadGain, movable: () => true, acceptsVms });
        const why = waiting
          ? `priority ${priority}, but the VMs whose move would help wait (moved less than ${config.drs.holdDownSeconds} s ago, or no free slot)`
          : `priority ${priority}, but no move of a whole VM cuts the spread by ${config.drs.minSpreadGain} or more`;
        return decide({ ...seen, outcome: 'none', reason: why });
      }
      decide({
        loads: describeLoads(state), spread: move.spreadBefore, outcome: 'move', vm: move.vm, source: move.source, target: move.target,
        reason: `priority ${priority} at level ${level}: the spread goes from ${move.spreadBefore.toFixed(3)} to ${move.spreadAfter.toFixed(3)}`,
      });
      dispatcher.start(move.vm, move.target, 'drs');
      state = withMove(state, move.vm, move.source, move.target);
      if (balancePriority(spreadOf(state), state.length) > level) return;
    }
  }

  /** Moves the host's VMs away as slots free, until it is empty or out of maintenance. */
  private async evacuate(host: string): Promise<void> {
    const { clock, dispatcher } = this.context;
    const signal = this.stopping.signal;
    while (!signal.aborted && this.maintenance.has(host)) {
      const staying = this.context.vms.filter((vm) => dispatcher.hostOfVm(vm) === host);
      if (staying.length === 0 && !dispatcher.isBusy(host)) {
        this.decide({ policy: 'maintenance', outcome: 'done', source: host, reason: `host ${host} is empty: in maintenance` });
        return;
      }
      const nowS = clock.now();
      const added = new Map<string, number>();
      let retryAtS = Number.POSITIVE_INFINITY;
      for (const vm of staying) {
        const retryS = this.vmRetryS.get(vm) ?? 0;
        if (retryS > nowS) {
          retryAtS = Math.min(retryAtS, retryS);
          continue;
        }
        const target = this.evacuationTarget(host, added);
        if (target === undefined) {
          this.decide({ policy: 'maintenance', outcome: 'failed', vm, source: host, reason: `nowhere to put ${vm}: every other host is in maintenance` });
          retryAtS = Math.min(retryAtS, nowS + this.context.config.maintenance.retrySeconds);
          break;
        }
        if (!dispatcher.canStart(vm, target.host)) continue;
        this.decide({ policy: 'maintenance', outcome: 'move', vm, source: host, target: target.host, reason: `evacuating ${host} to the least loaded host that takes VMs` });
        dispatcher.start(vm, target.host, 'maintenance');
        added.set(target.host, (added.get(target.host) ?? 0) + target.shareMHz);
      }
      const retrying = retryAtS < Number.POSITIVE_INFINITY;
      if (retrying && !dispatcher.isBusy(host)) await clock.sleepUntil(retryAtS, signal);
      else await Promise.race([dispatcher.nextEnd(), this.stopped, ...(retrying ? [clock.sleepUntil(retryAtS, signal)] : [])]);
    }
  }

  /** The least loaded host that takes VMs, counting what this round already sends there. */
  private evacuationTarget(from: string, added: ReadonlyMap<string, number>): { host: string; shareMHz: number } | undefined {
    const loads = this.latestLoads();
    const source = loads.find((load) => load.host === from);
    const shareMHz = source ? vmShareMHz(source) : 0;
    let best: { host: string; use: number } | undefined;
    for (const load of loads) {
      if (load.host === from || this.maintenance.has(load.host) || !this.context.dispatcher.acceptsVms(load.host)) continue;
      const use = (load.cpuMHz + (added.get(load.host) ?? 0)) / load.capacityMHz;
      if (best === undefined || use < best.use) best = { host: load.host, use };
    }
    return best && { host: best.host, shareMHz };
  }

  /** Each host's CPU over the samples that began after its last migration ended (one cycle back at most). */
  private settledLoad(host: string): HostLoad | undefined {
    const { clock, config, intervalSeconds } = this.context;
    const fromS = Math.max(this.hostSettledS.get(host) ?? Number.NEGATIVE_INFINITY, clock.now() - config.drs.cycleSeconds - intervalSeconds);
    const samples = (this.cpu.get(host) ?? []).filter((sample) => sample.timeS - intervalSeconds >= fromS - 1e-9);
    if (samples.length === 0) return undefined;
    return this.hostLoad(host, samples.reduce((sum, sample) => sum + sample.mhz, 0) / samples.length);
  }

  /** Each host's last sample, whatever moved since: what maintenance places by and what a decision shows when it cannot balance. */
  private latestLoads(): HostLoad[] {
    return this.context.hosts.flatMap((host) => {
      const last = this.cpu.get(host)?.at(-1);
      return last === undefined ? [] : [this.hostLoad(host, last.mhz)];
    });
  }

  private hostLoad(host: string, cpuMHz: number): HostLoad {
    const vms = this.context.vms.filter((vm) => this.context.dispatcher.hostOfVm(vm) === host);
    const capacityMHz = this.context.capacityMHz[host];
    if (capacityMHz === undefined) throw new Error(`no CPU capacity for host ${host}: prepareRun gives one for every host of the placement line`);
    return { host, cpuMHz, capacityMHz, vms };
  }

  private decide(fields: Partial<DecisionRecord> & Pick<DecisionRecord, 'policy' | 'outcome' | 'reason'>): void {
    this.context.record({
      time_s: this.context.clock.now(), level: this.drsLevel, loads: describeLoads(this.latestLoads()), spread: null, vm: '', source: '', target: '', ...fields,
    });
  }
}
