import { Agent, request } from 'undici';
import type { RequestRecord, RequestStatus } from '../record/records.ts';
import type { Clock } from '../run/clock.ts';
import type { ClientType } from '../script/experiment.ts';
import type { Load } from './load.ts';

/** Where real clients send their requests, and what each type asks of the workload servers. */
export interface HttpLoadTarget {
  /** Base URL of the load balancer, e.g. `http://lb` when it listens on `socketPath`. */
  baseUrl: string;
  /** A unix socket to reach the load balancer through, instead of TCP. */
  socketPath?: string;
  /** The request path of each client type, e.g. `/cpu?digits=2000`. */
  paths: Record<ClientType, string>;
  requestTimeoutSeconds: number;
  /** A client stops by itself after this many requests, so no load loop is unbounded. */
  maxRequestsPerClient: number;
  /** Pause after a failed request, so that a dead balancer is not hammered. */
  errorPauseSeconds: number;
}

/** The workload servers answer with these headers; see guest/server.c. */
export const SERVER_HEADER = 'x-server';
export const PROCESSING_HEADER = 'x-processing-ms';
/** The words of its data a job found wrong when it checked them; absent when the server checked nothing. */
export const CORRUPT_WORDS_HEADER = 'x-corrupt-words';

interface HttpClient {
  readonly id: string;
  readonly type: ClientType;
  stopping: boolean;
  inFlight: { controller: AbortController; sentS: number } | null;
  done: Promise<void>;
}

/** Closed-loop HTTP clients: each sends one request at a time and records the answer. */
export class HttpLoad implements Load {
  private readonly running = new Map<ClientType, HttpClient[]>();
  private readonly all = new Set<HttpClient>();
  private readonly dispatcher: Agent;
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    private readonly target: HttpLoadTarget,
    private readonly onRequest: (record: RequestRecord) => void,
  ) {
    this.dispatcher = new Agent({ keepAliveTimeout: 30_000, connect: target.socketPath ? { socketPath: target.socketPath } : {} });
  }

  addClients(type: ClientType, count: number): void {
    const clients = this.running.get(type) ?? [];
    this.running.set(type, clients);
    for (let i = 0; i < count; i++) {
      const client: HttpClient = { id: `${type}-${this.nextId++}`, type, stopping: false, inFlight: null, done: Promise.resolve() };
      client.done = this.loop(client).finally(() => this.all.delete(client));
      clients.push(client);
      this.all.add(client);
    }
  }

  removeClients(type: ClientType, count: number): void {
    const clients = this.running.get(type) ?? [];
    for (const client of clients.splice(Math.max(0, clients.length - count))) client.stopping = true;
  }

  async stopAll(signal?: AbortSignal): Promise<void> {
    for (const client of this.all) client.stopping = true;
    const giveUp = (): void => {
      for (const client of this.all) client.inFlight?.controller.abort();
    };
    if (signal?.aborted) giveUp();
    signal?.addEventListener('abort', giveUp, { once: true });
    await Promise.all([...this.all].map((client) => client.done));
    signal?.removeEventListener('abort', giveUp);
    await this.dispatcher.close();
  }

  /** How many requests sent at or before `timeS` are still waiting for their answer. */
  unansweredSentBy(timeS: number): number {
    let count = 0;
    for (const client of this.all) if (client.inFlight && client.inFlight.sentS <= timeS) count++;
    return count;
  }

  private async loop(client: HttpClient): Promise<void> {
    const url = new URL(this.target.paths[client.type], this.target.baseUrl);
    for (let sent = 0; sent < this.target.maxRequestsPerClient && !client.stopping; sent++) {
      const ok = await this.send(client, url);
      if (!ok && !client.stopping) await this.clock.sleepUntil(this.clock.now() + this.target.errorPauseSeconds);
    }
  }

  /** Sends one request and records it; false when no answer came (a corrupt one is an answer). */
  private async send(client: HttpClient, url: URL): Promise<boolean> {
    const controller = new AbortController();
    const sentS = this.clock.now();
    client.inFlight = { controller, sentS };
    const timeoutMs = this.target.requestTimeoutSeconds * 1000;
    let record: Pick<RequestRecord, 'server' | 'processing_ms' | 'status' | 'corrupt_words'>;
    try {
      const response = await request(url, {
        dispatcher: this.dispatcher,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await response.body.dump();
      const server = headerValue(response.headers[SERVER_HEADER]);
      const processing = Number(headerValue(response.headers[PROCESSING_HEADER]));
      const corruptWords = wholeNumber(headerValue(response.headers[CORRUPT_WORDS_HEADER]));
      record = {
        server,
        processing_ms: Number.isFinite(processing) ? processing : null,
        status: answerStatus(response.statusCode, corruptWords),
        corrupt_words: corruptWords,
      };
    } catch {
      record = { server: '', processing_ms: null, status: controller.signal.aborted ? 'aborted' : 'error', corrupt_words: null };
    } finally {
      client.inFlight = null;
    }
    const receivedS = this.clock.now();
    this.onRequest({
      client_type: client.type,
      client_id: client.id,
      sent_s: sentS,
      received_s: receivedS,
      latency_ms: (receivedS - sentS) * 1000,
      ...record,
    });
    return record.status === 'ok' || record.status === 'corrupt';
  }
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/** Anything but a 200 is an error; a 200 whose server found words of its data wrong is corrupt. */
function answerStatus(statusCode: number, corruptWords: number | null): RequestStatus {
  if (statusCode !== 200) return 'error';
  return corruptWords !== null && corruptWords > 0 ? 'corrupt' : 'ok';
}

/** A header's whole number, or null when it is absent or not one (the server cannot tell). */
function wholeNumber(text: string): number | null {
  return /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : null;
}
