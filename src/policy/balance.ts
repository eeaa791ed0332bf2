/**
 * DRS's load balancing as pure functions: the imbalance of a cluster, the priority vSphere
 * gives it, and the one move that cuts it most.
 */

/** One host as DRS sees it: its CPU use, its capacity and the VMs it may move. */
export interface HostLoad {
  host: string;
  cpuMHz: number;
  capacityMHz: number;
  vms: string[];
  /** Each VM's own CPU, where the platform reports it. */
  vmMHz?: Readonly<Record<string, number>>;
}

export interface Move {
  vm: string;
  source: string;
  target: string;
  spreadBefore: number;
  spreadAfter: number;
}

export function utilization(host: HostLoad): number {
  return host.cpuMHz / host.capacityMHz;
}

/** The population standard deviation of the hosts' CPU use: vSphere's "current host load standard deviation". */
export function spreadOf(hosts: readonly HostLoad[]): number {
  if (hosts.length === 0) return 0;
  const values = hosts.map(utilization);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
}

/**
 * The priority of balancing at this spread over `hostCount` hosts, by VMware's KB 1007485 as
 * it is commonly quoted (not read from the KB itself): 6 - ceil(spread / 0.1 * sqrt(hosts)). Level L applies priorities up to L; load
 * balancing never gets priority 1, which is kept for mandatory moves (maintenance, rules),
 * and a balanced cluster gets 6, which no level applies.
 */
export function balancePriority(spread: number, hostCount: number): number {
  if (spread <= 0) return 6;
  return Math.max(2, 6 - Math.ceil((spread / 0.1) * Math.sqrt(hostCount)));
}

/** An equal share of the host's CPU: what a VM is taken to use where the platform does not say. */
export function vmShareMHz(host: HostLoad): number {
  return host.vms.length === 0 ? 0 : host.cpuMHz / host.vms.length;
}

/** The VM's own CPU where the platform reports it, else its equal share of its host's. */
export function vmDemandMHz(host: HostLoad, vm: string): number {
  return host.vmMHz?.[vm] ?? vmShareMHz(host);
}

/** `hosts` with `vm` moved from `source` to `target`, its CPU with it. */
export function withMove(hosts: readonly HostLoad[], vm: string, source: string, target: string): HostLoad[] {
  const from = hosts.find((host) => host.host === source);
  if (!from) return [...hosts];
  const share = Math.min(vmDemandMHz(from, vm), from.cpuMHz);
  return hosts.map((host) => {
    if (host.host === source) return { ...host, cpuMHz: host.cpuMHz - share, vms: host.vms.filter((name) => name !== vm) };
    if (host.host === target) return { ...host, cpuMHz: host.cpuMHz + share, vms: [...host.vms, vm] };
    return host;
  });
}

/**
 * The move, from a host above the mean to one below it, that leaves the smallest spread; or
 * undefined when none cuts the spread by `minGain`. `movable` says which VMs may move where
 * now, and `acceptsVms` which hosts may take VMs at all.
 */
export function bestMove(
  hosts: readonly HostLoad[],
  options: { minGain: number; movable: (vm: string, target: string) => boolean; acceptsVms: (host: string) => boolean },
): Move | undefined {
  const spreadBefore = spreadOf(hosts);
  const mean = hosts.reduce((sum, host) => sum + utilization(host), 0) / hosts.length;
  let best: Move | undefined;
  for (const source of hosts) {
    if (utilization(source) <= mean) continue;
    for (const target of hosts) {
      if (utilization(target) >= mean || !options.acceptsVms(target.host)) continue;
      for (const vm of source.vms) {
        if (!options.movable(vm, target.host)) continue;
        const spreadAfter = spreadOf(withMove(hosts, vm, source.host, target.host));
        if (best === undefined || spreadAfter < best.spreadAfter) best = { vm, source: source.host, target: target.host, spreadBefore, spreadAfter };
      }
    }
  }
  // A gain within rounding is no gain: two equal hosts must not swap a VM back and forth.
  const gain = best === undefined ? 0 : spreadBefore - best.spreadAfter;
  return gain > 1e-9 && gain >= options.minGain ? best : undefined;
}

/** `esx1=0.62 esx2=0.10`: the hosts' CPU use as decisions.csv shows it. */
export function describeLoads(hosts: readonly HostLoad[]): string {
  return hosts.map((host) => `${host.host}=${utilization(host).toFixed(3)}`).join(' ');
}
