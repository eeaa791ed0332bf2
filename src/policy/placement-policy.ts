import type { HostPower } from '../platforms/platform.ts';
import type { DecisionRecord, MigrationKind, MigrationRecord, SampleRecord } from '../record/records.ts';
import type { Clock } from '../run/clock.ts';
import type { PolicyLevel } from '../script/experiment.ts';
import { balancePriority, bestMove, describeLoads, spreadOf, vmShareMHz, withMove, type HostLoad } from './balance.ts';
import { CpuHistory } from './cpu-history.ts';
import type { PolicyConfig } from './policy-config.ts';
import { choosePower, type PoweredHost } from './power-plan.ts';

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
  /** The platform's power control, where it has one; elsewhere a host in standby is only kept empty. */
  power: HostPower | undefined;
  /** Each VM's CPU averaged since the previous call, where the platform reports it; elsewhere a VM counts as an equal share of its host. */
  vmCpuMHz: (() => Promise<Record<string, number>>) | undefined;
  platformName: string;
}

/** As DPM sees a host: on, being emptied for standby, going into it, in it, or waking. */
type HostPowerState = 'on' | 'emptying' | 'entering-standby' | 'standby' | 'waking';

type DecisionFields = Partial<DecisionRecord> & Pick<DecisionRecord, 'policy' | 'outcome' | 'reason'>;

/**
 * DRS, DPM and maintenance mode, on any platform: reads the monitor's CPU samples and the
 * migrations' records, and asks the dispatcher for moves. Every decision, including each
 * decision to do nothing, is recorded as it is made.
 */
export class PlacementPolicy {
  private drsLevel: PolicyLevel | null = null;
  private dpmLevel: PolicyLevel | null = null;
  private readonly cycles = new Map<'drs' | 'dpm', AbortController>();
  private readonly maintenance = new Set<string>();
  private readonly powerState = new Map<string, HostPowerState>();
  private readonly cpu: CpuHistory;
  /** When a migration from or to each host last ended, and when each VM last moved. */
  private readonly hostSettledS = new Map<string, number>();
  private readonly vmMovedS = new Map<string, number>();
  /** When DPM last changed a host's power: a power-off weighs only a whole history since. */
  private lastPowerChangeS = 0;
  /** A VM whose evacuation failed is tried again after the retry time. */
  private readonly vmRetryS = new Map<string, number>();
  private readonly stopping = new AbortController();
  private readonly stopped = new Promise<void>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  private readonly loops = new Set<Promise<void>>();

  constructor(private readonly context: PolicyContext) {
    const { drs, dpm } = context.config;
    this.cpu = new CpuHistory(context.intervalSeconds, Math.max(drs.cycleSeconds * drs.stableCycles, dpm.powerOffHistorySeconds, dpm.powerOnHistorySeconds));
  }

  observeSample(record: SampleRecord): void {
    this.cpu.observe(record);
  }

  observeMigration(record: MigrationRecord): void {
    for (const host of [record.source, record.target]) this.hostSettledS.set(host, record.ended_s);
    if (record.status === 'succeeded') this.vmMovedS.set(record.vm, record.ended_s);
    if ((record.kind === 'maintenance' || record.kind === 'dpm') && record.status !== 'succeeded') {
      this.vmRetryS.set(record.vm, record.ended_s + this.context.config.maintenance.retrySeconds);
    }
  }

  /** `drs LEVEL` / `drs off`: a first cycle now, then one every cycle. */
  setDrs(level: PolicyLevel | null): void {
    this.drsLevel = level;
    this.restartCycles('drs', level, this.context.config.drs.cycleSeconds, () => this.drsCycle());
  }

  /** `dpm LEVEL` / `dpm off`: hosts in standby stay there after `off`, as vSphere leaves them. */
  setDpm(level: PolicyLevel | null): void {
    this.dpmLevel = level;
    this.restartCycles('dpm', level, this.context.config.dpm.cycleSeconds, () => this.dpmCycle());
  }

