import { moRef, sameRef, type MoRef } from './soap.ts';
import type { VimSession } from './session.ts';

export interface HostEntry {
  name: string;
  ref: MoRef;
  /** Its ComputeResource or ClusterComputeResource. */
  parent: MoRef | undefined;
  /** Its cores × their MHz, from summary.hardware, when the server says. */
  cpuMHz: number | undefined;
}

/** A cluster whose own DRS moves VMs by itself: enabled, and fully automated (vSphere's default behaviour). */
interface AutomatedDrs {
  cluster: string;
  behavior: string;
}

export interface VmEntry {
  name: string;
  ref: MoRef;
  host: MoRef;
}

/**
 * The server's hosts and VMs by name (the names scripts use), each VM's host, and each
 * compute resource's root resource pool; templates are not VMs here.
 */
export class VsphereInventory {
  readonly hosts = new Map<string, HostEntry>();
  readonly vms = new Map<string, VmEntry>();
  private readonly rootPools = new Map<string, MoRef>();
  private readonly automatedDrs = new Map<string, AutomatedDrs>();
  private readonly warnedAmbiguous = new Set<string>();

  constructor(
    private readonly session: VimSession,
    private readonly warn: (message: string) => void,
  ) {}

  /** Reads it all again, in one property-collector call. */
  async read(): Promise<void> {
    const objects = await this.session.run(async () =>
      this.session.client.retrieveProperties({
        propSet: [
          { type: 'HostSystem', pathSet: ['name', 'parent', 'summary.hardware.cpuMhz', 'summary.hardware.numCpuCores'] },
          { type: 'VirtualMachine', pathSet: ['name', 'runtime.host', 'config.template'] },
          { type: 'ComputeResource', pathSet: ['resourcePool'] },
          { type: 'ClusterComputeResource', pathSet: ['name', 'resourcePool', 'configurationEx.drsConfig.enabled', 'configurationEx.drsConfig.defaultVmBehavior'] },
        ],
        objectSet: [{ obj: await this.session.containerView(), skip: true, traverseView: true }],
      }),
    );
    const hosts: HostEntry[] = [];
    const vms: VmEntry[] = [];
    this.rootPools.clear();
    this.automatedDrs.clear();
    for (const object of objects) {
      const name = object.props.get('name')?.text;
      if (object.obj.type === 'HostSystem' && name !== undefined) {
        const mhz = Number(object.props.get('summary.hardware.cpuMhz')?.text);
        const cores = Number(object.props.get('summary.hardware.numCpuCores')?.text);
        const cpuMHz = mhz > 0 && cores > 0 ? mhz * cores : undefined;
        hosts.push({ name, ref: object.obj, parent: moRef(object.props.get('parent')), cpuMHz });
      } else if (object.obj.type === 'VirtualMachine' && name !== undefined) {
        const host = moRef(object.props.get('runtime.host'));
        if (host && object.props.get('config.template')?.text !== 'true') vms.push({ name, ref: object.obj, host });
      } else {
        const pool = moRef(object.props.get('resourcePool'));
        if (pool) this.rootPools.set(object.obj.value, pool);
        // An unset behaviour is vSphere's default, fully automated.
        const behavior = object.props.get('configurationEx.drsConfig.defaultVmBehavior')?.text || 'fullyAutomated';
        if (object.props.get('configurationEx.drsConfig.enabled')?.text === 'true' && behavior === 'fullyAutomated') {
          this.automatedDrs.set(object.obj.value, { cluster: name ?? object.obj.value, behavior });
        }
      }
    }
    this.replaceUnique(this.hosts, hosts, 'host');
    this.replaceUnique(this.vms, vms, 'VM');
  }

  /** For each host in a cluster whose DRS migrates VMs by itself: that, in words. */
  automaticPlacement(): Record<string, string> {
    const placed: Record<string, string> = {};
    for (const host of this.hosts.values()) {
      const drs = host.parent && this.automatedDrs.get(host.parent.value);
      if (drs) placed[host.name] = `the DRS of cluster ${drs.cluster} (${drs.behavior})`;
    }
    return placed;
  }

  hostName(ref: MoRef): string | undefined {
    for (const host of this.hosts.values()) if (sameRef(host.ref, ref)) return host.name;
    return undefined;
  }

  vmCount(host: HostEntry): number {
    return [...this.vms.values()].filter((vm) => sameRef(vm.host, host.ref)).length;
  }

  /**
   * The resource pool a VM moving to `target` goes to: none to name within one cluster (the VM
   * keeps its own), the target's root pool when it changes compute resource.
   */
  poolFor(vm: VmEntry, target: HostEntry): MoRef | undefined {
    const sourceParent = [...this.hosts.values()].find((host) => sameRef(host.ref, vm.host))?.parent;
    if (sourceParent && target.parent && sameRef(sourceParent, target.parent)) return undefined;
    return target.parent ? this.rootPools.get(target.parent.value) : undefined;
  }

  /** Names are what scripts use: a name that two objects share is left out, with one warning. */
  private replaceUnique<T extends { name: string }>(into: Map<string, T>, entries: readonly T[], kind: string): void {
    const counts = new Map<string, number>();
    for (const entry of entries) counts.set(entry.name, (counts.get(entry.name) ?? 0) + 1);
    const previous = new Map(into);
    into.clear();
    for (const entry of entries) {
      if (counts.get(entry.name) === 1) {
        // Keep the entry object where it was, so that a migration in flight updates the one the map holds.
        const known = previous.get(entry.name);
        into.set(entry.name, known ? Object.assign(known, entry) : entry);
      } else if (!this.warnedAmbiguous.has(`${kind}:${entry.name}`)) {
        this.warnedAmbiguous.add(`${kind}:${entry.name}`);
        this.warn(`vSphere: ${counts.get(entry.name)} ${kind}s are named '${entry.name}': scripts cannot name them`);
      }
    }
  }
}
