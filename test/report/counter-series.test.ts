import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SampleRecord } from '../../src/record/records.ts';
import { CHARTED_COUNTERS, HostCounterSeries, hostReceivingMostMigrations } from '../../src/report/counter-series.ts';
import { streamSamples } from '../../src/report/read-run.ts';
import { withTempDir } from '../support/cli.ts';
import { migration, writeRun } from './run-fixture.ts';

function sample(time_s: number, host: string, counter: string, value: number): SampleRecord {
  return { time_s, host, counter, value, unit: '' };
}

/** Samples as a monitor writes them, though with times out of order: every counter of two hosts. */
const SAMPLES: SampleRecord[] = [40, 20].flatMap((time) =>
  ['esx2', 'esx1'].flatMap((host) => [
    ...CHARTED_COUNTERS.map(({ name }, i) => sample(time, host, name, time + i + (host === 'esx1' ? 1000 : 0))),
    sample(time, host, 'vm.count', time / 20),
    sample(time, host, 'cpu.ready.summation', 1),
  ]),
);

async function seriesOf(host: string | undefined): Promise<ReturnType<HostCounterSeries['result']>> {
  return withTempDir(async (dir) => {
    writeRun(dir, { samples: SAMPLES });
    const series = new HostCounterSeries(host);
    await streamSamples(dir, (record) => series.add(record));
    return series.result();
  });
}

describe('HostCounterSeries', () => {
  it("gives the host's six charted counters in time order, with names and units", async () => {
    const { host, counters } = await seriesOf('esx1');
    assert.equal(host, 'esx1');
    assert.deepEqual(
      counters.map(({ counter, unit }) => `${counter} [${unit}]`),
      [
        'cpu.usagemhz.average [MHz]',
        'mem.consumed.average [KB]',
        'mem.active.average [KB]',
        'mem.shared.average [KB]',
        'mem.swapused.average [KB]',
        'net.usage.average [KBps]',
      ],
    );
    assert.deepEqual(counters[0]?.points, [
      [20, 1020],
      [40, 1040],
    ]);
    assert.deepEqual(counters[5]?.points, [
      [20, 1025],
      [40, 1045],
    ]);
  });

  it('gives the number of VMs on the host over time', async () => {
    assert.deepEqual((await seriesOf('esx1')).vmCount, [
      [20, 1],
      [40, 2],
    ]);
  });

  it('takes the first host in the samples when given none', async () => {
    const { host, counters } = await seriesOf(undefined);
    assert.equal(host, 'esx2');
    assert.deepEqual(counters[0]?.points, [
      [20, 20],
      [40, 40],
    ]);
  });

  it('lists the hosts seen, so that a host with no samples can be told apart', async () => {
    const { hostsSeen, counters } = await seriesOf('esx9');
    assert.deepEqual(hostsSeen, ['esx1', 'esx2']);
    assert.ok(counters.every(({ points }) => points.length === 0));
  });
});

describe('hostReceivingMostMigrations', () => {
  it('picks the target of most script migrations, setup ones left out', () => {
    const migrations = [
      migration({ target: 'esx3' }),
      migration({ target: 'esx3', status: 'failed' }),
      migration({ target: 'esx2' }),
      migration({ target: 'esx1', kind: 'setup' }),
      migration({ target: 'esx1', kind: 'setup' }),
      migration({ target: 'esx1', kind: 'setup' }),
    ];
    assert.equal(hostReceivingMostMigrations(migrations), 'esx3');
  });

  it('breaks ties by name', () => {
    const migrations = ['esx5', 'esx2', 'esx4', 'esx5', 'esx2'].map((target) => migration({ target }));
    assert.equal(hostReceivingMostMigrations(migrations), 'esx2');
  });

  it('has no answer without script migrations', () => {
    assert.equal(hostReceivingMostMigrations([]), undefined);
    assert.equal(hostReceivingMostMigrations([migration({ kind: 'setup' })]), undefined);
  });
});
