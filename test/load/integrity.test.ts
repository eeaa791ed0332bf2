/** What a real platform's clients' answers say of each migration's VM memory (RequestIntegrity). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestIntegrity } from '../../src/load/integrity.ts';
import type { RequestRecord } from '../../src/record/records.ts';
import { RealClock } from '../../src/run/real-clock.ts';

function answer(fields: Partial<RequestRecord>): RequestRecord {
  return {
    client_type: 'memory2', client_id: 'memory2-1', sent_s: 0, received_s: 1, latency_ms: 1000, server: 'vm01', processing_ms: 999,
    status: 'ok', corrupt_words: 0, ...fields,
  };
}

/** Clients with `count` requests in flight, all sent at `sentS` (a fake of HttpLoad's side). */
function inFlight(sentS: number, count: { value: number }): { unansweredSentBy(timeS: number): number } {
  return { unansweredSentBy: (timeS) => (sentS <= timeS ? count.value : 0) };
}

describe('migration integrity from the clients\' answers', () => {
  it('counts the answers of the VM over the migration that were checked, and flags one with corrupt words', async () => {
    const integrity = new RequestIntegrity(new RealClock());
    const watch = integrity.watch('vm01');
    integrity.record(answer({ sent_s: 0, received_s: 1 })); // before the migration
    integrity.record(answer({ sent_s: 1.5, received_s: 2.5 }));
    integrity.record(answer({ sent_s: 2.5, received_s: 3.5, status: 'corrupt', corrupt_words: 12 }));
    integrity.record(answer({ server: 'vm02', sent_s: 2, received_s: 3, status: 'corrupt', corrupt_words: 5 })); // another VM's
    integrity.record(answer({ sent_s: 2, received_s: 3, corrupt_words: null })); // a server that cannot tell
    const result = await watch.settle({ started_s: 2, ended_s: 4 }, true, 1, new AbortController().signal);
    watch.close();
    assert.deepEqual(result, { checked_requests: 2, corrupt_requests: 1, corrupt_words: 12, unanswered_requests: 0, answered_after: true, flagged: true });

    const clean = integrity.watch('vm01');
    integrity.record(answer({ sent_s: 5, received_s: 6 }));
    const cleanResult = await clean.settle({ started_s: 5, ended_s: 7 }, true, 1, new AbortController().signal);
    assert.equal(cleanResult.flagged, false);
    assert.equal(cleanResult.checked_requests, 1);
    clean.close();
    integrity.record(answer({ sent_s: 6, received_s: 7, status: 'corrupt', corrupt_words: 1 }));
    assert.equal(clean.answers.length, 1, 'a closed watch hears nothing more');
  });

  it('waits for the requests in flight when the migration ended, so that a late corrupt answer still counts', async () => {
    const integrity = new RequestIntegrity(new RealClock());
    const pending = { value: 1 };
    integrity.addLoad(inFlight(0.5, pending));
    const watch = integrity.watch('vm01');
    setTimeout(() => {
      pending.value = 0;
      integrity.record(answer({ sent_s: 0.5, received_s: 1.5, status: 'corrupt', corrupt_words: 3 }));
    }, 300);
    const result = await watch.settle({ started_s: 0, ended_s: 1 }, true, 10, new AbortController().signal);
    watch.close();
    assert.deepEqual([result.corrupt_requests, result.corrupt_words, result.unanswered_requests, result.flagged], [1, 3, 0, true]);
  });

  it('waits at most its time, not at all for a VM that did not answer after, and says how many were left unanswered', async () => {
    const integrity = new RequestIntegrity(new RealClock());
    integrity.addLoad(inFlight(0.5, { value: 2 }));
    const bounded = integrity.watch('vm01');
    const started = performance.now();
    const waited = await bounded.settle({ started_s: 0, ended_s: 1 }, true, 0.3, new AbortController().signal);
    const waitedMs = performance.now() - started;
    assert.ok(waitedMs >= 250 && waitedMs < 2000, `waited ${waitedMs.toFixed(0)} ms`);
    assert.deepEqual([waited.unanswered_requests, waited.flagged], [2, false]);

    const dead = integrity.watch('vm01');
    const before = performance.now();
    const result = await dead.settle({ started_s: 0, ended_s: 1 }, false, 10, new AbortController().signal);
    assert.ok(performance.now() - before < 200, 'no wait for a VM that does not answer');
    assert.deepEqual([result.answered_after, result.flagged, result.unanswered_requests], [false, true, 2]);

    const interrupted = integrity.watch('vm01');
    const unasked = await interrupted.settle({ started_s: 0, ended_s: 1 }, null, 10, AbortSignal.abort());
    assert.deepEqual([unasked.answered_after, unasked.flagged], [null, false]);
  });
});
