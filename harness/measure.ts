/**
 * The second harness: measures real QEMU TCG live migrations of the grid's cases, each on a
 * freshly booted guest, into --out (measured.csv, measured-details.jsonl, harness.json).
 *
 *   npx tsx harness/measure.ts --grid harness/grid.json --out DIR
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GridError, readGrid, type Grid } from './grid.ts';
import { buildGuestImage } from './guest-image.ts';
import { MeasuredOutput } from './output.ts';
import { kernelCommandLine, MACHINE, runCase, type RunSettings } from './run-case.ts';
import { removeOnExit, takeDownOnSignals } from './teardown.ts';

const say = (message: string): void => {
  process.stderr.write(`second-harness: ${message}\n`);
};

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { grid: { type: 'string' }, out: { type: 'string' } }, strict: true });
  if (!values.grid || !values.out) {
    say('usage: measure.ts --grid GRID.json --out DIR');
    return 2;
  }
  let grid: Grid;
  try {
    grid = readGrid(values.grid);
  } catch (error) {
    if (!(error instanceof GridError)) throw error;
    say(error.message);
    return 2;
  }
  takeDownOnSignals(say);
  const qemu = findQemu();
  const output = new MeasuredOutput(values.out);
  const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'second-harness-image-'));
  const forgetBuildDir = removeOnExit(buildDir);
  try {
    const image = await buildGuestImage(buildDir);
    const settings: RunSettings = { qemu, image, warmupSeconds: grid.warmupSeconds, timeoutSeconds: grid.timeoutSeconds, pollMs: grid.pollMs };
    const startedAt = new Date();
    const describe = (extra: Record<string, unknown>): void =>
      output.writeHarness({
        harness: 'harness/measure.ts (the second harness; see harness/README.md)',
        qemu,
        qemu_version: execFileSync(qemu, ['--version'], { encoding: 'utf8' }).split('\n')[0],
        kernel: image.kernel,
        kernel_version: image.kernelVersion,
        kernel_cmdline: kernelCommandLine('<buffer_mb>', '<dirty_mb_s>'),
        gcc_version: image.gccVersion,
        machine: MACHINE,
        ram: 'whole MiB (-m <ram_mb>M)',
        host: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', kernel: os.release() },
        started_at: startedAt.toISOString(),
        host_load_at_start: os.loadavg(),
        grid: grid.source,
        ...extra,
      });
    describe({});
    const failures: string[] = [];
    for (const [index, spec] of grid.cases.entries()) {
      const sayOfCase = (message: string): void => say(`[${index + 1}/${grid.cases.length}] ${spec.id}: ${message}`);
      const hostLoad = os.loadavg()[0] as number;
      sayOfCase(`starting (host load ${hostLoad.toFixed(2)})`);
      try {
        const measurement = await runCase(spec, settings, sayOfCase);
        output.append(spec, grid, measurement, hostLoad);
        const trouble = measurement.destination && (measurement.destination.status !== 'running' || measurement.destination.consoleTrouble);
        sayOfCase(
          `${measurement.converged ? 'converged' : 'did not converge'}, total ${measurement.last.totalTimeMs} ms, ${measurement.last.ram?.dirtySyncCount} passes, ` +
            `${measurement.last.ram?.transferred} bytes${trouble ? `; destination: ${measurement.destination?.status} ${measurement.destination?.consoleTrouble ?? ''}` : ''}`,
        );
      } catch (error) {
        const message = (error as Error).message;
        failures.push(`${spec.id}: ${message}`);
        output.appendFailure(spec, message, hostLoad);
        sayOfCase(`FAILED: ${message}`);
      }
    }
    const finishedAt = new Date();
    describe({ finished_at: finishedAt.toISOString(), host_load_at_end: os.loadavg(), duration_s: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000), failed_cases: failures });
    say(`${grid.cases.length - failures.length} of ${grid.cases.length} cases measured in ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s into ${values.out}`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    fs.rmSync(buildDir, { recursive: true, force: true });
    forgetBuildDir();
  }
}

function findQemu(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'qemu-system-x86_64');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not in this dir.
    }
  }
  throw new Error('qemu-system-x86_64 not found: install qemu-system-x86');
}

process.exitCode = await main().catch((error: unknown) => {
  say((error as Error).message);
  return 1;
});
