import { InputError, clipped, quoted } from '../errors.ts';
import type { Inventory } from '../platforms/platform.ts';
import type { Experiment, NameAt, ScriptStep } from './experiment.ts';

/** How many of the platform's names an "unknown name" message lists before eliding the rest. */
const LISTED_NAMES = 8;

/**
 * Throws an InputError at the first host or VM of the script (placement line, migrate and
 * maintenance actions) that the platform does not have.
 */
export function checkAgainstInventory(experiment: Experiment, inventory: Inventory): void {
  const hosts = new KnownNames('host', inventory.hosts);
  const vms = new KnownNames('VM', inventory.vms.map((vm) => vm.name));
  for (const entry of experiment.placement) {
    hosts.require(entry.host);
    for (const vm of entry.vms) vms.require(vm);
  }
  for (const { action } of experiment.steps) {
    if (action.kind === 'migrate') {
      vms.require(action.vm);
      hosts.require(action.host);
    }
    if (action.kind === 'maintenance') hosts.require(action.host);
  }
}

/** The steps of the script that drive the placement policy (this tool's drs, dpm and maintenance). */
export function policySteps(experiment: Experiment): ScriptStep[] {
  return experiment.steps.filter((step) => step.action.kind === 'drs' || step.action.kind === 'dpm' || step.action.kind === 'maintenance');
}

/** The VMs named on the placement line, in order: the servers the load balancer spreads requests over. */
export function placementVms(experiment: Experiment): string[] {
  return experiment.placement.flatMap((entry) => entry.vms.map((vm) => vm.name));
}

/** The placement line as plain names, for a platform that builds its testbed from it. */
export function placementOf(experiment: Experiment): { host: string; vms: string[] }[] {
  return experiment.placement.map((entry) => ({ host: entry.host.name, vms: entry.vms.map((vm) => vm.name) }));
}

/** The platform's names of one kind, looked up in constant time: a script may name thousands. */
class KnownNames {
  private readonly names: ReadonlySet<string>;

  constructor(
    private readonly kind: 'host' | 'VM',
    private readonly inOrder: readonly string[],
  ) {
    this.names = new Set(inOrder);
  }

  require(name: NameAt): void {
    if (!this.names.has(name.name)) {
      throw new InputError(`unknown ${this.kind} ${quoted(name.name)} (the platform has ${this.listed()})`, name.at);
    }
  }

  private listed(): string {
    if (this.inOrder.length === 0) return `no ${this.kind}s`;
    const shown = this.inOrder.slice(0, LISTED_NAMES).map(clipped).join(', ');
    return this.inOrder.length > LISTED_NAMES ? `${shown}, …` : shown;
  }
}
