import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GATHER_BATCH_PAGES, TcgTlb, TLB_DEFAULT_ENTRIES, tlbEntriesAfterFrees } from '../../src/platforms/sim/tcg-tlb.ts';

test('a new process\'s TLB has 256 entries and none beyond them', () => {
  const tlb = new TcgTlb();
  assert.equal(tlb.entries, TLB_DEFAULT_ENTRIES);
  assert.equal(tlb.extraEntries, 0);
});

test('freeing grows the TLB by one doubling per flush that finds it more than 70 % used', () => {
  // 64 MB: batches of 9,698 and 6,686 pages, each filling the TLB; flushes before the second and after: two doublings.
  assert.equal(tlbEntriesAfterFrees(256, [64]), 1024);
  // 128 MB: four batches, each flush after one doubles.
  assert.equal(tlbEntriesAfterFrees(256, [128]), 4096);
  // 16 MB at a time: 4,096 pages fill it until it has twice as many entries, then 50 % use keeps it.
  assert.equal(tlbEntriesAfterFrees(256, Array.from({ length: 20 }, () => 16)), 8192);
  // Fewer pages than 70 % of its entries change nothing.
  assert.equal(tlbEntriesAfterFrees(256, [0.5, 0.5, 0.5]), 256);
  assert.equal(GATHER_BATCH_PAGES, 19 * 510 + 8);
});

test('the flush after a migration\'s setup shrinks a TLB the guest did not fill in the last 100 ms, and keeps one it did', () => {
  const quiet = new TcgTlb(1024);
  quiet.flushAfterSetup(5);
  assert.equal(quiet.entries, 256);
  const busy = new TcgTlb();
  busy.free(64 * 256, 4.95);
  busy.flushAfterSetup(5);
  assert.equal(busy.entries, 1024);
  const booted = new TcgTlb(1237);
  assert.equal(booted.extraEntries, 1237 - 256);
});
