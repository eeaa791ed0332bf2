import type { Clock } from '../../run/clock.ts';
import type { MigrationOrder, MigrationOutcome } from '../platform.ts';
import type { VsphereInventory } from './inventory.ts';
import type { MigrationEventRecord, MigrationEvents } from './migration-event.ts';
import type { MigrationTasks } from './migration-task.ts';
import type { ServerClock } from './server-clock.ts';
import type { MoRef } from './soap.ts';
import type { TaskInfo } from './vim-client.ts';

/** What migration-details.jsonl holds of a vSphere migration, under `vsphere`. */
export interface VsphereMigrationDetails {
  /** The task's reference, e.g. `task-1234`. */
  task: string;
  /** The task's start and completion as the server wrote them; null when the task did not end. */
  task_start_time: string | null;
  task_complete_time: string | null;
  /** The migration's VmMigratedEvent (or DrsVmMigratedEvent); null when the server logged none or the task failed. */
  event: MigrationEventRecord | null;
}

/** vSphere tells none of these: the columns stay empty. */
const NO_MEASURES = { downtime_ms: null, client_downtime_ms: null, bytes: null, passes: null } as const;

/** One vMotion, from the script's order to its record: the task's times, its fault, its event. */
export class VsphereMigrations {
  constructor(
    private readonly clock: Clock,
    private readonly serverClock: ServerClock,
    private readonly inventory: VsphereInventory,
    private readonly tasks: MigrationTasks,
    private readonly events: MigrationEvents,
    private readonly migrationSeconds: number,
  ) {}

  async migrate(order: MigrationOrder, signal: AbortSignal): Promise<MigrationOutcome> {
    const requestedS = this.clock.now();
    const failed = (reason: string, details?: VsphereMigrationDetails): MigrationOutcome => ({
      ...NO_MEASURES,
      started_s: requestedS,
      ended_s: this.clock.now(),
      status: 'failed',
      reason,
      ...(details ? { details: { vsphere: details } } : {}),
    });
    const vm = this.inventory.vms.get(order.vm);
    const target = this.inventory.hosts.get(order.target);
    if (!vm) return failed(`no VM named ${order.vm}`);
    if (!target) return failed(`no host named ${order.target}`);
    let task: MoRef;
    try {
      task = await this.tasks.start(vm.ref, { host: target.ref, pool: this.inventory.poolFor(vm, target) });
    } catch (error) {
      return failed(error instanceof Error ? error.message : String(error));
    }
    const unfinished: VsphereMigrationDetails = { task: task.value, task_start_time: null, task_complete_time: null, event: null };
    let info: TaskInfo | 'interrupted' | 'timeout';
    try {
      info = await this.tasks.wait(task, signal, requestedS + this.migrationSeconds);
    } catch (error) {
      return failed(error instanceof Error ? error.message : String(error), unfinished);
    }
    const seenS = this.clock.now();
    if (info === 'interrupted') {
      return {
        ...NO_MEASURES,
        started_s: requestedS,
        ended_s: seenS,
        status: 'interrupted',
        reason: `interrupted; vCenter task ${task.value} was left running`,
        details: { vsphere: unfinished },
      };
    }
    if (info === 'timeout') return failed(`task ${task.value} not done after ${this.migrationSeconds} s (timeouts.migrationSeconds)`, unfinished);
    const startedS = clamp(this.runSeconds(info.startTime) ?? requestedS, requestedS, seenS);
    const endedS = clamp(this.runSeconds(info.completeTime) ?? seenS, startedS, seenS);
    const times = { task: task.value, task_start_time: info.startTime?.text ?? null, task_complete_time: info.completeTime?.text ?? null };
    if (info.state === 'success') {
      vm.host = target.ref;
      const event = await this.events.find(vm.ref, info, target.name);
      return { ...NO_MEASURES, started_s: startedS, ended_s: endedS, status: 'succeeded', reason: '', details: { vsphere: { ...times, event } } };
    }
    return { ...NO_MEASURES, started_s: startedS, ended_s: endedS, status: 'failed', reason: taskFailure(info), details: { vsphere: { ...times, event: null } } };
  }

  private runSeconds(time: TaskInfo['startTime']): number | undefined {
    return time === undefined ? undefined : this.serverClock.runSeconds(time.date);
  }
}

function taskFailure(info: TaskInfo): string {
  if (!info.error) return 'the task failed without a fault';
  return `${info.error.fault}${info.error.message ? `: ${info.error.message}` : ''}`;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
