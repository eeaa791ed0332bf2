import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CpuHistory } from '../../src/policy/cpu-history.ts';
import { choosePower, powerOffCeiling, type PoweredHost } from '../../src/policy/power-plan.ts';

const SETTINGS = { targetUtilization: 0.63, tolerance: 0.18, minHostsOn: 1 };
/** A host of 1000 MHz at `use`, steady over both histories. */
const host = (name: string, use: number, vms = 2, extra: Partial<PoweredHost> = {}): PoweredHost => ({
  host: name, capacityMHz: 1000, longMHz: use * 1000, recentMHz: use * 1000, forecastMHz: use * 1000, vms, busy: false, ...extra,
});

describe('DPM choices', () => {
  it('spaces the power-off ceilings from the range\'s low end up, none at level 1', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((level) => powerOffCeiling(level as 1, SETTINGS)?.toFixed(2)), [undefined, '0.45', '0.54', '0.63', '0.72']);
  });

  it('wakes the first host in standby when the hosts on carry more than the high end, at any level', () => {
    const choice = choosePower([host('a', 0.9), host('b', 0.8)], ['c', 'd'], 1, SETTINGS);
    assert.deepEqual([choice.kind, choice.kind === 'none' ? '' : choice.host], ['power-on', 'c']);
  });

  it('wakes a host ahead of a rising load, by the forecast of the total, not one hot host', () => {
    const rising = choosePower([host('a', 0.7, 2, { forecastMHz: 950 }), host('b', 0.7)], ['c'], 3, SETTINGS);
    assert.equal(rising.kind, 'power-on');
    // One host above the range, the other nearly idle: DRS's to balance.
    assert.equal(choosePower([host('a', 0.95), host('b', 0.05)], ['c'], 3, SETTINGS).kind, 'none');
    const full = choosePower([host('a', 0.9), host('b', 0.9)], [], 3, SETTINGS);
    assert.match(full.reason, /no host is in standby/);
  });

  it('powers off the emptiest host when the others can carry its load within the level\'s ceiling', () => {
    const hosts = [host('a', 0.3, 3), host('b', 0.2, 1), host('c', 0.3, 2)];
    const off = choosePower(hosts, [], 3, SETTINGS);
    assert.deepEqual([off.kind, off.kind === 'none' ? '' : off.host], ['power-off', 'b']);
    // 0.8 of 2000 MHz left on 1000: above every ceiling.
    assert.equal(choosePower([host('a', 0.4), host('b', 0.4)], [], 5, SETTINGS).kind, 'none');
    assert.match(choosePower(hosts, [], 1, SETTINGS).reason, /level 1/);
  });

  it('powers nothing off without a whole history, above the low end, or at the fewest hosts', () => {
    assert.match(choosePower([host('a', 0.1), host('b', 0.1, 2, { longMHz: undefined })], [], 5, SETTINGS).reason, /whole power-off history/);
    assert.match(choosePower([host('a', 0.5), host('b', 0.5)], [], 5, SETTINGS).reason, /not below/);
    assert.match(choosePower([host('a', 0.1)], [], 5, SETTINGS).reason, /fewest allowed/);
    assert.match(choosePower([host('a', 0.1, 2, { busy: true }), host('b', 0.1, 2, { busy: true })], [], 5, SETTINGS).reason, /migrating/);
  });
});

describe('the CPU history', () => {
  const history = (): CpuHistory => {
    const cpu = new CpuHistory(10, 10_000);
    // Host a climbs 1 MHz a second; b is flat at 500.
    for (let t = 10; t <= 600; t += 10) {
      cpu.observe({ time_s: t, host: 'a', counter: 'cpu.usagemhz.average', value: t, unit: 'MHz' });
      cpu.observe({ time_s: t, host: 'b', counter: 'cpu.usagemhz.average', value: 500, unit: 'MHz' });
    }
    return cpu;
  };

  it('averages the samples whose intervals lie in a window', () => {
    const cpu = history();
    assert.equal(cpu.meanSince('a', 500), 555); // 510..600
    assert.equal(cpu.meanSince('a', 0, 30), 20);
    assert.equal(cpu.meanSince('c', 0), undefined);
    assert.equal(cpu.latest('a'), 600);
  });

  it('carries the recent mean along the long trend to the time asked', () => {
    const cpu = history();
    const ahead = cpu.forecast('a', { fromS: 300, trendFromS: 0, nowS: 600, aheadSeconds: 100 })!;
    assert.ok(Math.abs(ahead - 700) < 1e-9, `${ahead}`);
    assert.equal(cpu.forecast('b', { fromS: 300, trendFromS: 0, nowS: 600, aheadSeconds: 100 }), 500);
  });

  it('keeps only what it is asked to and reads only the CPU counter', () => {
    const cpu = new CpuHistory(10, 100);
    for (let t = 10; t <= 600; t += 10) cpu.observe({ time_s: t, host: 'a', counter: 'cpu.usagemhz.average', value: t, unit: 'MHz' });
    cpu.observe({ time_s: 610, host: 'a', counter: 'mem.active.average', value: 1e9, unit: 'KB' });
    assert.equal(cpu.meanSince('a', 0), 545); // 490..600 kept
  });
});
