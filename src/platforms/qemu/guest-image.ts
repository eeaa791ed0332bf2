import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { cpioArchive, type CpioEntry } from './cpio.ts';
import { exec, findExecutable } from '../../exec.ts';
import { canonicalPath, makePrivateDir } from './safe-paths.ts';

/** The guest's sources: the workload server and the init script. */
export const GUEST_DIR = fileURLToPath(new URL('../../../guest/', import.meta.url));

/** Bump when the way the image is put together changes, so that cached images are rebuilt. */
const IMAGE_FORMAT = 3;

/** The NIC models the lab can give its VMs, and the kernel modules each needs (dependencies found in modules.dep). */
export const NIC_MODULES = {
  'virtio-net-pci': ['virtio_pci', 'virtio_net'],
  e1000: ['e1000'],
} as const;
export type NicModel = keyof typeof NIC_MODULES;

export interface GuestKernel {
  path: string;
  version: string;
}

/** A bootable guest: Debian's kernel and an initramfs of busybox, the NIC driver and the workload server. */
export interface GuestImage {
  kernel: string;
  kernelVersion: string;
  initrd: string;
  /** The hash of every input; the cache directory's name. */
  key: string;
  modules: string[];
  /** False when the image came from the cache. */
  built: boolean;
  buildSeconds: number;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'vm-monitoring');
}

