import type { ClientType } from '../script/experiment.ts';

/**
 * Closed-loop clients sending requests through the load balancer to the workload servers.
 * Each finished request is handed to the sink the load was created with.
 */
export interface Load {
  addClients(type: ClientType, count: number): void;
  /** Stops the `count` most recently added clients of `type`; each finishes its in-flight request. */
  removeClients(type: ClientType, count: number): void;
  /**
   * Stops every client and resolves once their in-flight requests are recorded. With
   * `signal` aborted, in-flight requests are given up and recorded as `aborted`.
   */
  stopAll(signal?: AbortSignal): Promise<void>;
}
