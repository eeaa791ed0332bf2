import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { newcArchive } from './cpio-newc.ts';

const run = promisify(execFile);
const WRITER_SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'guest', 'writer.c');
const BOOT_DIR = '/boot';
const BUILD_TIMEOUT_MS = 120_000;

/** What each case boots: Debian's kernel and an initramfs whose only program is the writer. */
export interface GuestImage {
  kernel: string;
  kernelVersion: string;
  initrd: string;
  gccVersion: string;
}

/** Builds the writer (static) and its initramfs in `dir`; the kernel is the newest readable /boot/vmlinuz-*. */
export async function buildGuestImage(dir: string): Promise<GuestImage> {
  const { kernel, kernelVersion } = newestKernel();
  const gcc = 'gcc';
  const writer = path.join(dir, 'writer');
  try {
    await run(gcc, ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-o', writer, WRITER_SOURCE], { timeout: BUILD_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`cannot build ${WRITER_SOURCE} with gcc -static (install gcc and libc6-dev): ${(error as Error).message}`, { cause: error });
  }
  const gccVersion = (await run(gcc, ['-dumpfullversion', '-dumpversion'], { timeout: BUILD_TIMEOUT_MS })).stdout.trim();
  const initrd = path.join(dir, 'initrd.cpio');
  fs.writeFileSync(
    initrd,
    newcArchive([
      { kind: 'directory', name: 'dev', mode: 0o755 },
      // The kernel opens /dev/console for init before init runs; without it init has no stdout.
      { kind: 'character-device', name: 'dev/console', mode: 0o600, major: 5, minor: 1 },
      { kind: 'directory', name: 'proc', mode: 0o555 },
      { kind: 'file', name: 'init', mode: 0o755, data: fs.readFileSync(writer) },
    ]),
  );
  return { kernel, kernelVersion, initrd, gccVersion };
}

function newestKernel(): { kernel: string; kernelVersion: string } {
  const readable = fs
    .readdirSync(BOOT_DIR)
    .filter((name) => name.startsWith('vmlinuz-'))
    .filter((name) => {
      try {
        fs.accessSync(path.join(BOOT_DIR, name), fs.constants.R_OK);
        return true;
      } catch {
        return false;
      }
    })
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const newest = readable.at(-1);
  if (!newest) throw new Error(`no readable ${BOOT_DIR}/vmlinuz-*: install a Debian kernel (linux-image-amd64)`);
  return { kernel: path.join(BOOT_DIR, newest), kernelVersion: newest.slice('vmlinuz-'.length) };
}
