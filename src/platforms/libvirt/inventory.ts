import { InputError } from '../../errors.ts';
import type { Inventory } from '../platform.ts';
import type { Virsh } from './virsh.ts';

/** A domain as one host's libvirtd knows it. */
export interface DomainOnHost {
  host: string;
  name: string;
  uuid: string;
  /** Running or paused: its QEMU is up on this host. */
  active: boolean;
}

const lines = (text: string): string[] => text.split('\n').map((line) => line.trim()).filter(Boolean);

/** Every domain `uri`'s daemon has, defined or only running, with its UUID and whether it is active. */
export async function domainsOn(virsh: Virsh, host: string, uri: string): Promise<DomainOnHost[]> {
  const active = new Set(lines(await virsh.run(uri, ['list', '--name'])));
  const all = lines(await virsh.run(uri, ['list', '--all', '--name']));
  const domains: DomainOnHost[] = [];
  for (const name of all) domains.push({ host, name, uuid: (await virsh.run(uri, ['domuuid', name])).trim(), active: active.has(name) });
  return domains;
}

/**
 * The cluster's inventory: each active domain on its host. A domain a migration left defined
 * (shut off) on its old host is not a VM there. Refused, as the datacenter is not what a run
 * can reason about: a domain active on two hosts, or one name for two different domains.
 */
export function inventoryOf(hosts: readonly string[], domains: readonly DomainOnHost[]): Inventory {
  const byName = new Map<string, DomainOnHost[]>();
  for (const domain of domains) byName.set(domain.name, [...(byName.get(domain.name) ?? []), domain]);
  const vms: Inventory['vms'] = [];
  for (const [name, copies] of byName) {
    const uuids = new Set(copies.map((copy) => copy.uuid));
    if (uuids.size > 1) throw new InputError(`libvirt: the name ${name} is used by ${uuids.size} different domains (on ${copies.map((copy) => copy.host).join(', ')})`);
    const running = copies.filter((copy) => copy.active);
    if (running.length > 1) throw new InputError(`libvirt: domain ${name} is running on ${running.length} hosts at once (${running.map((copy) => copy.host).join(', ')})`);
    if (running[0]) vms.push({ name, host: running[0].host });
  }
  return { hosts: [...hosts], vms };
}
