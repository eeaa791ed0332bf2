import assert from 'node:assert/strict';
import fs from 'node:fs';
import { netnsNameFor, readState, type ProcessRecord } from '../../../src/platforms/qemu/lab-state.ts';
import { netnsExists, netnsPath } from '../../../src/platforms/qemu/network.ts';
import { isRunning, processesInNetns, type ProcessIdentity } from '../../../src/platforms/qemu/processes.ts';

/** Asserts that nothing of the lab in `dir` is left: the processes given, its namespace (and anything in it), its directory with its sockets. */
export function assertNothingLeft(dir: string, processes: readonly ProcessIdentity[]): void {
  for (const process of processes) assert.equal(isRunning(process), false, `process ${process.pid} is gone`);
  const netns = netnsNameFor(dir);
  assert.equal(netnsExists(netns), false, `namespace ${netns} deleted`);
  assert.deepEqual(processesInNetns(netnsPath(netns)), []);
  assert.equal(fs.existsSync(dir), false, `${dir} removed, with its sockets`);
}

/**
 * Reads the lab's state file in `dir` every 100 ms and keeps every process it ever lists
 * (QEMU processes come and go with migrations), until `stop` returns them.
 */
export function watchLabProcesses(dir: string): { stop(): ProcessRecord[] } {
  const seen = new Map<string, ProcessRecord>();
  const look = (): void => {
    for (const record of readState(dir)?.processes ?? []) {
      if (record.pid > 0 && record.starttime !== '') seen.set(`${record.pid}/${record.starttime}`, record);
    }
  };
  const timer = setInterval(look, 100);
  return {
    stop: () => {
      clearInterval(timer);
      look();
      return [...seen.values()];
    },
  };
}