/** The newest /boot/vmlinuz-VERSION whose modules are installed in /lib/modules/VERSION. */
export function findGuestKernel(bootDir = '/boot', modulesRoot = '/lib/modules'): GuestKernel | null {
  let names: string[];
  try {
    names = fs.readdirSync(bootDir).filter((name) => name.startsWith('vmlinuz-'));
  } catch {
    return null;
  }
  const kernels = names
    .map((name) => ({ path: path.join(bootDir, name), version: name.slice('vmlinuz-'.length) }))
    .filter((kernel) => fs.existsSync(path.join(modulesRoot, kernel.version, 'modules.dep')))
    .sort((a, b) => compareVersions(b.version, a.version));
  return kernels[0] ?? null;
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * The module files (relative to /lib/modules/VERSION) to load for `wanted`, dependencies
 * first, each once, read from modules.dep. Built-in modules (in modules.builtin) need no file.
 */
export function moduleLoadOrder(modulesDir: string, wanted: readonly string[]): string[] {
  const dependencies = new Map<string, string[]>();
  for (const line of fs.readFileSync(path.join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const file = line.slice(0, colon);
    dependencies.set(file, line.slice(colon + 1).trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map<string, string>();
  for (const file of dependencies.keys()) byName.set(moduleName(file), file);
  let builtin = new Set<string>();
  try {
    builtin = new Set(fs.readFileSync(path.join(modulesDir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(moduleName));
  } catch {
    // no list of built-in modules: every wanted module must then be a file
  }

  const order: string[] = [];
  const visit = (file: string, trail: string[]): void => {
    if (order.includes(file)) return;
    if (trail.includes(file)) throw new Error(`module dependency cycle: ${[...trail, file].join(' -> ')}`);
    for (const dependency of dependencies.get(file) ?? []) visit(dependency, [...trail, file]);
    order.push(file);
  };
  for (const name of wanted) {
    const file = byName.get(name.replaceAll('-', '_'));
    if (file) visit(file, []);
    else if (!builtin.has(name.replaceAll('-', '_'))) throw new Error(`kernel module ${name} not found in ${modulesDir}`);
  }
  return order;
}

/** `kernel/drivers/net/virtio_net.ko.xz` → `virtio_net`. */
function moduleName(file: string): string {
  return path.basename(file).replace(/\.ko(\.[a-z]+)?$/, '').replaceAll('-', '_');
}

/** A module file's bytes, uncompressed (busybox's insmod may not read compressed modules). */
async function readModule(file: string): Promise<Buffer> {
  const tools: Record<string, string[]> = { '.xz': ['xz', '-dc'], '.zst': ['zstd', '-dc'], '.gz': ['gzip', '-dc'] };
  const extension = path.extname(file);
  const tool = tools[extension];
  if (!tool) return fs.readFileSync(file);
  const [name, ...args] = tool as [string, ...string[]];
  const executable = findExecutable(name);
  if (!executable) throw new Error(`${file} is compressed: install ${name} to unpack it`);
  const { stdout } = await execBuffer(executable, [...args, file]);
  return stdout;
}

function execBuffer(command: string, args: string[]): Promise<{ stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve({ stdout })));
  });
}

function sha256(...parts: (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

export interface GuestImageOptions {
  cacheDir: string;
  nic: NicModel;
  /** The busybox to pack; Debian's busybox-static by default. */
  busybox: string;
  kernel?: GuestKernel;
}

/**
 * Returns the guest image for `options`, building it when no cached image has the same
 * inputs: the server's and init's sources, busybox, the kernel and its modules, gcc's version.
 * Concurrent builders are safe: each builds aside and the first to rename wins.
 */
export async function guestImage(options: GuestImageOptions): Promise<GuestImage> {
  const started = performance.now();
  // Its images boot as the lab's guests: a cache someone else can write to could hand them any kernel code.
  const cacheDir = canonicalPath(options.cacheDir);
  makePrivateDir('the guest image cache', cacheDir);
  const kernel = options.kernel ?? findGuestKernel();
  if (!kernel) throw new Error('no kernel in /boot with modules in /lib/modules: install linux-image-amd64');
  const modulesDir = path.join('/lib/modules', kernel.version);
  const moduleFiles = moduleLoadOrder(modulesDir, NIC_MODULES[options.nic]);
  const gcc = findExecutable('gcc');
  if (!gcc) throw new Error('gcc not found: install gcc (the guest\'s workload server is built with it)');

  const serverSource = fs.readFileSync(path.join(GUEST_DIR, 'server.c'));
  const initScript = fs.readFileSync(path.join(GUEST_DIR, 'init'));
  const busybox = fs.readFileSync(options.busybox);
  const modules = await Promise.all(moduleFiles.map((file) => readModule(path.join(modulesDir, file))));
  const gccVersion = (await exec(gcc, ['-dumpfullversion', '-dumpversion'])).stdout.trim();
  const key = sha256(
    `format ${IMAGE_FORMAT}\0kernel ${kernel.version}\0gcc ${gccVersion}\0nic ${options.nic}\0`,
    serverSource, initScript, busybox, ...moduleFiles, ...modules,
  ).slice(0, 20);

  const dir = path.join(cacheDir, `guest-${key}`);
  const initrd = path.join(dir, 'initramfs.cpio.gz');
  const image = (built: boolean): GuestImage => ({
    kernel: kernel.path, kernelVersion: kernel.version, initrd, key, modules: moduleFiles.map((file) => path.basename(file)), built,
    buildSeconds: (performance.now() - started) / 1000,
  });
  if (fs.existsSync(initrd)) return image(false);

  const work = fs.mkdtempSync(path.join(cacheDir, `.build-${key}-`));
  try {
    const serverBinary = path.join(work, 'vmm-server');
    await exec(gcc, ['-static', '-O2', '-Wall', '-pthread', '-o', serverBinary, path.join(GUEST_DIR, 'server.c')], { timeoutMs: 120_000 });
    const loadList = moduleFiles.map((file) => `${path.basename(file).replace(/\.(xz|zst|gz)$/, '')}\n`).join('');
    const entries: CpioEntry[] = [
      ...['bin', 'sbin', 'dev', 'etc', 'lib', 'lib/modules', 'proc', 'sys', 'tmp'].map((p): CpioEntry => ({ kind: 'directory', path: p })),
      { kind: 'char-device', path: 'dev/console', major: 5, minor: 1 },
      { kind: 'char-device', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
      { kind: 'file', path: 'init', data: initScript, mode: 0o755 },
      { kind: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'file', path: 'sbin/vmm-server', data: fs.readFileSync(serverBinary), mode: 0o755 },
      { kind: 'file', path: 'etc/modules', data: Buffer.from(loadList) },
      ...moduleFiles.map((file, index): CpioEntry => ({
        kind: 'file', path: `lib/modules/${path.basename(file).replace(/\.(xz|zst|gz)$/, '')}`, data: modules[index] as Buffer,
      })),
    ];
    fs.writeFileSync(path.join(work, 'initramfs.cpio.gz'), gzipSync(cpioArchive(entries), { level: 6 }));
    fs.rmSync(serverBinary);
    fs.writeFileSync(
      path.join(work, 'image.json'),
      `${JSON.stringify({ key, kernel: kernel.path, kernel_version: kernel.version, nic: options.nic, modules: moduleFiles, gcc: gccVersion }, null, 2)}\n`,
    );
    try {
      fs.renameSync(work, dir);
    } catch (error) {
      // Another builder got there first: its image has the same inputs.
      if (!fs.existsSync(initrd)) throw error;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return image(true);
}
