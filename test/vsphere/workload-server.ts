/**
 * The project's workload server (guest/server.c, the one the qemu lab's VMs run) compiled
 * natively with gcc into a temporary folder and run on 127.0.0.1 on a port the kernel picks.
 * It is stopped by its pid, and its folder removed, by `stop()`, or when this process exits.
 * Whether it can run here: test/qemu/support/lab-requirements.ts's serverSkipReason().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exec, findExecutable } from '../../src/exec.ts';
import { GUEST_DIR } from '../../src/platforms/qemu/guest-image.ts';

export interface WorkloadServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** What it answers in `x-server`. */
  name: string;
  stop(): Promise<void>;
}

/** Builds and starts the server; the caller must `stop()` it. */
export async function startWorkloadServer(name: string): Promise<WorkloadServer> {
  const gcc = findExecutable('gcc');
  if (!gcc) throw new Error('gcc not found: install the Debian package gcc (scripts/install-lab-deps.sh)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-workload-'));
  let child: ChildProcess | undefined;
  const killOnExit = (): void => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    const running = child;
    if (running?.pid !== undefined && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      process.kill(running.pid, 'SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const binary = path.join(dir, 'vmm-server');
    await exec(gcc, ['-O2', '-Wall', '-pthread', '-o', binary, path.join(GUEST_DIR, 'server.c')], { timeoutMs: 120_000 });
    const started = spawn(binary, ['--name', name, '--bind', '127.0.0.1', '--port', '0', '--max-mb', '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the workload server did not say it listens within 10 s: ${out}`)), 10_000);
      const read = (chunk: Buffer): void => {
        out += chunk.toString();
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      started.stdout?.on('data', read);
      started.stderr?.on('data', read);
      started.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the workload server exited (${code ?? signal}): ${out}`));
      });
    });
    return { url: `http://127.0.0.1:${port}`, name, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
