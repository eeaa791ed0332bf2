/**
 * The qemu side of the calibration on real VMs: one lab of 2 hosts and 1 VM of 256 MB, a
 * few fast cases. An idle VM migrates with far fewer bytes than its RAM (zero pages); a 64 MB
 * memory workload adds its buffer to what is sent; a dirtier far above the bandwidth does not
 * converge, leaves the VM running where it was and the runner usable; freed buffers are zero
 * again, so the last idle case sends what the first did. No timing asserts: the machine is
 * small and shared.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needing } from '../support/needing.ts';
import { LAB_TCG_RAM_PADDING_KIB, type CaseResult, type MigrationCase } from '../../src/calibrate/migration-case.ts';
import { openQemuCaseRunner, type QemuCaseRunner } from '../../src/platforms/qemu/calibration-runner.ts';
import { Lab } from '../../src/platforms/qemu/lab.ts';
import { netnsNameFor, readState } from '../../src/platforms/qemu/lab-state.ts';
import { lbGet } from '../../src/platforms/qemu/lb-request.ts';
import { netnsExists } from '../../src/platforms/qemu/network.ts';
import { isRunning } from '../../src/platforms/qemu/processes.ts';
import { labSkipReason } from './support/lab-requirements.ts';

const skip = labSkipReason();
const { after, before, describe, it } = needing(skip);
const MiB = 2 ** 20;
const RAM_MB = 256;

function migrationCase(id: string, workload: MigrationCase['workload'], bandwidthMbps: number, downtimeLimitMs = 300): MigrationCase {
  return { id, ramMB: RAM_MB, ramKiB: RAM_MB * 1024 + LAB_TCG_RAM_PADDING_KIB, workload, bandwidthMbps, downtimeLimitMs, training: true };
}

describe('qemu calibration runner', { concurrency: 1 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmm-calibration-test-'));
  const labDir = path.join(base, 'lab');
  const log: string[] = [];
  let runner: QemuCaseRunner;
  let firstIdle: CaseResult | null = null;
  const run = (c: MigrationCase): Promise<CaseResult> => runner.run(c, AbortSignal.timeout(300_000));

  before(async () => {
    runner = await openQemuCaseRunner({
      labDir,
      accelerator: 'tcg',
      settings: { warmupSeconds: 2, convergenceTimeoutSeconds: 10 },
      log: (line) => log.push(line),
    });
  });

  after(async () => {
    await runner?.close().catch(() => undefined);
    await Lab.down(labDir);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('an idle VM converges at 1000 Mbit/s, sending far less than its RAM', { timeout: 600_000 }, async () => {
    const result = await run(migrationCase('idle-bw1000', { kind: 'idle' }, 1000));
    assert.equal(result.converged, true, result.reason);
    assert.equal(result.reason, '');
    assert.ok(result.bytes > 0 && result.bytes < (RAM_MB * MiB) / 2, `${result.bytes} bytes for ${RAM_MB} MB of RAM`);
    assert.ok(result.passes >= 1);
    assert.ok(result.total_ms > 0);
    assert.ok(result.downtime_ms !== null && result.downtime_ms >= 0);
    assert.ok(result.setup_ms !== null && result.setup_ms >= 0);
    assert.equal(runner.describe().vm_host, 'h2', 'the VM moved to the other host');
    firstIdle = result;
  });

  it('a 64 MB memory workload sends its buffer on top', { timeout: 600_000 }, async () => {
    const result = await run(migrationCase('memory64-bw1000', { kind: 'memory', bufferMB: 64, sleepMs: 2000 }, 1000));
    assert.equal(result.converged, true, result.reason);
    assert.ok(result.bytes >= 64 * MiB, `${result.bytes} bytes`);
    assert.ok(firstIdle && result.bytes > firstIdle.bytes + 32 * MiB, `${result.bytes} bytes against ${firstIdle?.bytes} when idle`);
    assert.equal(runner.describe().vm_host, 'h1', 'the VM moved back');
  });

  it('a dirtier far above the bandwidth does not converge; the VM stays and answers', { timeout: 600_000 }, async () => {
    const result = await run(migrationCase('dirty64x60-bw100', { kind: 'dirty', bufferMB: 64, rateMBps: 60 }, 100, 30));
    assert.equal(result.converged, false);
    assert.match(result.reason, /did not converge within 10 s/);
    assert.equal(result.downtime_ms, null);
    assert.ok(result.total_ms >= 9000, `cancelled after ${result.total_ms} ms`);
    assert.ok(result.bytes > 0);
    assert.ok(result.passes >= 1);
    const lab = runner.describe();
    assert.equal(lab.vm_host, 'h1', 'the VM stayed on its host');
    const answer = await lbGet(lab.lb_socket as string, '/vm/vm1/ping', 10_000);
    assert.equal(answer.status, 200);
    assert.equal(answer.server, 'vm1');
  });

  it('the next case still works, from a clean guest memory (freed buffers are zero again)', { timeout: 600_000 }, async () => {
    const result = await run(migrationCase('idle-bw1000-again', { kind: 'idle' }, 1000));
    assert.equal(result.converged, true, result.reason);
    assert.equal(runner.describe().vm_host, 'h2');
    assert.ok(firstIdle);
    const ratio = result.bytes / firstIdle.bytes;
    assert.ok(ratio > 0.9 && ratio < 1.1, `${result.bytes} bytes against ${firstIdle.bytes} on the fresh VM`);
  });

  it('rejects a case the guest cannot run as given, before touching the lab', async () => {
    await assert.rejects(run({ ...migrationCase('bad', { kind: 'dirty', bufferMB: 64, rateMBps: 2.5 }, 100) }), /rateMBps must be a whole number/);
  });

  it('close takes the lab down', { timeout: 120_000 }, async () => {
    const netns = netnsNameFor(labDir);
    assert.equal(netnsExists(netns), true);
    const processes = readState(labDir)?.processes ?? [];
    assert.ok(processes.length >= 2, 'HAProxy and QEMU');
    await runner.close();
    for (const process of processes) assert.equal(isRunning(process), false, `${process.kind} ${process.pid} ended`);
    assert.equal(netnsExists(netns), false, `namespace ${netns} deleted`);
    assert.equal(fs.existsSync(path.join(labDir, 'lab.json')), false);
    assert.equal(Lab.exists(labDir), false);
    assert.ok(log.some((line) => /bringing up a lab/.test(line)));
  });
});
