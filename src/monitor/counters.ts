/** The host counters every platform reports, with vCenter's names and units. */
export const COUNTERS = {
  cpuUsage: { name: 'cpu.usagemhz.average', unit: 'MHz' },
  memConsumed: { name: 'mem.consumed.average', unit: 'KB' },
  memActive: { name: 'mem.active.average', unit: 'KB' },
  memShared: { name: 'mem.shared.average', unit: 'KB' },
  memSwapUsed: { name: 'mem.swapused.average', unit: 'KB' },
  netUsage: { name: 'net.usage.average', unit: 'KBps' },
  vmCount: { name: 'vm.count', unit: 'number' },
  /** The host's power draw, where it is known (the sim's power model). */
  power: { name: 'power.power.average', unit: 'W' },
} as const;