  /** `maintenance enter HOST`: no VM may go there from now on, and its VMs leave. */
  enterMaintenance(host: string): void {
    if (this.maintenance.has(host)) return;
    this.maintenance.add(host);
    this.refreshClosure(host);
    this.track(this.empty(host, 'maintenance', () => this.maintenance.has(host), () =>
      this.decide({ policy: 'maintenance', outcome: 'done', source: host, reason: `host ${host} is empty: in maintenance` })));
  }

  /** `maintenance exit HOST`: the host takes VMs again (DRS may then use it). */
  exitMaintenance(host: string): void {
    if (!this.maintenance.delete(host)) return;
    this.refreshClosure(host);
    this.decide({ policy: 'maintenance', outcome: 'done', source: host, reason: `host ${host} is out of maintenance and takes VMs again` });
  }

  /** No decision after this; resolves when the policy's loops have returned. */
  async stop(): Promise<void> {
    this.stopping.abort();
    while (this.loops.size > 0) await Promise.all(this.loops);
  }

  private restartCycles(policy: 'drs' | 'dpm', level: PolicyLevel | null, cycleSeconds: number, cycle: () => Promise<void> | void): void {
    this.cycles.get(policy)?.abort();
    this.cycles.delete(policy);
    if (level === null) return;
    const cycles = new AbortController();
    this.cycles.set(policy, cycles);
    const signal = AbortSignal.any([cycles.signal, this.stopping.signal]);
    const { clock } = this.context;
    this.track((async () => {
      while (!signal.aborted) {
        const startS = clock.now();
        await cycle();
        await clock.sleepUntil(startS + cycleSeconds, signal);
      }
    })());
  }

  private track(loop: Promise<void>): void {
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
  }

  private isOn(host: string): boolean {
    return (this.powerState.get(host) ?? 'on') === 'on';
  }

  /** The dispatcher takes VMs to a host only when it is on and out of maintenance. */
  private refreshClosure(host: string): void {
    const state = this.powerState.get(host) ?? 'on';
    const reason = this.maintenance.has(host) ? `host ${host} is in maintenance` : state === 'on' ? undefined : `host ${host} is ${state === 'emptying' ? 'being emptied for standby' : state}`;
    if (reason === undefined) this.context.dispatcher.reopenTarget(host);
    else this.context.dispatcher.closeTarget(host, reason);
  }

