import { InputError } from '../errors.ts';
import type { Inventory } from '../platforms/platform.ts';
import type { Experiment, NameAt } from './experiment.ts';

/** How many of the platform's names an "unknown name" message lists before eliding the rest. */
const LISTED_NAMES = 8;

/** Throws an InputError at the first host or VM of the script that the platform does not have. */
export function checkAgainstInventory(experiment: Experiment, inventory: Inventory): void {
  const hosts = inventory.hosts;
  const vms = inventory.vms.map((vm) => vm.name);
  for (const entry of experiment.placement) {
    requireKnown(entry.host, 'host', hosts);
    for (const vm of entry.vms) requireKnown(vm, 'VM', vms);
  }
  for (const { action } of experiment.steps) {
    if (action.kind === 'migrate') {
      requireKnown(action.vm, 'VM', vms);
      requireKnown(action.host, 'host', hosts);
    }
  }
}

/** The VMs named on the placement line, in order: the servers the load balancer spreads requests over. */
export function placementVms(experiment: Experiment): string[] {
  return experiment.placement.flatMap((entry) => entry.vms.map((vm) => vm.name));
}

/** The placement line as plain names, for a platform that builds its testbed from it. */
export function placementOf(experiment: Experiment): { host: string; vms: string[] }[] {
  return experiment.placement.map((entry) => ({ host: entry.host.name, vms: entry.vms.map((vm) => vm.name) }));
}

function requireKnown(name: NameAt, kind: 'host' | 'VM', known: readonly string[]): void {
  if (!known.includes(name.name)) {
    throw new InputError(`unknown ${kind} '${name.name}' (the platform has ${listed(known, kind)})`, name.at);
  }
}

function listed(names: readonly string[], kind: string): string {
  if (names.length === 0) return `no ${kind}s`;
  const shown = names.slice(0, LISTED_NAMES).join(', ');
  return names.length > LISTED_NAMES ? `${shown}, …` : shown;
}
