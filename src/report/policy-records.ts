import type { ActionRecord, DecisionRecord, MigrationRecord, RequestRecord, SampleRecord } from '../record/records.ts';
import { HostEnergy } from './host-energy.ts';
import { HostLoadSpreadSeries, type HostLoadSpread } from './host-load-spread.ts';
import { HostsLeftOut } from './hosts-left-out.ts';
import { isPolicyMigration } from './migration-kinds.ts';
import { PolicyPerformance, type PolicyPerformanceResult } from './policy-performance.ts';
import type { RunInfo } from './read-run.ts';
import { standbyHours, standbyHoursByHost } from './standby-time.ts';

/** What the report shows of a run's placement policy. */
export interface PolicySummary {
  decisions: DecisionRecord[];
  performance: PolicyPerformanceResult;
  spread: HostLoadSpread;
  /** Of all hosts, in Wh; null without power samples. */
  energyWh: number | null;
  /** Hours hosts spent in standby, all together; null when DPM put none into it. */
  standbyHours: number | null;
  /** Each host that drew power or slept: its energy (Wh, null without power samples) and hours in standby. */
  hosts: { host: string; energyWh: number | null; standbyHours: number }[];
}

/** A run has a placement policy when it recorded decisions, or migrations only a policy starts. */
export function hasPlacementPolicy(decisions: readonly DecisionRecord[] | undefined, migrations: readonly MigrationRecord[]): boolean {
  return decisions !== undefined || migrations.some((migration) => isPolicyMigration(migration.kind));
}

/** The hosts' CPU capacities the policy worked with (run.json's policy.host_cpu_mhz); none when not recorded. */
function hostCapacities(info: RunInfo): Map<string, number> {
  const recorded = (info.policy as { host_cpu_mhz?: unknown } | undefined)?.host_cpu_mhz;
  if (typeof recorded !== 'object' || recorded === null) return new Map();
  return new Map(Object.entries(recorded).filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] > 0));
}

/** A run's policy summary, accumulated from the same streams of requests and samples as the rest of the report. */
export class PolicyRecords {
  readonly #decisions: DecisionRecord[];
  readonly #performance: PolicyPerformance;
  readonly #spread: HostLoadSpreadSeries;
  readonly #energy = new HostEnergy();
  readonly #endS: number | undefined;
  #lastSampleS = 0;

  constructor(run: { info: RunInfo; migrations: readonly MigrationRecord[]; decisions: DecisionRecord[]; actions: readonly ActionRecord[] }) {
    this.#decisions = run.decisions;
    this.#endS = typeof run.info.run_seconds === 'number' ? run.info.run_seconds : undefined;
    this.#performance = new PolicyPerformance(run.migrations);
    this.#spread = new HostLoadSpreadSeries(hostCapacities(run.info), new HostsLeftOut(run.actions, run.decisions));
  }

  addRequest(request: RequestRecord): void {
    this.#performance.add(request);
  }

  addSample(sample: SampleRecord): void {
    this.#spread.add(sample);
    this.#energy.add(sample);
    this.#lastSampleS = Math.max(this.#lastSampleS, sample.time_s);
  }

  result(): PolicySummary {
    // A run cut short has no run_seconds: its last sample is as far as it is known to have gone.
    const endS = this.#endS ?? this.#lastSampleS;
    const energy = this.#energy.wattHoursByHost();
    const asleep = standbyHoursByHost(this.#decisions, endS);
    const hosts = [...new Set([...energy.keys(), ...asleep.keys()])].map((host) => ({ host, energyWh: energy.get(host) ?? null, standbyHours: asleep.get(host) ?? 0 }));
    return {
      decisions: this.#decisions,
      performance: this.#performance.result(),
      spread: this.#spread.result(),
      energyWh: this.#energy.wattHours(),
      standbyHours: this.#decisions.some((decision) => decision.outcome === 'standby') ? standbyHours(this.#decisions, endS) : null,
      hosts,
    };
  }
}