  private async drsCycle(): Promise<void> {
    const level = this.drsLevel;
    if (level === null) return;
    const { config, dispatcher } = this.context;
    const vmMHz = await this.context.vmCpuMHz?.();
    if (this.stopping.signal.aborted || this.drsLevel !== level) return;
    const hosts = this.context.hosts.filter((host) => !this.maintenance.has(host) && this.isOn(host));
    const latest = this.latestLoads(hosts);
    const decide = (fields: Omit<DecisionFields, 'policy'>): void =>
      this.decide({ policy: 'drs', loads: describeLoads(latest), spread: latest.length > 0 ? spreadOf(latest) : null, ...fields });
    if (hosts.length < 2) return decide({ outcome: 'none', reason: 'fewer than two hosts on and out of maintenance: nothing to balance' });
    const busy = hosts.find((host) => dispatcher.isBusy(host));
    if (busy !== undefined) return decide({ outcome: 'none', reason: `a migration of ${busy} is running: its load is not yet what it will be` });
    const loads: HostLoad[] = [];
    for (const host of hosts) {
      const mhz = this.cpu.meanSince(host, Math.max(this.hostSettledS.get(host) ?? Number.NEGATIVE_INFINITY, this.context.clock.now() - config.drs.cycleSeconds));
      if (mhz === undefined) {
        const since = this.hostSettledS.has(host) ? ' since its last migration ended' : '';
        return decide({ outcome: 'none', reason: `no sample of ${host}${since} yet` });
      }
      loads.push({ ...this.hostLoad(host, mhz), ...(vmMHz ? { vmMHz } : {}) });
    }
    const seen = { loads: describeLoads(loads), spread: spreadOf(loads) };
    const priority = balancePriority(seen.spread, loads.length);
    if (level === 1) return decide({ ...seen, outcome: 'none', reason: 'level 1 applies mandatory moves only' });
    if (priority > level) {
      const why = priority === 6 ? 'the hosts are balanced' : `balancing would be priority ${priority}, level ${level} applies up to ${level}`;
      return decide({ ...seen, outcome: 'none', reason: why });
    }
    const nowS = this.context.clock.now();
    const stable = this.stableSides(hosts);
    const lasting = (vm: string, target: string): boolean => stable.above.has(dispatcher.hostOfVm(vm) ?? '') && stable.below.has(target);
    const rested = (vm: string): boolean => nowS - (this.vmMovedS.get(vm) ?? Number.NEGATIVE_INFINITY) >= config.drs.holdDownSeconds;
    const movable = (vm: string, target: string): boolean => lasting(vm, target) && rested(vm) && dispatcher.canStart(vm, target);
    const acceptsVms = (host: string): boolean => dispatcher.acceptsVms(host);
    let state = loads;
    for (let moves = 0; moves < config.drs.maxMovesPerCycle; moves++) {
      const move = bestMove(state, { minGain: config.drs.minSpreadGain, movable, acceptsVms });
      if (move === undefined) {
        if (moves > 0) return;
        return decide({ ...seen, outcome: 'none', reason: `priority ${priority}, but ${this.whyNoMove(state, { lasting, rested, acceptsVms })}` });
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

  /** Which of DRS's conditions keeps every helpful move from being made, the first that does. */
  private whyNoMove(
    state: readonly HostLoad[],
    rules: { lasting: (vm: string, target: string) => boolean; rested: (vm: string) => boolean; acceptsVms: (host: string) => boolean },
  ): string {
    const { drs } = this.context.config;
    const anyMove = (movable: (vm: string, target: string) => boolean): boolean =>
      bestMove(state, { minGain: drs.minSpreadGain, movable, acceptsVms: rules.acceptsVms }) !== undefined;
    if (!anyMove(() => true)) return `no move of a whole VM cuts the spread by ${drs.minSpreadGain} or more`;
    if (!anyMove(rules.lasting)) return `the imbalance has not lasted ${drs.stableCycles} cycles of samples since the hosts' last migrations`;
    if (!anyMove((vm, target) => rules.lasting(vm, target) && rules.rested(vm))) return `the VMs whose move would help moved less than ${drs.holdDownSeconds} s ago`;
    return 'no migration slot is free for the moves that would help';
  }

  /** The hosts above the hosts' mean use in each of the last `stableCycles` cycles, and those below it in each. */
  private stableSides(hosts: readonly string[]): { above: Set<string>; below: Set<string> } {
    const { clock, config } = this.context;
    const above = new Set(hosts);
    const below = new Set(hosts);
    for (let cycle = 0; cycle < config.drs.stableCycles; cycle++) {
      const toS = clock.now() - cycle * config.drs.cycleSeconds;
      const fromS = toS - config.drs.cycleSeconds;
      const uses = new Map<string, number>();
      for (const host of hosts) {
        const mhz = this.cpu.meanSince(host, Math.max(fromS, this.hostSettledS.get(host) ?? Number.NEGATIVE_INFINITY), toS);
        if (mhz !== undefined) uses.set(host, mhz / this.capacityOf(host));
      }
      const mean = [...uses.values()].reduce((sum, use) => sum + use, 0) / uses.size;
      for (const host of hosts) {
        const use = uses.get(host);
        if (use === undefined || use <= mean) above.delete(host);
        if (use === undefined || use >= mean) below.delete(host);
      }
    }
    return { above, below };
  }

  private dpmCycle(): void {
    const level = this.dpmLevel;
    if (level === null) return;
    const { clock, config, dispatcher } = this.context;
    const nowS = clock.now();
    const hosts = this.context.hosts.filter((host) => !this.maintenance.has(host));
    const decide = (fields: Omit<DecisionFields, 'policy'>): void => this.decide({ policy: 'dpm', ...fields });
    const changing = hosts.find((host) => !['on', 'standby'].includes(this.powerState.get(host) ?? 'on'));
    if (changing !== undefined) return decide({ outcome: 'none', reason: `host ${changing} is ${this.powerState.get(changing)}: one power change at a time` });
    const on: PoweredHost[] = [];
    for (const host of hosts.filter((name) => this.isOn(name))) {
      const recentFromS = nowS - config.dpm.powerOnHistorySeconds;
      const recentMHz = this.cpu.meanSince(host, recentFromS);
      // One window for every host, so that the forecasts add up to the total's, which migrations do not change.
      const trendFromS = Math.max(nowS - config.dpm.powerOffHistorySeconds, this.lastPowerChangeS);
      const forecastMHz = this.cpu.forecast(host, { fromS: recentFromS, trendFromS, nowS, aheadSeconds: config.dpm.wakeLeadSeconds });
      if (recentMHz === undefined || forecastMHz === undefined) return decide({ outcome: 'none', reason: `no sample of ${host} in the last ${config.dpm.powerOnHistorySeconds} s yet` });
      const longFromS = nowS - config.dpm.powerOffHistorySeconds;
      // The hosts' total is what a power-off weighs, and migrations only move it between them.
      const whole = longFromS >= this.lastPowerChangeS - 1e-9;
      on.push({
        host, capacityMHz: this.capacityOf(host), longMHz: whole ? this.cpu.meanSince(host, longFromS) : undefined, recentMHz, forecastMHz,
        vms: this.vmsOn(host).length, busy: dispatcher.isBusy(host),
      });
    }
    const standby = hosts.filter((host) => this.powerState.get(host) === 'standby');
    const choice = choosePower(on, standby, level, { targetUtilization: config.dpm.targetUtilization, tolerance: config.dpm.tolerance, minHostsOn: config.dpm.minHostsOn });
    const loads = describeLoads(on.map((host) => this.hostLoad(host.host, host.recentMHz)));
    if (choice.kind === 'none') return decide({ loads, outcome: 'none', reason: choice.reason });
    decide({ loads, outcome: choice.kind, source: choice.host, reason: choice.reason });
    if (choice.kind === 'power-on') this.track(this.wake(choice.host));
    else this.track(this.powerOff(choice.host));
  }

  private async wake(host: string): Promise<void> {
    this.setPower(host, 'waking');
    await this.context.power?.wake(host);
    this.setPower(host, 'on');
    const how = this.context.power ? 'awake' : `back in service (the ${this.context.platformName} platform cannot power hosts: it was kept empty)`;
    this.decide({ policy: 'dpm', outcome: 'done', source: host, reason: `host ${host} is ${how}` });
  }

  /** Empties the host (migrations of kind dpm), then has the platform put it into standby. */
  private async powerOff(host: string): Promise<void> {
    this.setPower(host, 'emptying');
    await this.empty(host, 'dpm', () => this.powerState.get(host) === 'emptying', () => undefined);
    if (this.stopping.signal.aborted) return;
    this.setPower(host, 'entering-standby');
    try {
      await this.context.power?.standby(host);
    } catch (error) {
      this.setPower(host, 'on');
      this.decide({ policy: 'dpm', outcome: 'failed', source: host, reason: `the platform did not put ${host} into standby: ${(error as Error).message}` });
      return;
    }
    this.setPower(host, 'standby');
    const how = this.context.power ? 'in standby' : `kept empty as if in standby: the ${this.context.platformName} platform cannot power hosts, and measures no power`;
    this.decide({ policy: 'dpm', outcome: 'standby', source: host, reason: `host ${host} is ${how}` });
  }

  private setPower(host: string, state: HostPowerState): void {
    this.powerState.set(host, state);
    this.lastPowerChangeS = this.context.clock.now();
    this.refreshClosure(host);
  }

  /** Moves the host's VMs away as slots free, while `wanted` holds; `onEmpty` once none is left. */
  private async empty(host: string, kind: 'maintenance' | 'dpm', wanted: () => boolean, onEmpty: () => void): Promise<void> {
    const { clock, dispatcher } = this.context;
    const signal = this.stopping.signal;
    while (!signal.aborted && wanted()) {
      const staying = this.vmsOn(host);
      if (staying.length === 0 && !dispatcher.isBusy(host)) return onEmpty();
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
          this.decide({ policy: kind, outcome: 'failed', vm, source: host, reason: `nowhere to put ${vm}: no other host is on and out of maintenance` });
          retryAtS = Math.min(retryAtS, nowS + this.context.config.maintenance.retrySeconds);
          break;
        }
        if (!dispatcher.canStart(vm, target.host)) continue;
        this.decide({ policy: kind, outcome: 'move', vm, source: host, target: target.host, reason: `emptying ${host}: to the least loaded host that takes VMs` });
        dispatcher.start(vm, target.host, kind);
        added.set(target.host, (added.get(target.host) ?? 0) + target.shareMHz);
      }
      const retrying = retryAtS < Number.POSITIVE_INFINITY;
      if (retrying && !dispatcher.isBusy(host)) await clock.sleepUntil(retryAtS, signal);
      else await Promise.race([dispatcher.nextEnd(), this.stopped, ...(retrying ? [clock.sleepUntil(retryAtS, signal)] : [])]);
    }
  }

  /** The least loaded host that takes VMs, counting what this round already sends there. */
  private evacuationTarget(from: string, added: ReadonlyMap<string, number>): { host: string; shareMHz: number } | undefined {
    const loads = this.latestLoads(this.context.hosts);
    const source = loads.find((load) => load.host === from);
    const shareMHz = source ? vmShareMHz(source) : 0;
    let best: { host: string; use: number } | undefined;
    for (const load of loads) {
      if (load.host === from || !this.context.dispatcher.acceptsVms(load.host)) continue;
      const use = (load.cpuMHz + (added.get(load.host) ?? 0)) / load.capacityMHz;
      if (best === undefined || use < best.use) best = { host: load.host, use };
    }
    return best && { host: best.host, shareMHz };
  }

  /** Each host's last sample, whatever moved since. */
  private latestLoads(hosts: readonly string[]): HostLoad[] {
    return hosts.flatMap((host) => {
      const mhz = this.cpu.latest(host);
      return mhz === undefined ? [] : [this.hostLoad(host, mhz)];
    });
  }

  private vmsOn(host: string): string[] {
    return this.context.vms.filter((vm) => this.context.dispatcher.hostOfVm(vm) === host);
  }

  private capacityOf(host: string): number {
    const capacityMHz = this.context.capacityMHz[host];
    if (capacityMHz === undefined) throw new Error(`no CPU capacity for host ${host}: prepareRun gives one for every host of the placement line`);
    return capacityMHz;
  }

  private hostLoad(host: string, cpuMHz: number): HostLoad {
    return { host, cpuMHz, capacityMHz: this.capacityOf(host), vms: this.vmsOn(host) };
  }

  private decide(fields: DecisionFields): void {
    const level = fields.policy === 'dpm' ? this.dpmLevel : this.drsLevel;
    this.context.record({
      time_s: this.context.clock.now(), level, loads: describeLoads(this.latestLoads(this.context.hosts)), spread: null, vm: '', source: '', target: '', ...fields,
    });
  }
}
