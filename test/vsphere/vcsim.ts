/**
 * govmomi's vCenter simulator for the tests: builds test/vsphere/vcsim/*.go once (the
 * binary cached by the hash of its sources), makes a CA and a server certificate with
 * openssl, starts the simulator on 127.0.0.1 and stops it by its pid.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE_DIR = path.join(HERE, 'vcsim');
const GOVMOMI = '/usr/share/gocode/src/github.com/vmware/govmomi/simulator';
const CACHE = path.join(os.tmpdir(), 'vm-monitoring-vcsim-cache');

/** Why the simulator cannot run here, naming the Debian packages to install; undefined when it can. */
export function vcsimMissing(): string | undefined {
  const missing: string[] = [];
  if (!onPath('go')) missing.push('golang-go');
  if (!fs.existsSync(GOVMOMI)) missing.push('golang-github-vmware-govmomi-dev');
  if (!onPath('openssl')) missing.push('openssl');
  return missing.length > 0 ? `vcsim needs the Debian package(s) ${missing.join(', ')} (bash scripts/install-vcsim-deps.sh)` : undefined;
}

/**
 * `describe`/`it` options: skip with the reason outside CI; in CI (CI=true) a missing
 * package is a failure, not a skip.
 */
export function vcsimSkip(): { skip: string } | { skip: false } {
  const missing = vcsimMissing();
  if (missing && process.env.CI === 'true') throw new Error(`CI: ${missing}`);
  return missing ? { skip: missing } : { skip: false };
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, command)));
}

/** The fixture binary, built once per version of its sources. */
export async function vcsimBinary(): Promise<string> {
  const hash = createHash('sha256');
  const sources = [...fs.readdirSync(FIXTURE_DIR).filter((name) => name.endsWith('.go')).sort().map((name) => path.join(FIXTURE_DIR, name)), path.join(HERE, 'build-vcsim.sh')];
  for (const file of sources) hash.update(`${path.basename(file)}\0`).update(fs.readFileSync(file));
  const { stdout: goVersion } = await run('go', ['version']);
  hash.update(goVersion);
  const binary = path.join(CACHE, `vcsim-fixture-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(CACHE, { recursive: true });
  // Built under a temporary name and renamed: test files building at once never see half a binary.
  const partial = `${binary}.${process.pid}.partial`;
  try {
    await run('bash', [path.join(HERE, 'build-vcsim.sh'), partial, path.join(CACHE, 'gocache')], { timeout: 300_000 });
    fs.renameSync(partial, binary);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  return binary;
}

export interface VcsimOptions {
  datacenters?: number;
  clusters?: number;
  hostsPerCluster?: number;
  standaloneHosts?: number;
  vmsPerPool?: number;
  /** `VM:Method` entries put into VMs' disabledMethod. */
  disableMethods?: string[];
}

export interface Vcsim {
  url: string;
  /** The CA that signed the server's certificate (PEM file). */
  caFile: string;
  /** A folder for the test's own files, removed with the simulator. */
  dir: string;
  username: string;
  password: string;
  /** What the simulator holds, from its own registry: host names, and each VM's host. */
  hosts: string[];
  vms: Record<string, string>;
  stop(): Promise<void>;
}

export const VCSIM_PASSWORD = 'Sim-pass-4711!';

/**
 * Puts the simulator's credentials into this process's environment, where a CLI child
 * inherits them (never into argv); returns what puts the environment back as it was.
 */
export function credentialsInEnvironment(sim: Vcsim): () => void {
  const saved = { user: process.env.VSPHERE_USERNAME, password: process.env.VSPHERE_PASSWORD };
  process.env.VSPHERE_USERNAME = sim.username;
  process.env.VSPHERE_PASSWORD = sim.password;
  return () => {
    if (saved.user === undefined) delete process.env.VSPHERE_USERNAME;
    else process.env.VSPHERE_USERNAME = saved.user;
    if (saved.password === undefined) delete process.env.VSPHERE_PASSWORD;
    else process.env.VSPHERE_PASSWORD = saved.password;
  };
}

/** Starts a simulator; the caller must `stop()` it (which also removes its files). */
export async function startVcsim(options: VcsimOptions = {}): Promise<Vcsim> {
  const binary = await vcsimBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-monitoring-vcsim-'));
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child?.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const caFile = await makeCertificates(dir);
    const args = [
      '-dc', String(options.datacenters ?? 1),
      '-cluster', String(options.clusters ?? 1),
      '-host', String(options.hostsPerCluster ?? 3),
      '-standalone-host', String(options.standaloneHosts ?? 0),
      '-vm', String(options.vmsPerPool ?? 2),
      '-cert', path.join(dir, 'server.pem'),
      '-key', path.join(dir, 'server-key.pem'),
    ];
    if (options.disableMethods?.length) args.push('-disable-method', options.disableMethods.join(','));
    const username = 'administrator@vsphere.local';
    child = spawn(binary, args, {
      env: { ...process.env, VCSIM_USERNAME: username, VCSIM_PASSWORD },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const started = child;
    const announced = await new Promise<{ url: string; hosts: string[]; vms: Record<string, string> }>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`vcsim did not start within 30 s: ${stderr}`)), 30_000);
      started.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      started.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const newline = stdout.indexOf('\n');
        if (newline < 0) return;
        clearTimeout(timer);
        resolve(JSON.parse(stdout.slice(0, newline)) as { url: string; hosts: string[]; vms: Record<string, string> });
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`vcsim exited with ${code}: ${stderr}`));
      });
    });
    return { ...announced, caFile, dir, username, password: VCSIM_PASSWORD, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A CA and a server certificate for 127.0.0.1 signed by it; returns the CA's file. */
async function makeCertificates(dir: string): Promise<string> {
  const file = (name: string): string => path.join(dir, name);
  const openssl = (args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir, timeout: 60_000 });
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=vm-monitoring test CA',
    '-keyout', file('ca-key.pem'), '-out', file('ca.pem')]);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server-key.pem'), '-out', file('server.csr')]);
  fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'), '-CAcreateserial',
    '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem')]);
  return file('ca.pem');
}
