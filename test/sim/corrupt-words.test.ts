/** The sim's servers never corrupt their data, but its requests carry the same corrupt_words column as real ones. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOnSim } from './run-on-sim.ts';

test('every sim answer is checked and clean: corrupt_words 0, never a corrupt request', async () => {
  const { requests } = await runOnSim(['esx1:vm1 esx2:', '0 add-client cpu 2', '0 add-client memory2 2', '30 migrate vm1 esx2', '3000 end'].join('\n'));
  assert.ok(requests.length > 10, `${requests.length} requests`);
  assert.deepEqual(requests.filter((r) => r.status !== 'ok' || r.corrupt_words !== 0), []);
});
