import type { Inventory, MigrationOrder, MigrationOutcome, Platform } from '../platforms/platform.ts';
import type { MigrationKind, RecordSink } from '../record/records.ts';
import { MigrationSlots } from './migration-slots.ts';
import type { RunObserver } from './run-observer.ts';

/**
 * Starts migrations on the platform and records them: keeps where each VM is, the per-host
 * slots, and which VMs are moving. A VM that is moving cannot be moved again until it lands.
 */
export class MigrationDispatcher {
  private readonly hostOf = new Map<string, string>();
  private readonly moving = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  /** Hosts that take no VM, and why (a host in maintenance). */
  private readonly closed = new Map<string, string>();
  private readonly slots: MigrationSlots;

  constructor(
    private readonly platform: Platform,
    private readonly records: RecordSink,
    inventory: Inventory,
    maxPerHost: number,
    private readonly signal: AbortSignal,
    private readonly observer?: RunObserver,
  ) {
    this.slots = new MigrationSlots(maxPerHost);
    for (const vm of inventory.vms) this.hostOf.set(vm.name, vm.host);
  }

  hostOfVm(vm: string): string | undefined {
    return this.hostOf.get(vm);
  }

  canStart(vm: string, target: string): boolean {
    const source = this.hostOf.get(vm);
    return source !== undefined && !this.moving.has(vm) && this.slots.isFree(source, target);
  }

  /** Every migration to `host` fails with `reason` until it is reopened. */
  closeTarget(host: string, reason: string): void {
    this.closed.set(host, reason);
  }

  reopenTarget(host: string): void {
    this.closed.delete(host);
  }

  acceptsVms(host: string): boolean {
    return !this.closed.has(host);
  }

  /** Whether a migration from or to `host` is running. */
  isBusy(host: string): boolean {
    return this.slots.count(host) > 0;
  }

  /** Resolves when some migration has ended (or at once when the run is interrupted). */
  nextEnd(): Promise<void> {
    return this.slots.nextRelease(this.signal);
  }

  /** Resolves when `vm` may start moving to `target`, or when the run is interrupted. */
  async waitUntilStartable(vm: string, target: string): Promise<void> {
    while (!this.canStart(vm, target) && !this.signal.aborted) await this.slots.nextRelease(this.signal);
  }

  /** Starts the migration (the caller checked `canStart`); it is recorded when it ends. */
  start(vm: string, target: string, kind: MigrationKind): void {
    const source = this.hostOf.get(vm) as string;
    const requestedS = this.platform.clock.now();
    const refusal = source === target ? `${vm} is already on ${target}` : this.closed.get(target);
    if (refusal !== undefined) {
      this.records.migration({
        vm, source, target, requested_s: requestedS, started_s: requestedS, ended_s: requestedS,
        duration_ms: 0, downtime_ms: null, client_downtime_ms: null, bytes: null, passes: null,
        status: 'failed', reason: refusal, kind,
      });
      return;
    }
    this.slots.take(source, target);
    this.moving.add(vm);
    const observer = this.observer;
    const order: MigrationOrder = observer ? { vm, source, target, onProgress: (progress) => observer.migrationProgress(vm, progress) } : { vm, source, target };
    observer?.migrationStarted({ vm, source, target, kind, requested_s: requestedS });
    // Through a promise chain, so that a platform throwing instead of rejecting is recorded too.
    const migration = Promise.resolve()
      .then(() => this.platform.migrate(order, this.signal))
      .catch((error: unknown): MigrationOutcome => {
        const now = this.platform.clock.now();
        const reason = error instanceof Error ? error.message : String(error);
        return { started_s: requestedS, ended_s: now, downtime_ms: null, client_downtime_ms: null, bytes: null, passes: null, status: 'failed', reason };
      })
      .then((outcome) => {
        if (outcome.status === 'succeeded') this.hostOf.set(vm, target);
        this.records.migration({
          vm, source, target, requested_s: requestedS, ...outcome,
          // The seed's migration time: from triggering the migration to its completion.
          duration_ms: (outcome.ended_s - requestedS) * 1000, kind,
        });
      })
      .finally(() => {
        this.moving.delete(vm);
        this.slots.give(source, target);
        this.running.delete(migration);
      });
    this.running.add(migration);
  }

  /** Resolves when every started migration has ended. */
  async allEnded(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}
