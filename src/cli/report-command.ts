import path from 'node:path';
import { InputError } from '../errors.ts';
import { commandLine } from './command-line.ts';
import { buildReport, type LabelledRun } from '../report/build-report.ts';

export interface ReportFlags {
  out?: string;
  host?: string;
  label: string[];
}

/** `--label NAME=RUN_DIR`, repeatable. */
export function collectLabel(value: string, previous: string[]): string[] {
  if (!/^[^=]+=.+$/.test(value)) throw new InputError(`--label ${value}: expected NAME=RUN_DIR`);
  return [...previous, value];
}

/** The runs to report on: the positional directories, then labelled ones not already listed. */
export function labelledRuns(runDirs: string[], labels: string[]): LabelledRun[] {
  const labelOf = new Map<string, string>();
  for (const entry of labels) {
    const at = entry.indexOf('=');
    labelOf.set(path.resolve(entry.slice(at + 1)), entry.slice(0, at));
  }
  const dirs = [...runDirs, ...labels.map((entry) => entry.slice(entry.indexOf('=') + 1))];
  const seen = new Set<string>();
  const runs: LabelledRun[] = [];
  for (const dir of dirs) {
    const resolved = path.resolve(dir);
    if (seen.has(resolved)) continue;
    seen.add(resolved);
    runs.push({ dir, label: labelOf.get(resolved) });
  }
  if (runs.length === 0) throw new InputError('report: name at least one run directory');
  return runs;
}

/** `vm-monitoring report`: writes the report and prints where to open it. */
export async function reportCommand(runDirs: string[], flags: ReportFlags): Promise<number> {
  const runs = labelledRuns(runDirs, flags.label);
  const outDir = flags.out ?? (runs.length === 1 ? path.join((runs[0] as LabelledRun).dir, 'report') : 'report');
  const page = await buildReport(runs, { outDir, host: flags.host, command: commandLine() });
  process.stderr.write(`report: ${page}\n`);
  return 0;
}
