/** Helpers for tests that spawn the real CLI: `node --import tsx src/cli/main.ts ...`. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');

/** Variables that would change what the CLI prints (debug stacks, colours) or how node behaves. */
const NOISY_ENV = ['CI', 'VM_MONITORING_DEBUG', 'NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'FORCE_COLOR', 'NO_COLOR', 'DEBUG'];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall milliseconds from the spawn to the exit. */
  wallMs: number;
}

export interface CliOptions {
  /** Called with the child as soon as it is spawned (to signal it, for example). */
  onSpawn?: (child: ChildProcess) => void;
  /** Called with the child and all stdout so far, each time stdout data arrives. */
  onStdout?: (child: ChildProcess, stdoutSoFar: string) => void;
  /** The same for stderr. */
  onStderr?: (child: ChildProcess, stderrSoFar: string) => void;
  /** The child is killed (and the promise rejects) after this long; default 30 s. */
  timeoutMs?: number;
}

/** This process's environment without what would change what the CLI prints. */
export function cliEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !NOISY_ENV.includes(name)));
}

/** Runs the CLI with `args` from the repository root and collects what it wrote. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env = cliEnv();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    options.onStdout?.(child, stdout);
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    options.onStderr?.(child, stderr);
  });
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vm-monitoring ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

/** Runs `body` with a fresh temporary directory, removed afterwards whatever happens. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-cli-'));
  try {
    return await body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `lines` to `dir/name` and returns its path. */
export function writeScript(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * Parses CSV text as RFC 4180 (quoted cells may hold commas, quotes and newlines) into rows
 * of cells. Throws on a malformed quote or when the text does not end with a newline.
 */
export function parseCsv(text: string): string[][] {
  if (text !== '' && !text.endsWith('\n')) throw new Error(`CSV does not end with a newline: ...${JSON.stringify(text.slice(-80))}`);
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"' && cell === '') {
      // A quoted cell.
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error(`unterminated quoted cell in row ${rows.length + 1}`);
        cell += text.slice(i, q);
        if (text[q + 1] === '"') {
          cell += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      const next = text[i];
      if (next !== ',' && next !== '\n') throw new Error(`text after a quoted cell in row ${rows.length + 1}`);
      continue;
    }
    if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else if (c === '"') {
      throw new Error(`quote inside an unquoted cell in row ${rows.length + 1}`);
    } else {
      cell += c;
    }
    i++;
  }
  return rows;
}

/** The rows of a CSV file as objects keyed by its header; every row must have the header's width. */
export function readCsvFile(file: string): { header: string[]; rows: Record<string, string>[] } {
  const [header, ...rows] = parseCsv(fs.readFileSync(file, 'utf8'));
  if (header === undefined) throw new Error(`${file} is empty`);
  return {
    header,
    rows: rows.map((cells, index) => {
      if (cells.length !== header.length) {
        throw new Error(`${file}: row ${index + 2} has ${cells.length} cells, the header ${header.length}`);
      }
      return Object.fromEntries(header.map((name, column) => [name, cells[column] as string]));
    }),
  };
}

/** Bad input: exit 2, one stderr line, no stack trace, nothing on stdout; returns the line. */
export function assertBadInput(result: CliResult, context: string): string {
  const detail = `${context}\nstderr: ${result.stderr}\nstdout: ${result.stdout.slice(0, 300)}`;
  assert.equal(result.code, 2, detail);
  assert.equal(result.stdout, '', detail);
  assert.ok(result.stderr.endsWith('\n'), detail);
  const lines = result.stderr.slice(0, -1).split('\n');
  assert.equal(lines.length, 1, `expected one stderr line: ${detail}`);
  assert.doesNotMatch(result.stderr, /^\s+at /m, `stack trace: ${detail}`);
  assert.doesNotMatch(result.stderr, /\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/, `an internal error: ${detail}`);
  return lines[0] as string;
}
