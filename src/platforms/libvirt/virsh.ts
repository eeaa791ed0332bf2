import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { exec, findExecutable } from '../../exec.ts';

/** libvirt's own words from a failed virsh call: its `error:` lines, without virsh's preamble. */
export function libvirtReason(message: string): string {
  const errors = message
    .split('\n')
    .map((line) => /(?:^|\s)error:\s*(.*)$/.exec(line)?.[1]?.trim() ?? '')
    .filter((line) => line !== '');
  return errors.length > 0 ? errors.join('; ') : message.trim();
}

/** virsh, with argument arrays (never a shell) and a timeout on every call; a failure rejects with libvirt's reason. */
export class Virsh {
  private constructor(
    private readonly executable: string,
    private readonly timeoutMs: number,
  ) {}

  /** Null when virsh is not installed (Debian's libvirt-clients). */
  static find(timeoutMs: number): Virsh | null {
    const executable = findExecutable('virsh');
    return executable === null ? null : new Virsh(executable, timeoutMs);
  }

  /**
   * A long-running virsh (`event --loop`), each line of its output to `onLine`, ended by
   * `stop()` or after `timeoutSeconds` (its own --timeout) whichever comes first.
   */
  watch(uri: string, args: readonly string[], timeoutSeconds: number, onLine: (line: string) => void): { stop: () => void } {
    const child = spawn(this.executable, ['--quiet', '-c', uri, ...args, '--timeout', String(Math.ceil(timeoutSeconds))], { stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', onLine);
    child.on('error', () => lines.close());
    return {
      stop: () => {
        lines.close();
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      },
    };
  }

  async run(uri: string, args: readonly string[], timeoutMs = this.timeoutMs): Promise<string> {
    try {
      const { stdout } = await exec(this.executable, ['--quiet', '-c', uri, ...args], { timeoutMs });
      return stdout;
    } catch (error) {
      throw new Error(libvirtReason((error as Error).message), { cause: error });
    }
  }
}

/** `key: value` lines (virsh domjobinfo, dominfo) as a map. */
export function parseKeyValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) values.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return values;
}
