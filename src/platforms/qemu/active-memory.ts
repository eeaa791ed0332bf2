import type { Lab } from './lab.ts';
import type { LabCounters } from './counters.ts';

type DirtyRateInfo = { status?: string; 'dirty-rate'?: number; 'start-time'?: number };

/**
 * Keeps an estimate of the memory each VM writes per second, from QEMU's dirty-rate
 * measurement (page sampling, `calc-dirty-rate` over 1 s, read with `query-dirty-rate`),
 * for the hosts' `mem.active` counter. One pass a second over every VM's running process;
 * a VM whose QEMU refuses (for example while it migrates) keeps its last estimate.
 */
export class ActiveMemoryMonitor {
  private stopped = false;
  private readonly loop: Promise<void>;
  private wake: (() => void) | null = null;
  private readonly lastStart = new Map<string, number>();

  constructor(
    private readonly lab: Lab,
    private readonly counters: LabCounters,
    private readonly periodMs = 1000,
  ) {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await Promise.all(this.lab.state.vms.map((vm) => this.measure(vm.name, vm.process)));
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.periodMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private async measure(vm: string, processId: string): Promise<void> {
    try {
      const qmp = await this.lab.qmp(processId);
      const info = await qmp.execute<DirtyRateInfo>('query-dirty-rate');
      const key = `${vm}/${processId}`;
      if (info.status === 'measured' && info['dirty-rate'] !== undefined && info['start-time'] !== this.lastStart.get(key)) {
        this.lastStart.set(key, info['start-time'] ?? 0);
        this.counters.setActive(vm, info['dirty-rate'] * 1024);
      }
      if (info.status !== 'measuring' && !this.stopped) await qmp.execute('calc-dirty-rate', { 'calc-time': 1 });
    } catch {
      // the process is ending or busy: try again next time
    }
  }
}
