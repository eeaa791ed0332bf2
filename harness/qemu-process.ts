import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { killOnExit } from './teardown.ts';
import { QmpClient } from './qmp-client.ts';
import { waitFor, withTimeout } from './wait.ts';

const TERMINATE_GRACE_MS = 5_000;
const CONSOLE_POLL_MS = 100;

/** One QEMU the harness started: its pid, its end, and the files it writes. */
export class QemuProcess {
  readonly pid: number;
  readonly serialFile: string;
  readonly logFile: string;
  readonly qmpSocket: string;
  readonly #exited: Promise<string>;
  #exitedWith: string | undefined;
  readonly #unregister: () => void;

  private constructor(pid: number, exited: Promise<string>, files: { serialFile: string; logFile: string; qmpSocket: string }) {
    this.pid = pid;
    this.serialFile = files.serialFile;
    this.logFile = files.logFile;
    this.qmpSocket = files.qmpSocket;
    this.#unregister = killOnExit(pid);
    // Forgotten as soon as it has exited, so that a take-down never signals a reused pid.
    this.#exited = exited.then((how) => {
      this.#exitedWith = how;
      this.#unregister();
      return how;
    });
  }

  /**
   * Starts `qemu` with `args` plus the serial console on `serialFile` (made empty here, so that
   * the harness reads only this boot's output), QMP on `qmpSocket` and stdout/stderr to `logFile`.
   */
  static start(qemu: string, args: readonly string[], files: { serialFile: string; logFile: string; qmpSocket: string }): QemuProcess {
    fs.writeFileSync(files.serialFile, '', { flag: 'wx' });
    const log = fs.openSync(files.logFile, 'wx');
    const child = spawn(
      qemu,
      [...args, '-chardev', `file,id=serial0,path=${files.serialFile}`, '-serial', 'chardev:serial0', '-qmp', `unix:${files.qmpSocket},server=on,wait=off`],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exited with code ${code}`));
      child.once('error', (error) => resolve(`could not start: ${error.message}`));
    });
    if (child.pid === undefined) throw new Error(`cannot start ${qemu}`);
    return new QemuProcess(child.pid, exited, files);
  }

  /** How it ended, or undefined while it runs. */
  get exitedWith(): string | undefined {
    return this.#exitedWith;
  }

  /** The end of its log (QEMU's errors), for messages. */
  logTail(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      return '';
    }
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.#exitedWith === undefined) {
      this.#signal('SIGTERM');
      try {
        await withTimeout(`QEMU ${this.pid} to exit`, TERMINATE_GRACE_MS, this.#exited);
      } catch {
        this.#signal('SIGKILL');
        await withTimeout(`QEMU ${this.pid} to exit after SIGKILL`, TERMINATE_GRACE_MS, this.#exited);
      }
    }
  }

  /** The first line of its serial console that `pattern` matches; fails when QEMU exits first or after `timeoutMs`. */
  async waitForConsole(pattern: RegExp, timeoutMs: number): Promise<string> {
    return waitFor(`${pattern} on the serial console of QEMU ${this.pid}`, timeoutMs, CONSOLE_POLL_MS, () => {
      const line = this.console().split('\n').find((text) => pattern.test(text));
      if (line !== undefined) return line;
      if (this.#exitedWith !== undefined) throw new Error(`QEMU ${this.pid} ${this.#exitedWith} before ${pattern} on its console: ${this.logTail()}`);
      return undefined;
    });
  }

  console(): string {
    return fs.readFileSync(this.serialFile, 'utf8');
  }

  /** A QMP connection, once QEMU has made its socket. */
  async connectQmp(timeoutMs: number): Promise<QmpClient> {
    await waitFor(`the QMP socket of QEMU ${this.pid}`, timeoutMs, CONSOLE_POLL_MS, () => {
      if (this.#exitedWith !== undefined) throw new Error(`QEMU ${this.pid} ${this.#exitedWith}: ${this.logTail()}`);
      return fs.existsSync(this.qmpSocket) ? true : undefined;
    });
    return QmpClient.connect(this.qmpSocket, timeoutMs);
  }

  #signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch {
      // Already gone.
    }
  }
}
