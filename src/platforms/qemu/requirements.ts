import fs from 'node:fs';
import { findExecutable } from '../../exec.ts';
import { findGuestKernel } from './guest-image.ts';

/** What the lab needs from the machine, and the Debian package that provides it. */
interface Requirement {
  what: string;
  debianPackage: string;
  present(): boolean;
}

const REQUIREMENTS: Requirement[] = [
  { what: 'qemu-system-x86_64', debianPackage: 'qemu-system-x86', present: () => findExecutable('qemu-system-x86_64') !== null },
  { what: 'haproxy', debianPackage: 'haproxy', present: () => findExecutable('haproxy') !== null },
  { what: 'a static busybox (/bin/busybox)', debianPackage: 'busybox-static', present: () => staticBusybox() !== null },
  { what: 'gcc', debianPackage: 'gcc', present: () => findExecutable('gcc') !== null },
  { what: 'a static libc (libc.a)', debianPackage: 'libc6-dev', present: () => fs.existsSync('/usr/lib/x86_64-linux-gnu/libc.a') },
  { what: 'ip', debianPackage: 'iproute2', present: () => findExecutable('ip') !== null },
  { what: 'taskset', debianPackage: 'util-linux', present: () => findExecutable('taskset') !== null },
  { what: 'a kernel in /boot with its modules', debianPackage: 'linux-image-amd64', present: () => findGuestKernel() !== null },
];

/** The Debian packages missing for the lab, each once, with what is missing; empty when all is there. */
export function missingLabPackages(): { debianPackage: string; what: string }[] {
  return REQUIREMENTS.filter((requirement) => !requirement.present()).map(({ debianPackage, what }) => ({ debianPackage, what }));
}

/** One line naming what is missing and how to install it, or null when nothing is. */
export function describeMissing(): string | null {
  const missing = missingLabPackages();
  if (missing.length === 0) return null;
  const names = [...new Set(missing.map((entry) => entry.debianPackage))];
  return `missing ${missing.map((entry) => `${entry.what} (package ${entry.debianPackage})`).join(', ')}: run scripts/install-lab-deps.sh (apt-get install ${names.join(' ')})`;
}

/** The busybox the guest gets: Debian's busybox-static installs it as /bin/busybox. */
export function staticBusybox(): string | null {
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox']) {
    try {
      const head = Buffer.alloc(4096);
      const fd = fs.openSync(candidate, 'r');
      try {
        fs.readSync(fd, head, 0, head.length, 0);
      } finally {
        fs.closeSync(fd);
      }
      // A static ELF has no PT_INTERP segment, hence no interpreter path in its first page.
      if (head.subarray(0, 4).toString('latin1') === '\x7fELF' && !head.includes('ld-linux')) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
