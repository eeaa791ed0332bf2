import net from 'node:net';
import { PROCESSING_HEADER, SERVER_HEADER } from './http-load.ts';
import type { Clock } from '../run/clock.ts';

/** What a probe saw over one migration. */
export interface ProbeResult {
  /** The longest time between two answers from the VM (or from the last answer to the end when none came at the end). */
  maxGapMs: number;
  /** When the longest gap started, seconds on the run's clock. */
  maxGapAtS: number | null;
  answers: number;
  /** Requests that got no answer from the VM: HAProxy errors, broken connections. */
  errors: number;
  /** True when the VM answered a request sent after `settleFrom`. */
  settled: boolean;
  /**
   * The median and 99th percentile of the other gaps: how finely the probe sees at all. A
   * felt downtime near `gapP99Ms` is the probe's own jitter, not the migration's (null with
   * fewer than two gaps).
   */
  gapP50Ms: number | null;
  gapP99Ms: number | null;
}

const HEAD_END = '\r\n\r\n';

/** Where the probe reaches the load balancer: its unix socket, or its TCP address. */
export type BalancerAddress = { socketPath: string } | { host: string; port: number };

/**
 * A probe polling one VM through the load balancer's per-VM ping path (`/vm/NAME/ping` by
 * default) over one kept-alive connection: it sends a tiny request, waits for the answer, and sends the next one
 * `intervalMs` after the previous was sent (at once when the answer took longer). The
 * longest gap between two answers is what a client felt of the migration. A broken
 * connection is reopened; an answer counts only when it is a 200 from the VM itself.
 */
export class Probe {
  private socket: net.Socket | null = null;
  private buffer = '';
  /** Settles the request in flight, sent on `waitingOn`. */
  private waiting: ((ok: boolean) => void) | null = null;
  private waitingOn: net.Socket | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private lastAnswerS: number | null = null;
  private firstSendS: number | null = null;
  private maxGapMs = 0;
  private maxGapAtS: number | null = null;
  private readonly gapsMs: number[] = [];
  private answers = 0;
  private errors = 0;
  private settleFrom = Number.POSITIVE_INFINITY;
  private settled = false;
  private onSettled: (() => void) | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly balancer: BalancerAddress,
    private readonly vm: string,
    private readonly intervalMs: number,
    /** The probe stops by itself after this long, whatever happens (every load loop is bounded). */
    private readonly maxSeconds: number,
    /** The balancer's path to this VM's ping. */
    private readonly path = `/vm/${vm}/ping`,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** True once the probe stopped: asked to, or at its time limit. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Waits until the VM answers a request sent after now (it runs on its new host), or
   * `timeoutSeconds`, then stops and returns what the probe saw.
   */
  async finish(timeoutSeconds: number): Promise<ProbeResult> {
    this.settleFrom = this.clock.now();
    if (!this.settled && !this.stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutSeconds * 1000);
        this.onSettled = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.stop();
  }

  /** Stops at once and returns what the probe saw. */
  async stop(): Promise<ProbeResult> {
    this.stopped = true;
    const endS = this.clock.now();
    this.waiting?.(false);
    this.socket?.destroy();
    await this.loop;
    // No answer at the end: the gap runs to now.
    const since = this.lastAnswerS ?? this.firstSendS;
    if (!this.settled && since !== null) this.noteGap(since, endS);
    return { maxGapMs: this.maxGapMs, maxGapAtS: this.maxGapAtS, answers: this.answers, errors: this.errors, settled: this.settled, ...this.otherGaps() };
  }

  private otherGaps(): { gapP50Ms: number | null; gapP99Ms: number | null } {
    const others = this.gapsMs.sort((a, b) => a - b).slice(0, -1);
    if (others.length === 0) return { gapP50Ms: null, gapP99Ms: null };
    const at = (q: number): number => others[Math.min(others.length - 1, Math.floor(q * others.length))] as number;
    return { gapP50Ms: at(0.5), gapP99Ms: at(0.99) };
  }

  private async run(): Promise<void> {
    const deadline = this.clock.now() + this.maxSeconds;
    const request = `GET ${this.path} HTTP/1.1\r\nHost: ${'host' in this.balancer ? this.balancer.host : 'lab'}\r\n\r\n`;
    while (!this.stopped && this.clock.now() < deadline) {
      const sentS = this.clock.now();
      this.firstSendS ??= sentS;
      const ok = await this.send(request);
      if (this.stopped) break;
      if (ok) {
        const now = this.clock.now();
        if (this.lastAnswerS !== null) this.noteGap(this.lastAnswerS, now);
        this.lastAnswerS = now;
        this.answers++;
        if (sentS >= this.settleFrom && !this.settled) {
          this.settled = true;
          this.onSettled?.();
        }
      } else {
        this.errors++;
      }
      const nextS = sentS + this.intervalMs / 1000;
      const waitMs = (nextS - this.clock.now()) * 1000;
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(waitMs)));
      else if (!ok) await new Promise((resolve) => setTimeout(resolve, 5)); // a failing path is not hammered
    }
    this.stopped = true;
    this.socket?.destroy();
    this.onSettled?.(); // a `finish` waiting for an answer that will not come returns now
  }

  private noteGap(fromS: number, toS: number): void {
    const gapMs = (toS - fromS) * 1000;
    this.gapsMs.push(gapMs);
    if (gapMs > this.maxGapMs) {
      this.maxGapMs = gapMs;
      this.maxGapAtS = fromS;
    }
  }

  /** Sends one request on the kept-alive connection (opening it if needed); true for a 200 from the VM. */
  private send(request: string): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = this.connection();
      this.waitingOn = socket;
      this.waiting = (ok) => {
        this.waiting = null;
        this.waitingOn = null;
        resolve(ok);
      };
      socket.write(request);
    });
  }

  private connection(): net.Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    this.buffer = '';
    const socket = 'socketPath' in this.balancer ? net.connect(this.balancer.socketPath) : net.connect(this.balancer.port, this.balancer.host);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.parse();
    });
    const broken = (): void => {
      if (this.socket === socket) this.socket = null;
      // Only the request sent on this connection failed (its 'close' may come after a new one was opened).
      if (this.waitingOn === socket) this.waiting?.(false);
    };
    socket.on('error', broken);
    socket.on('close', broken);
    this.socket = socket;
    return socket;
  }

  /** Takes one whole response off the buffer, if there is one, and settles the waiting request. */
  private parse(): void {
    const headEnd = this.buffer.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.buffer.slice(0, headEnd);
    const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const bodyLength = lengthMatch ? Number(lengthMatch[1]) : 0;
    const total = headEnd + HEAD_END.length + bodyLength;
    if (this.buffer.length < total) return;
    this.buffer = this.buffer.slice(total);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
    const server = new RegExp(`\\r\\n${SERVER_HEADER}:\\s*([^\\r]*)`, 'i').exec(head)?.[1]?.trim();
    const fromVm = status === 200 && server === this.vm && new RegExp(`\\r\\n${PROCESSING_HEADER}:`, 'i').test(head);
    const closing = /\r\nconnection:\s*close/i.test(head);
    this.waiting?.(fromVm);
    if (closing) this.socket?.destroy();
  }
}
