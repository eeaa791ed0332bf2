/**
 * node:test's functions for a suite that needs something this machine may lack (a Debian
 * package, root). When it is missing, node's runner would count a skipped `describe` as
 * nothing at all ("skipped 0"); here each of its tests is registered as skipped with the
 * reason, and its set-up hooks (which would start QEMU or vcsim) do not run. Its clean-up
 * hooks do, since a suite's body may have made a temporary directory; with nothing started,
 * one that finds nothing to clean up is no failure. With CI=true the reason functions return
 * false, so CI runs everything.
 */
import * as nodeTest from 'node:test';

type Hook = typeof nodeTest.before;

export interface SuiteFunctions {
  describe: typeof nodeTest.describe;
  it: typeof nodeTest.it;
  before: Hook;
  after: Hook;
  beforeEach: Hook;
  afterEach: Hook;
}

export function needing(skipReason: string | false): SuiteFunctions {
  if (skipReason === false) {
    const { describe, it, before, after, beforeEach, afterEach } = nodeTest;
    return { describe, it, before, after, beforeEach, afterEach };
  }
  const skipped = ((name?: string) => nodeTest.it(name ?? '', { skip: skipReason }, () => {})) as unknown as typeof nodeTest.it;
  const noHook = (() => {}) as Hook;
  const cleanUp = ((hook: () => unknown) => nodeTest.after(async () => {
    try {
      await hook();
    } catch {
      // Nothing was started: a clean-up that finds nothing to stop is not a failure.
    }
  })) as Hook;
  return { describe: nodeTest.describe, it: skipped, before: noHook, after: cleanUp, beforeEach: noHook, afterEach: noHook };
}

/** Why a test that needs root cannot run here (`what` says for what), or false; with CI=true always false, so CI fails rather than skips. */
export function rootSkipReason(what: string): string | false {
  if (process.env.CI === 'true' || process.getuid?.() === 0) return false;
  return `needs root ${what}`;
}
