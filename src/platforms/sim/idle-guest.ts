import type { MeasuredCase } from '../../calibrate/migration-case.ts';
import { leastSquaresLine, median } from '../../report/statistics.ts';
import { guestNonZeroPerRamMBOf, simCaseRunner, type SimLabModel } from './calibration-runner.ts';

/** The idle guest a model was given, and the idle migrations it was re-derived from. */
export interface IdleGuest {
  model: SimLabModel;
  /** The non-zero MB each idle case's bytes imply, by RAM size (MB). */
  impliedMB: ReadonlyMap<number, number>;
  /** The freed, non-zero MB a buffer reuses first, where cases holding a buffer tell it. */
  reusableMB: number | null;
}

/** Bisection steps: a 1 GiB range to within 1 KiB. */
const STEPS = 20;

/**
 * The model with the idle guest of another harness: how much non-zero memory its idle guest
 * holds, re-derived from the measured idle migrations (every other value stays the model's).
 * For each idle case, the non-zero memory whose predicted bytes are the measured ones (the
 * sim's bytes grow with it); over two RAM sizes or more, a line through them (what grows with
 * RAM, what does not), else the model's growth with RAM kept and its fixed part moved. Then,
 * where cases held a filled buffer, how much of it landed on memory the guest had freed
 * without zeroing (its allocator reuses such pages first): the amount whose predicted bytes
 * are the measured ones, the median over those cases. Null when there is no converged idle case.
 */
export async function idleGuestOf(model: SimLabModel, cases: readonly MeasuredCase[]): Promise<IdleGuest | null> {
  const idle = cases.filter((c) => c.migrationCase.workload.kind === 'idle' && c.measured.converged);
  const byRam = new Map<number, number[]>();
  for (const measuredCase of idle) {
    const { ramMB } = measuredCase.migrationCase;
    byRam.set(ramMB, [...(byRam.get(ramMB) ?? []), await impliedNonZeroMB(model, measuredCase)]);
  }
  if (byRam.size === 0) return null;
  const impliedMB = new Map([...byRam].map(([ramMB, values]) => [ramMB, median(values) as number]));
  const idleModel = idleModelOf(model, impliedMB);
  const buffers = cases.filter((c) => c.migrationCase.workload.kind === 'memory' && c.measured.converged);
  if (buffers.length === 0) return { model: idleModel, impliedMB, reusableMB: null };
  const reused: number[] = [];
  for (const measuredCase of buffers) reused.push(await impliedReusableMB(idleModel, measuredCase));
  const reusableMB = median(reused) as number;
  return { model: { ...idleModel, vms: { ...idleModel.vms, guestOsReusableMB: reusableMB } }, impliedMB, reusableMB };
}

function idleModelOf(model: SimLabModel, impliedMB: ReadonlyMap<number, number>): SimLabModel {
  const points = [...impliedMB];
  const withGuest = (perRamMB: number, fixedMB: number): SimLabModel => ({ ...model, guestNonZeroPerRamMB: perRamMB, vms: { ...model.vms, guestOsMB: Math.max(0, fixedMB) } });
  if (points.length === 1) {
    const [[ramMB, mb]] = points as [[number, number]];
    return withGuest(guestNonZeroPerRamMBOf(model), mb - guestNonZeroPerRamMBOf(model) * ramMB);
  }
  // Distinct RAM sizes: there is a line. Less non-zero memory in a bigger guest is noise: then nothing grows with RAM.
  const { slope, intercept } = leastSquaresLine(points) as { slope: number; intercept: number };
  return slope < 0 ? withGuest(0, median(points.map(([, mb]) => mb)) as number) : withGuest(slope, intercept);
}

/** What the idle guest came to, for a log line: its memory and what each RAM size's idle cases implied. */
export function describeIdleGuest({ model, impliedMB, reusableMB }: IdleGuest): string {
  const implied = [...impliedMB].map(([ramMB, mb]) => `${mb.toFixed(1)} MB at ${ramMB} MB`).join(', ');
  const perRam = guestNonZeroPerRamMBOf(model) * 100;
  const reuse = reusableMB === null ? '' : `, of which a buffer reuses ${reusableMB.toFixed(1)} MB first (freed without zeroing)`;
  return `non-zero memory ${(model.vms.guestOsMB ?? 0).toFixed(1)} MB + ${perRam.toFixed(2)} % of RAM${reuse} (the idle migrations imply ${implied})`;
}

/** The guest's non-zero MB at the case's RAM that makes the sim send the bytes measured. */
function impliedNonZeroMB(model: SimLabModel, measuredCase: MeasuredCase): Promise<number> {
  const withNonZero = (nonZeroMB: number): SimLabModel => ({ ...model, guestNonZeroPerRamMB: 0, vms: { ...model.vms, guestOsMB: nonZeroMB } });
  return solveForBytes(measuredCase, measuredCase.migrationCase.ramMB * 0.9, withNonZero, 'more');
}

/** The freed non-zero MB a held buffer reuses that makes the sim send the bytes measured (fewer, the more it reuses). */
function impliedReusableMB(model: SimLabModel, measuredCase: MeasuredCase): Promise<number> {
  const { workload } = measuredCase.migrationCase;
  const most = workload.kind === 'idle' ? 0 : workload.bufferMB;
  return solveForBytes(measuredCase, most, (mb) => ({ ...model, vms: { ...model.vms, guestOsReusableMB: mb } }), 'fewer');
}

/** Bisection on a value in [0, highest] of the model whose predicted bytes grow ('more') or shrink ('fewer') with it. */
async function solveForBytes(
  { migrationCase, settings, measured }: MeasuredCase,
  highest: number,
  modelWith: (value: number) => SimLabModel,
  bytesAsItGrows: 'more' | 'fewer',
): Promise<number> {
  const bytesWith = async (value: number): Promise<number> => {
    const runner = simCaseRunner(modelWith(value), settings);
    try {
      return (await runner.run(migrationCase, new AbortController().signal)).bytes;
    } finally {
      await runner.close();
    }
  };
  let low = 0;
  let high = highest;
  for (let step = 0; step < STEPS; step++) {
    const middle = (low + high) / 2;
    const under = (await bytesWith(middle)) < measured.bytes;
    if (under === (bytesAsItGrows === 'more')) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}
