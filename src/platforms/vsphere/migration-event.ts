import type { VimSession } from './session.ts';
import type { MoRef } from './soap.ts';
import type { TaskInfo, VimEvent } from './vim-client.ts';

/** What vCenter logs when a VM has moved to another host: by a user's vMotion, or by DRS. */
const MIGRATED_EVENT_TYPES = ['VmMigratedEvent', 'DrsVmMigratedEvent'];
/** A VM's migrations since one task started: a handful; this only bounds the answer. */
const MAX_EVENTS = 100;

/** A migration's event as migration-details.jsonl records it: server times as the server wrote them. */
export interface MigrationEventRecord {
  type: string;
  key: number;
  created_time: string;
  message: string;
  source_host: string | null;
  target_host: string | null;
}

/**
 * The event of one task's migration among a VM's migrated events: the one in the task's event
 * chain where the server tells the chain (vCenter does); else the first created at or after the
 * task started that took the VM to `target`. Servers may ignore the query's time filter, so
 * the time is checked here.
 */
export function pickMigrationEvent(events: readonly VimEvent[], task: TaskInfo, target: string): VimEvent | undefined {
  const inChain = task.eventChainId !== undefined ? events.find((event) => event.chainId === task.eventChainId) : undefined;
  if (inChain) return inChain;
  const since = (task.startTime ?? task.queueTime)?.date.getTime() ?? -Infinity;
  return events
    .filter((event) => event.host === target && event.createdTime.date.getTime() >= since)
    .sort((a, b) => a.createdTime.date.getTime() - b.createdTime.date.getTime() || a.key - b.key)[0];
}

export function migrationEventRecord(event: VimEvent): MigrationEventRecord {
  return {
    type: event.type,
    key: event.key,
    created_time: event.createdTime.text,
    message: event.message,
    source_host: event.sourceHost ?? null,
    target_host: event.host ?? null,
  };
}

/** Reads migrations' events through the EventManager; a server without them costs one warning, never a migration. */
export class MigrationEvents {
  private warned = false;

  constructor(
    private readonly session: VimSession,
    private readonly warn: (message: string) => void,
  ) {}

  /** The VmMigratedEvent (or DrsVmMigratedEvent) of a task that moved `vm` to `target`, or null. */
  async find(vm: MoRef, task: TaskInfo, target: string): Promise<MigrationEventRecord | null> {
    try {
      const events = await this.session.run(() =>
        this.session.client.queryEvents({ entity: vm, eventTypes: MIGRATED_EVENT_TYPES, since: task.startTime ?? task.queueTime, maxCount: MAX_EVENTS }),
      );
      const event = pickMigrationEvent(events, task, target);
      return event ? migrationEventRecord(event) : null;
    } catch (error) {
      if (!this.warned) {
        this.warned = true;
        this.warn(`vSphere: migrations are recorded without their VmMigratedEvent: ${(error as Error).message}`);
      }
      return null;
    }
  }
}
