import { findExecutable } from '../../../src/exec.ts';
import { missingLabPackages } from '../../../src/platforms/qemu/requirements.ts';

/**
 * Why the QEMU tests cannot run here, or false when they can. Outside CI a missing package
 * (or not being root, which network namespaces need) skips them with a message naming it;
 * with CI=true they always run, so that CI fails rather than silently skips.
 */
export function labSkipReason(): string | false {
  if (process.env.CI === 'true') return false;
  const missing = missingLabPackages();
  if (missing.length > 0) {
    const names = [...new Set(missing.map((entry) => entry.debianPackage))].join(' ');
    return `missing Debian packages ${names} (${missing.map((entry) => entry.what).join(', ')}): run scripts/install-lab-deps.sh`;
  }
  if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces, taps)';
  return false;
}

/** The same for tests that only compile and run the workload server natively. */
export function serverSkipReason(): string | false {
  if (process.env.CI === 'true') return false;
  const missing = missingLabPackages().filter((entry) => entry.debianPackage === 'gcc' || entry.debianPackage === 'libc6-dev');
  if (missing.length > 0) return `missing Debian packages ${missing.map((entry) => entry.debianPackage).join(' ')}: run scripts/install-lab-deps.sh`;
  return findExecutable('gcc') ? false : 'gcc not found';
}
