/**
 * A migration's passes as its platform reported them in migration-details.jsonl, in one shape:
 * QEMU's and the sim's `progress` (query-migrate at each pass), libvirt's job statistics at
 * each iteration. vCenter reports no passes.
 */
export interface PassRow {
  pass: number;
  /** Seconds since the migration started, when the pass began. */
  startS: number;
  durationS: number;
  bytes: number;
  /** What was still to send as it began, pages at 4 KiB. */
  remainingBytes: number;
  /** Bytes per second the pass sent. */
  transferRate: number | null;
  /** Bytes per second the guest dirtied: the platform's own figure, else what the next pass found pending over this one's time. */
  dirtyRate: number | null;
  dirtyRateMeasured: boolean;
  /** Dirty rate over transfer rate: under 1 the migration gains on the guest. */
  convergenceRatio: number | null;
}

const PAGE_BYTES = 4096;

interface ProgressPoint {
  atS: number;
  pass: number;
  transferred: number;
  remaining: number;
  /** Bytes per second, where the platform says. */
  dirtyRate: number | null;
}

/** Pass 0 is the setup, from the migration's start to the first pass; each pass runs to the next one's start, the last to the end. */
export function passRows(details: Record<string, unknown> | undefined): PassRow[] {
  const { points, atPassStarts } = progressPoints(details);
  const first = points[0];
  if (first === undefined) return [];
  // The first point of each pass number starts it; the last point (the end) closes the last pass.
  const starts = points.filter((point, i) => i === 0 || point.pass !== (points[i - 1] as ProgressPoint).pass);
  if (first.pass === 0) starts[0] = { ...first, atS: 0 };
  else if (atPassStarts && first.atS > 0) starts.unshift({ atS: 0, pass: 0, transferred: 0, remaining: 0, dirtyRate: null });
  const rows: PassRow[] = [];
  for (const [i, start] of starts.entries()) {
    const next = starts[i + 1] ?? points.at(-1);
    if (next === undefined || next === start) continue;
    const durationS = next.atS - start.atS;
    const bytes = next.transferred - start.transferred;
    const transferRate = durationS > 0 ? bytes / durationS : null;
    // The setup sends nothing and dirties nothing a pass must resend: every page is pending from its end anyway.
    const estimated = start.pass > 0 && i + 1 < starts.length && durationS > 0 ? next.remaining / durationS : null;
    const dirtyRate = start.dirtyRate ?? estimated;
    rows.push({
      pass: start.pass,
      startS: start.atS,
      durationS,
      bytes,
      remainingBytes: start.remaining,
      transferRate,
      dirtyRate,
      dirtyRateMeasured: start.dirtyRate !== null,
      convergenceRatio: dirtyRate !== null && transferRate !== null && transferRate > 0 ? dirtyRate / transferRate : null,
    });
  }
  return rows;
}

/** QEMU's and the sim's points are taken as each pass begins (the first as the setup ends); libvirt's are polled, its first one in pass 1. */
function progressPoints(details: Record<string, unknown> | undefined): { points: ProgressPoint[]; atPassStarts: boolean } {
  for (const platform of ['qemu', 'sim'] as const) {
    const progress = (details?.[platform] as { progress?: unknown } | undefined)?.progress;
    if (Array.isArray(progress)) return { points: progress.flatMap(qemuPoint), atPassStarts: true };
  }
  const libvirt = (details?.libvirt as { progress?: unknown } | undefined)?.progress;
  return { points: Array.isArray(libvirt) ? libvirt.flatMap(libvirtPoint) : [], atPassStarts: false };
}

function qemuPoint(entry: unknown): ProgressPoint[] {
  const { at_s: atS, pass, transferred, remaining, dirty_pages_rate: pagesRate } = (entry ?? {}) as Record<string, unknown>;
  if (typeof atS !== 'number' || typeof pass !== 'number' || typeof transferred !== 'number' || typeof remaining !== 'number') return [];
  // QEMU's dirty-pages-rate is 0 until it has measured a whole period: no figure, not a rate of 0.
  return [{ atS, pass, transferred, remaining, dirtyRate: typeof pagesRate === 'number' && pagesRate > 0 ? pagesRate * PAGE_BYTES : null }];
}

function libvirtPoint(entry: unknown): ProgressPoint[] {
  const { at_s: atS, iteration, job } = (entry ?? {}) as { at_s?: unknown; iteration?: unknown; job?: Record<string, unknown> };
  const number = (key: string): number | null => {
    const value = Number(job?.[key]);
    return job?.[key] !== undefined && Number.isFinite(value) ? value : null;
  };
  const transferred = number('memory_processed');
  const remaining = number('memory_remaining');
  const dirtyPages = number('memory_dirty_rate');
  if (typeof atS !== 'number' || typeof iteration !== 'number' || transferred === null || remaining === null) return [];
  return [{ atS, pass: iteration, transferred, remaining, dirtyRate: dirtyPages !== null && dirtyPages > 0 ? dirtyPages * PAGE_BYTES : null }];
}
