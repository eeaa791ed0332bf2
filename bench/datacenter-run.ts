/**
 * One datacenter-scale scenario in a process of its own, as `vm-monitoring run` runs one script
 * a process: spawned by bench/run.ts (`node --import tsx bench/datacenter-run.ts NAME WORK_DIR`),
 * it writes the scenario's script and config into WORK_DIR, runs it on the sim, and prints what
 * it measured as one JSON line on stdout. In the bench's own process the scenario would run after
 * the sample scripts, whose other configs and profiles leave the hot code's type feedback
 * polymorphic (15 % slower here), which no user's run sees.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLOUD, DATACENTER, datacenterConfig, datacenterScript } from './datacenter.ts';
import { runOnSim, type SimRunResult } from './run-on-sim.ts';

export interface DatacenterRunResult {
  result: SimRunResult;
  /** RSS sampled every 100 ms while the run went on. */
  peakRss: number;
  /** The process's getrusage maxrss at the end, bytes. */
  maxRss: number;
}

/** Peak RSS sampled every 100 ms while `work` runs. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100).unref();
  try {
    const result = await work();
    return { result, peakRss: Math.max(peakRss, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

const [name, workDir] = process.argv.slice(2);
const spec = [DATACENTER, CLOUD].find((candidate) => candidate.name === name);
if (spec === undefined || workDir === undefined) {
  process.stderr.write(`usage: datacenter-run.ts ${DATACENTER.name}|${CLOUD.name} WORK_DIR\n`);
  process.exit(2);
}
const scriptPath = path.join(workDir, `${spec.name}.txt`);
const configPath = path.join(workDir, `${spec.name}.json`);
writeFileSync(scriptPath, datacenterScript(spec));
writeFileSync(configPath, datacenterConfig(spec));
const outDir = path.join(workDir, `${spec.name}-run`);
const { result, peakRss } = await withPeakRss(() => runOnSim(scriptPath, { configPath, outDir, intervalSeconds: spec.intervalSeconds }));
rmSync(outDir, { recursive: true, force: true });
const measured: DatacenterRunResult = { result, peakRss, maxRss: process.resourceUsage().maxRSS * 1024 };
process.stdout.write(`${JSON.stringify(measured)}\n`);
