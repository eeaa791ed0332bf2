import net from 'node:net';

/** An event QEMU sent, e.g. `MIGRATION` with `{ status }`. */
export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** A command QEMU refused: its error class and description. */
export class QmpError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    description: string,
  ) {
    super(`${command}: ${description}`);
    this.name = 'QmpError';
  }
}

interface Pending {
  command: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** How long a command may go unanswered before it fails: QEMU answers at once unless it is stuck. */
export const QMP_COMMAND_TIMEOUT_MS = 60_000;

/**
 * A client of QEMU's machine protocol (QMP) over its unix socket: one JSON object a line,
 * commands matched to answers by id, events handed to listeners.
 */
export class QmpClient {
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: QmpEvent) => void>();
  private buffer = '';
  private nextId = 1;
  private closedError: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    const fail = (error: Error): void => {
      if (this.closedError) return;
      this.closedError = error;
      for (const pending of this.pending.values()) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`${pending.command}: ${error.message}`));
      }
      this.pending.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('QMP connection closed')));
  }

  /**
   * Connects to the socket at `path`, retrying until it accepts (QEMU creates it as it
   * starts) or `timeoutMs` passes, and enters command mode.
   */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = performance.now() + timeoutMs;
    let lastError: Error = new Error('not tried');
    while (performance.now() < deadline) {
      let client: QmpClient | null = null;
      try {
        const socket = await openSocket(path, Math.max(100, deadline - performance.now()));
        client = new QmpClient(socket);
        await client.greeting(Math.max(100, deadline - performance.now()));
        await client.execute('qmp_capabilities', undefined, Math.max(100, deadline - performance.now()));
        return client;
      } catch (error) {
        // A connection that did not get through the handshake is closed before the next try.
        client?.close();
        lastError = error as Error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(`cannot connect to QMP at ${path}: ${lastError.message}`);
  }

  /**
   * Runs `command` and resolves with its `return` value; rejects with a QmpError when QEMU
   * refuses it, and with an Error when the connection closes or no answer comes within `timeoutMs`.
   */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = QMP_COMMAND_TIMEOUT_MS): Promise<T> {
    if (this.closedError) return Promise.reject(new Error(`${command}: ${this.closedError.message}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${command}: no answer from QEMU within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (value: unknown) => void, reject, timer });
      this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id })}\n`);
    });
  }

  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  close(): void {
    this.socket.destroy();
  }

  private greetingWaiter: ((error?: Error) => void) | null = null;
  private greeted = false;

  private greeting(timeoutMs: number): Promise<void> {
    if (this.greeted) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.greetingWaiter = null;
        this.socket.destroy();
        reject(new Error('no QMP greeting'));
      }, timeoutMs);
      this.greetingWaiter = (error) => {
        clearTimeout(timer);
        this.greetingWaiter = null;
        if (error) reject(error);
        else resolve();
      };
      this.socket.once('close', () => this.greetingWaiter?.(new Error('closed before the QMP greeting')));
    });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (let newline = this.buffer.indexOf('\n'); newline >= 0; newline = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (line !== '') this.handle(line);
    }
  }

  private handle(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if ('QMP' in message) {
      this.greeted = true;
      this.greetingWaiter?.();
      return;
    }
    if (typeof message.event === 'string') {
      const event = message as unknown as QmpEvent;
      event.data ??= {};
      for (const listener of this.listeners) listener(event);
      return;
    }
    const id = message.id;
    if (typeof id !== 'number') return;
    const pending = this.pending.get(id);
    if (!pending) return; // answered after its timeout
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if ('error' in message) {
      const error = message.error as { class?: string; desc?: string };
      pending.reject(new QmpError(pending.command, error.class ?? 'GenericError', error.desc ?? 'failed'));
    } else {
      pending.resolve(message.return);
    }
  }
}

function openSocket(path: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timed out'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
