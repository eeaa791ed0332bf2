/**
 * The report's integrity counts: corrupt requests and words per run, and the migrations they
 * (or migration-details.jsonl) flag; older run directories without corrupt_words still read.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import type { RequestRecord } from '../../src/record/records.ts';
import { IntegritySummary } from '../../src/report/integrity-summary.ts';
import { loadRuns } from '../../src/report/load-runs.ts';
import { readFlaggedMigrations } from '../../src/report/read-migration-details.ts';
import { streamRequests } from '../../src/report/read-run.ts';
import { runsTable } from '../../src/report/report-tables.ts';
import { withTempDir } from '../support/cli.ts';
import { migration, request, writeRun } from './run-fixture.ts';

/** A line of migration-details.jsonl as RunDirectory writes it, with `integrity` when given. */
function detailsLine(fields: { vm?: string; requested_s: number; flagged?: boolean }): string {
  const integrity = fields.flagged === undefined ? {} : { integrity: { corrupt_requests: 0, answered_after: !fields.flagged, flagged: fields.flagged } };
  return JSON.stringify({ vm: fields.vm ?? 'vm1', source: 'host1', target: 'host2', requested_s: fields.requested_s, kind: 'script', status: 'succeeded', qemu: {}, ...integrity });
}

function integrityCells(table: ReturnType<typeof runsTable>, row = 0): unknown[] {
  const at = (header: string): number => table.columns.findIndex((column) => column.header === header);
  return ['corrupt requests', 'corrupt words', 'flagged migrations'].map((header) => table.rows[row]?.[at(header)]);
}

describe('integrity in the report', () => {
  it('counts corrupt requests and words, and flags each migration a corrupt answer of its VM overlaps once', () => {
    // vm1 migrates over [10, 20] and [30, 40]; vm2 over [10, 20].
    const migrations = [
      migration({ started_s: 10, ended_s: 20 }),
      migration({ started_s: 30, ended_s: 40 }),
      migration({ vm: 'vm2', started_s: 10, ended_s: 20 }),
    ];
    const summary = new IntegritySummary(migrations, []);
    const requests: RequestRecord[] = [
      request({ sent_s: 1, received_s: 2 }),
      request({ sent_s: 19, received_s: 21, status: 'corrupt', corrupt_words: 3 }),
      request({ sent_s: 15, received_s: 16, status: 'corrupt', corrupt_words: 5 }),
      // vm2's corrupt answer after its migration flags none; one of vm1 touching [30, 40] only at its start neither.
      request({ server: 'vm2', sent_s: 21, received_s: 22, status: 'corrupt', corrupt_words: 1 }),
      request({ sent_s: 29, received_s: 30, status: 'corrupt', corrupt_words: 2 }),
      request({ status: 'aborted', corrupt_words: null }),
    ];
    for (const r of requests) summary.add(r);
    assert.deepEqual(summary.result(), { checkedRequests: 5, corruptRequests: 4, corruptWords: 11, flaggedMigrations: 1 });
  });

  it('adds the migrations migration-details.jsonl flags, matched to their rows, and says nothing when nothing was checked', () => {
    const migrations = [migration({ started_s: 10, ended_s: 20, requested_s: 9.9996 }), migration({ started_s: 30, ended_s: 40 })];
    const flags = [
      { vm: 'vm1', source: 'host1', target: 'host2', kind: 'script' as const, requested_s: 9.99957 },
      { vm: 'vm1', source: 'host1', target: 'host2', kind: 'script' as const, requested_s: 30 },
    ];
    const summary = new IntegritySummary(migrations, flags);
    summary.add(request({ sent_s: 11, received_s: 12, status: 'corrupt', corrupt_words: 1 }));
    assert.deepEqual(summary.result(), { checkedRequests: 1, corruptRequests: 1, corruptWords: 1, flaggedMigrations: 2 });

    const unchecked = new IntegritySummary(migrations, []);
    unchecked.add(request({ corrupt_words: null }));
    assert.deepEqual(unchecked.result(), { checkedRequests: 0, corruptRequests: null, corruptWords: null, flaggedMigrations: null });
    const deadAfter = new IntegritySummary(migrations, flags.slice(1));
    assert.deepEqual(deadAfter.result(), { checkedRequests: 0, corruptRequests: null, corruptWords: null, flaggedMigrations: 1 });
  });

  it('reads the flagged migrations of migration-details.jsonl: none without the file, a bad line at its line, a cut-off last line skipped', async () => {
    await withTempDir(async (dir) => {
      assert.deepEqual(await readFlaggedMigrations(dir), []);
      const file = path.join(dir, 'migration-details.jsonl');
      fs.writeFileSync(
        file,
        [detailsLine({ requested_s: 1 }), detailsLine({ requested_s: 2, flagged: false }), detailsLine({ vm: 'vm7', requested_s: 3.5, flagged: true }), ''].join('\n') +
          detailsLine({ requested_s: 4, flagged: true }).slice(0, 30),
      );
      assert.deepEqual(await readFlaggedMigrations(dir), [{ vm: 'vm7', source: 'host1', target: 'host2', kind: 'script', requested_s: 3.5 }]);

      fs.writeFileSync(file, `${detailsLine({ requested_s: 1 })}\n{"vm": \n${detailsLine({ requested_s: 2 })}\n`);
      const error = await readFlaggedMigrations(dir).then(
        () => assert.fail('a bad line is an error'),
        (thrown: unknown) => thrown,
      );
      assert.ok(error instanceof InputError);
      assert.match(error.toOneLine(), new RegExp(`^${file}:2:1: bad JSON: `));
    });
  });

  it('shows the counts in the runs table, and reads a run directory from before corrupt_words with the cells empty', async () => {
    await withTempDir(async (tmp) => {
      const current = path.join(tmp, 'current');
      writeRun(current, {
        migrations: [migration({ started_s: 10, ended_s: 20 }), migration({ started_s: 30, ended_s: 40, requested_s: 30 })],
        requests: [request({ sent_s: 12, received_s: 13, status: 'corrupt', corrupt_words: 7 }), request({ sent_s: 13, received_s: 14 })],
      });
      fs.writeFileSync(path.join(current, 'migration-details.jsonl'), `${detailsLine({ requested_s: 10 })}\n${detailsLine({ requested_s: 30, flagged: true })}\n`);

      const old = path.join(tmp, 'old');
      writeRun(old, { migrations: [migration({})] });
      fs.writeFileSync(
        path.join(old, 'requests.csv'),
        'client_type,client_id,sent_s,received_s,latency_ms,server,processing_ms,status\ncpu,cpu-1,0,1,100,vm1,99,ok\n',
      );
      const oldRequests: RequestRecord[] = [];
      await streamRequests(old, (r) => oldRequests.push(r));
      assert.deepEqual(oldRequests.map((r) => [r.status, r.corrupt_words]), [['ok', null]]);

      const { runs } = await loadRuns([{ dir: current }, { dir: old }], undefined);
      const table = runsTable(runs);
      assert.deepEqual(integrityCells(table, 0), [1, 7, 2], 'one corrupt request of 7 words; its migration and the one the details flag');
      assert.deepEqual(integrityCells(table, 1), [null, null, null], 'the old run cannot tell');
      assert.match(table.caption, /Corrupt requests were answered, but the server found words of their data wrong/);
    });
  });
});
