import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { balancePriority, bestMove, describeLoads, spreadOf, vmShareMHz, withMove, type HostLoad } from '../../src/policy/balance.ts';

const host = (name: string, cpuMHz: number, vms: string[], capacityMHz = 1000): HostLoad => ({ host: name, cpuMHz, capacityMHz, vms });
const anyMove = { minGain: 0.01, movable: () => true, acceptsVms: () => true };

describe('DRS balancing', () => {
  it('measures the spread as the population standard deviation of CPU use over capacity', () => {
    assert.equal(spreadOf([host('a', 500, []), host('b', 500, [])]), 0);
    assert.equal(spreadOf([host('a', 1000, []), host('b', 0, [])]), 0.5);
    // 2000 MHz used of 4000 is the same use as 500 of 1000.
    assert.equal(spreadOf([host('a', 2000, [], 4000), host('b', 500, [])]), 0);
  });

  it('gives the priority of KB 1007485, 6 - ceil(spread / 0.1 * sqrt(hosts)), never 1 for balancing', () => {
    assert.equal(balancePriority(0, 4), 6);
    assert.equal(balancePriority(0.04, 4), 5); // 0.8 → 1
    assert.equal(balancePriority(0.06, 4), 4); // 1.2 → 2
    assert.equal(balancePriority(0.14, 4), 3); // 2.8 → 3
    assert.equal(balancePriority(0.16, 4), 2); // 3.2 → 4
    assert.equal(balancePriority(0.5, 4), 2); // 10 → clamped
    // More hosts, the same spread weighs more.
    assert.equal(balancePriority(0.06, 1), 5);
    assert.equal(balancePriority(0.06, 9), 4);
  });

  it('takes an equal share of its host for a VM and moves it with the VM', () => {
    const hosts = [host('a', 900, ['v1', 'v2', 'v3']), host('b', 0, [])];
    assert.equal(vmShareMHz(hosts[0]!), 300);
    assert.deepEqual(withMove(hosts, 'v2', 'a', 'b'), [host('a', 600, ['v1', 'v3']), host('b', 300, ['v2'])]);
  });

  it('chooses the move that leaves the smallest spread, from above the mean to below it', () => {
    const hosts = [host('a', 800, ['v1', 'v2', 'v3', 'v4']), host('b', 400, ['v5', 'v6']), host('c', 0, [])];
    const move = bestMove(hosts, anyMove);
    assert.equal(move?.source, 'a');
    assert.equal(move?.target, 'c');
    assert.equal(move?.vm, 'v1');
    assert.ok(move.spreadAfter < move.spreadBefore);
  });

  it('moves nothing that does not cut the spread by the minimum gain, nor between equal hosts', () => {
    // Two VMs against one on two cores each: moving either way swaps the imbalance.
    assert.equal(bestMove([host('a', 1000, ['v1', 'v2']), host('b', 500, ['v3'])], anyMove), undefined);
    assert.equal(bestMove([host('a', 500, ['v1']), host('b', 500, ['v2'])], { ...anyMove, minGain: 0 }), undefined);
    // 0.6 against 0.4, a VM's share 0.06: the spread goes from 0.1 to 0.04.
    const small = [host('a', 600, ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10']), host('b', 400, ['v11'])];
    assert.equal(bestMove(small, { ...anyMove, minGain: 0.07 }), undefined);
    assert.ok(Math.abs(bestMove(small, { ...anyMove, minGain: 0.05 })!.spreadAfter - 0.04) < 1e-9);
  });

  it('respects which VMs may move where and which hosts take VMs', () => {
    const hosts = [host('a', 900, ['v1', 'v2']), host('b', 0, []), host('c', 100, ['v3'])];
    assert.equal(bestMove(hosts, { ...anyMove, acceptsVms: (name) => name !== 'b' })?.target, 'c');
    assert.equal(bestMove(hosts, { ...anyMove, movable: (vm) => vm !== 'v1' })?.vm, 'v2');
    assert.equal(bestMove(hosts, { ...anyMove, movable: () => false }), undefined);
  });

  it('describes the loads as decisions.csv shows them', () => {
    assert.equal(describeLoads([host('esx1', 620, []), host('esx2', 100, [])]), 'esx1=0.620 esx2=0.100');
  });
});
