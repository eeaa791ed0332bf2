import net from 'node:net';
import { withTimeout } from './wait.ts';

/** A QMP command's `return`: an object for the commands the harness uses. */
export type QmpReturn = Record<string, unknown>;

interface Pending {
  resolve: (value: QmpReturn) => void;
  reject: (error: Error) => void;
}

/**
 * A QMP connection on a unix socket: the greeting, qmp_capabilities, then one command at a
 * time by id. Events are ignored. A command that QEMU answers with an error rejects with its
 * class and description; a closed connection rejects whatever is pending.
 */
export class QmpClient {
  readonly #socket: net.Socket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #buffer = '';
  #closedWith: Error | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#receive(chunk));
    socket.on('error', (error) => this.#fail(new Error(`QMP ${error.message}`)));
    socket.on('close', () => this.#fail(new Error('QMP connection closed')));
  }

  /** Connects to `socketPath` and leaves capabilities negotiation done. */
  static async connect(socketPath: string, timeoutMs: number): Promise<QmpClient> {
    const socket = net.createConnection(socketPath);
    const greeting = new Promise<void>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
        if (!text.includes('\n')) return;
        socket.off('data', onData);
        socket.off('error', reject);
        if (!text.includes('"QMP"')) reject(new Error(`not a QMP greeting: ${text.slice(0, 200)}`));
        else resolve();
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
    try {
      await withTimeout(`the QMP greeting on ${socketPath}`, timeoutMs, greeting);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    const client = new QmpClient(socket);
    await client.execute('qmp_capabilities', {}, timeoutMs);
    return client;
  }

  execute(command: string, args: Record<string, unknown>, timeoutMs: number): Promise<QmpReturn> {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    const id = this.#nextId++;
    const answer = new Promise<QmpReturn>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#socket.write(`${JSON.stringify({ execute: command, arguments: args, id })}\n`);
    return withTimeout(`QMP ${command}`, timeoutMs, answer).finally(() => this.#pending.delete(id));
  }

  close(): void {
    this.#socket.destroy();
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let newline: number;
    while ((newline = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, newline).trim();
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line) this.#answer(JSON.parse(line) as { id?: number; return?: QmpReturn; error?: { class: string; desc: string } });
    }
  }

  #answer(message: { id?: number; return?: QmpReturn; error?: { class: string; desc: string } }): void {
    if (message.id === undefined) return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    if (message.error) pending.reject(new Error(`QMP error ${message.error.class}: ${message.error.desc}`));
    else pending.resolve(message.return ?? {});
  }

  #fail(error: Error): void {
    this.#closedWith ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
