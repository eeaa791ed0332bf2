import fs from 'node:fs';

/**
 * What the harness has started and made, to take down on the way out: each case registers its
 * QEMUs and its temp dir and unregisters them when it has cleaned them up itself. On SIGINT or
 * SIGTERM everything still registered is taken down at once (synchronously: the QEMUs killed by
 * their pids, the dirs removed) and the process exits; rows already written stay written.
 */
type Undo = () => void;

const live = new Set<Undo>();

export function register(undo: Undo): () => void {
  live.add(undo);
  return () => live.delete(undo);
}

export function killOnExit(pid: number): () => void {
  return register(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
}

export function removeOnExit(dir: string): () => void {
  return register(() => fs.rmSync(dir, { recursive: true, force: true }));
}

export function takeDownEverything(): void {
  // The QEMUs first, then the dirs they were using.
  for (const undo of [...live].reverse()) {
    live.delete(undo);
    try {
      undo();
    } catch {
      // Take down the rest regardless.
    }
  }
}

/** On SIGINT/SIGTERM: `say` why, take everything down, exit 128 + the signal's number. */
export function takeDownOnSignals(say: (message: string) => void): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      say(`${signal}: taking down the QEMUs and temp dirs; the rows written so far stay`);
      takeDownEverything();
      process.exit(code);
    });
  }
}
