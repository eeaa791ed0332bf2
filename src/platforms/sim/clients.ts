import type { Load } from '../../load/load.ts';
import type { RequestRecord } from '../../record/records.ts';
import type { VirtualClock } from '../../run/virtual-clock.ts';
import type { ClientType } from '../../script/experiment.ts';
import type { NetworkConfig } from './config.ts';
import type { Job, SimVm } from './vm.ts';
import type { RequestWork } from './workloads.ts';

interface SimClient {
  readonly id: string;
  readonly type: ClientType;
  stopping: boolean;
  inFlight: { sentS: number; job: Job; server: SimVm } | null;
  /** Its requests' `onDone`: one function a client rather than one a request. */
  readonly onDone: Job['onDone'];
}

/**
 * Closed-loop clients behind a load balancer that hands requests to the servers in turn,
 * counting requests like mod_proxy_balancer's `byrequests` with equal weights.
 */
export class SimLoad implements Load {
  private readonly running = new Map<ClientType, SimClient[]>();
  private readonly draining = new Set<SimClient>();
  private nextServer = 0;
  private nextId = 1;
  private drained: (() => void) | null = null;
  private readonly oneWayS: number;

  constructor(
    private readonly clock: VirtualClock,
    private readonly servers: readonly SimVm[],
    private readonly makeWork: (type: ClientType) => RequestWork,
    private readonly network: NetworkConfig,
    private readonly onRequest: (record: RequestRecord) => void,
  ) {
    this.oneWayS = network.rttMs / 2000;
  }

  addClients(type: ClientType, count: number): void {
    const clients = this.running.get(type) ?? [];
    this.running.set(type, clients);
    for (let i = 0; i < count; i++) {
      const onDone = (_job: Job, doneS: number): void => this.served(client, doneS);
      const client: SimClient = { id: `${type}-${this.nextId++}`, type, stopping: false, inFlight: null, onDone };
      clients.push(client);
      this.send(client);
    }
  }

  removeClients(type: ClientType, count: number): void {
    const clients = this.running.get(type) ?? [];
    for (const client of clients.splice(Math.max(0, clients.length - count))) this.stop(client);
  }

  stopAll(signal?: AbortSignal): Promise<void> {
    for (const clients of this.running.values()) for (const client of clients.splice(0)) this.stop(client);
    const giveUp = (): void => {
      const now = this.clock.now();
      for (const client of this.draining) {
        if (client.inFlight) this.record(client, now, client.inFlight.server.name, null, 'aborted');
        client.inFlight = null;
      }
      this.draining.clear();
      this.settleDrain();
    };
    if (signal?.aborted) giveUp();
    if (this.draining.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
      signal?.addEventListener('abort', giveUp, { once: true });
    });
  }

  private stop(client: SimClient): void {
    client.stopping = true;
    if (client.inFlight) this.draining.add(client);
  }

  private send(client: SimClient): void {
    const server = this.servers[this.nextServer++ % this.servers.length] as SimVm;
    const sentS = this.clock.now();
    const job: Job = {
      work: this.makeWork(client.type),
      phaseIndex: 0,
      finishServed: 0,
      dueGuestS: 0,
      arrivedS: sentS,
      untouchedMB: 0,
      onDone: client.onDone,
    };
    client.inFlight = { sentS, job, server };
    this.clock.at(sentS + this.oneWayS, () => {
      server.host.addTrafficKB(this.network.requestKB);
      server.deliver(job);
    });
  }

  private served(client: SimClient, doneS: number): void {
    const inFlight = client.inFlight;
    if (!inFlight) return;
    const server = inFlight.server;
    server.host.addTrafficKB(this.network.responseKB);
    const processingMs = (doneS - inFlight.job.arrivedS) * 1000;
    this.clock.at(doneS + this.oneWayS, () => {
      if (client.inFlight !== inFlight) return;
      this.record(client, this.clock.now(), server.name, processingMs, 'ok');
      client.inFlight = null;
      if (!client.stopping) return this.send(client);
      this.draining.delete(client);
      if (this.draining.size === 0) this.settleDrain();
    });
  }

  private record(client: SimClient, receivedS: number, server: string, processingMs: number | null, status: RequestRecord['status']): void {
    const sentS = (client.inFlight as { sentS: number }).sentS;
    this.onRequest({
      client_type: client.type,
      client_id: client.id,
      sent_s: sentS,
      received_s: receivedS,
      latency_ms: (receivedS - sentS) * 1000,
      server,
      processing_ms: processingMs,
      status,
      // The sim's servers keep their data intact: an answer is checked and clean.
      corrupt_words: status === 'ok' ? 0 : null,
    });
  }

  private settleDrain(): void {
    const drained = this.drained;
    this.drained = null;
    if (drained) {
      this.clock.requestYield();
      drained();
    }
  }
}
