import type { Clock } from '../../run/clock.ts';
import type { VsphereConfig } from './config.ts';
import type { VimSession } from './session.ts';
import { VimFault, type MoRef } from './soap.ts';
import type { TaskInfo } from './vim-client.ts';

/** Faults that mean "this server has no MigrateVM_Task": fall back to RelocateVM_Task. */
const NO_SUCH_METHOD = new Set(['MethodNotFound', 'NotImplemented', 'NotSupported']);

export interface MigrationTarget {
  host: MoRef;
  /** The resource pool to move the VM into, when it changes compute resource. */
  pool: MoRef | undefined;
}

/**
 * The vMotion task: started with MigrateVM_Task or RelocateVM_Task as the config says (`auto`:
 * MigrateVM_Task until the server shows it has none), then polled until it ends.
 */
export class MigrationTasks {
  private migrateSupported: boolean;

  constructor(
    private readonly session: VimSession,
    private readonly clock: Clock,
    private readonly method: VsphereConfig['migrationMethod'],
    private readonly timeouts: VsphereConfig['timeouts'],
  ) {
    this.migrateSupported = method !== 'relocate';
  }

  /** Starts moving the VM; returns its task. */
  start(vm: MoRef, target: MigrationTarget): Promise<MoRef> {
    return this.session.run(async () => {
      if (this.migrateSupported) {
        try {
          return await this.session.client.migrateVm(vm, target);
        } catch (error) {
          if (!(this.method === 'auto' && error instanceof VimFault && NO_SUCH_METHOD.has(error.faultName))) throw error;
          this.migrateSupported = false;
        }
      }
      return this.session.client.relocateVm(vm, target);
    });
  }

  /** Polls the task until it ends, the run is interrupted or the deadline (run seconds) passes. */
  async wait(task: MoRef, signal: AbortSignal, deadlineS: number): Promise<TaskInfo | 'interrupted' | 'timeout'> {
    const pollSeconds = this.timeouts.taskPollSeconds;
    const maxPolls = Math.ceil(this.timeouts.migrationSeconds / pollSeconds) + 2;
    for (let poll = 0; poll < maxPolls; poll++) {
      const info = await this.session.run(() => this.session.client.taskInfo(task));
      if (info.state === 'success' || info.state === 'error') return info;
      if (signal.aborted) return 'interrupted';
      if (this.clock.now() >= deadlineS) return 'timeout';
      await this.clock.sleepUntil(Math.min(deadlineS, this.clock.now() + pollSeconds), signal);
    }
    return 'timeout';
  }
}
