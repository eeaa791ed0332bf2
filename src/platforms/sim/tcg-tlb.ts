/**
 * The size of a TCG vCPU's TLB, which QEMU 7.2's per-page dirty-bitmap sync walks whole for
 * every dirty page it clears (tlb_reset_dirty, accel/tcg/cputlb.c): a migration's setup
 * clears every page of RAM, so its length follows this size.
 *
 * TCG resizes a TLB only when it is flushed (tlb_mmu_resize_locked): it doubles when more than
 * 70 % of its entries were used since, and shrinks after a 100 ms window of little use. A new
 * QEMU process, the target of a migration, starts at 256 entries (CPU_TLB_DYN_DEFAULT_BITS).
 *
 * What fills the TLB enough to grow it here is the guest kernel zeroing memory it frees
 * (`init_on_free`), through its own mapping: Linux frees an unmapped range in batches of at
 * most 9,698 pages (mmu_gather: 19 batches of 510 pages and 8 of its own, mm/mmu_gather.c),
 * flushing the TLB before each, and the request's end flushes once more. In the lab's grids a
 * guest that had freed a 64 MB buffer took the setup of a 1,024-entry TLB, one that had freed
 * 128 MB that of 4,096, one that had freed nothing (its dirtier writing all along) the idle
 * setup. The guest's own writes are not counted: they fill the TLB of another MMU mode.
 */
export const TLB_DEFAULT_ENTRIES = 256;
const TLB_MAX_ENTRIES = 1 << 22;
const GROW_ABOVE_USE = 0.7;
const SHRINK_WINDOW_SECONDS = 0.1;
export const GATHER_BATCH_PAGES = 9698;
const PAGES_PER_MB = 256;

export class TcgTlb {
  private used = 0;
  private lastFreeS = -Infinity;

  constructor(public entries: number = TLB_DEFAULT_ENTRIES) {}

  /** Entries beyond a new process's, which every per-page sync walks once per dirty page. */
  get extraEntries(): number {
    return Math.max(0, this.entries - TLB_DEFAULT_ENTRIES);
  }

  /** The guest frees `pages` at `now`, zeroing each: a flush before each batch, then one at the end. */
  free(pages: number, now: number): void {
    if (pages <= 0) return;
    for (let left = pages; left > 0; left -= GATHER_BATCH_PAGES) {
      this.flush();
      this.used = Math.min(this.entries, left, GATHER_BATCH_PAGES);
    }
    this.flush();
    this.lastFreeS = now;
  }

  /**
   * A migration starts dirty logging, which flushes the TLB (QEMU's memory-map commit); the
   * vCPU takes that flush once the setup's sync has let it run, so the sync walks the TLB as
   * it was. A TLB the guest has not filled since a whole window shrinks back to its default
   * size: the kernel's own use, not modelled, keeps it there at least.
   */
  flushAfterSetup(now: number): void {
    if (now - this.lastFreeS > SHRINK_WINDOW_SECONDS) this.entries = Math.min(this.entries, TLB_DEFAULT_ENTRIES);
  }

  private flush(): void {
    if (this.used > GROW_ABOVE_USE * this.entries) this.entries = Math.min(2 * this.entries, TLB_MAX_ENTRIES);
    this.used = 0;
  }
}

/** The entries of a TLB of `entries` once the guest has freed each of `freedMB`, in order. */
export function tlbEntriesAfterFrees(entries: number, freedMB: readonly number[]): number {
  const tlb = new TcgTlb(entries);
  for (const mb of freedMB) tlb.free(mb * PAGES_PER_MB, 0);
  return tlb.entries;
}
