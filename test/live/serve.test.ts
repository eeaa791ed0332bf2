/**
 * `run --serve` and `--pace`: a paced sim run serves its metrics while it goes, in
 * Prometheus' text format (parsed here with a parser of that format), and stops serving
 * when it ends.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../src/errors.ts';
import { parseServeAddress } from '../../src/live/serve-address.ts';
import { assertBadInput, REPO_ROOT, runCli, withTempDir } from '../support/cli.ts';
import { needing } from '../support/needing.ts';
import { parsePrometheusText, prometheusParserSkip, type MetricFamily } from './support/prometheus-text.ts';

const { describe, it } = needing(prometheusParserSkip());

type Families = MetricFamily[];

/** The value of the sample named `sample` (the family's name by default) with these labels. */
const value = (families: Families, name: string, labels: Record<string, string> = {}, sample = name): number => {
  const family = families.find((candidate) => candidate.name === name);
  assert.ok(family, `${name} is served`);
  const found = family.samples.find((s) => s.name === sample && Object.entries(labels).every(([key, wanted]) => s.labels[key] === wanted));
  assert.ok(found, `${sample}${JSON.stringify(labels)}`);
  return found.value;
};

/** The page as served (parsed after the run, so that a slow parser cannot outlast it). */
async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The series names the Grafana dashboard's queries read, without a histogram's suffixes. */
function dashboardSeries(): string[] {
  const dashboard = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'samples/grafana/vm-monitoring.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const names = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(/\bvm_monitoring_\w+/g) ?? []));
  return [...new Set(names.map((name) => name.replace(/_(bucket|count|sum)$/, '')))];
}

describe('run --serve', () => {
  it('serves a paced sim run\'s metrics while it goes, then stops serving', () =>
    withTempDir(async (tmp) => {
      const out = path.join(tmp, 'run');
      const pages: string[] = [];
      let url: string | undefined;
      let scraping: Promise<void> | undefined;
      // 3,254 s of experiment at 250 per wall second: about 13 s to scrape in.
      const result = await runCli(['run', 'samples/3.2/light-cpu.txt', '--serve', '0', '--pace', '250', '--out', out], {
        timeoutMs: 120_000,
        onStderr: (_child, stderr) => {
          url ??= /the metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics) until it ends/.exec(stderr)?.[1];
          if (url === undefined || scraping) return;
          const target = url;
          scraping = (async () => {
            for (let i = 0; i < 3; i++) {
              await new Promise((resolve) => setTimeout(resolve, 2000));
              pages.push(await scrape(target));
            }
          })();
        },
      });
      assert.equal(result.code, 0, result.stderr);
      await scraping;
      assert.equal(pages.length, 3, 'three scrapes while it ran');

      const [first, , last] = (await Promise.all(pages.map(parsePrometheusText))) as [Families, Families, Families];
      for (const host of ['esx1', 'esx2', 'esx3', 'esx4', 'esx5', 'esx6']) {
        assert.ok(value(last, 'vm_monitoring_host_cpu_usage_hertz', { host }) >= 0);
        assert.ok(value(last, 'vm_monitoring_host_memory_consumed_bytes', { host }) > 1e6, 'KB as bytes');
        assert.ok(Number.isInteger(value(last, 'vm_monitoring_host_vms', { host })));
      }
      const timeFirst = value(first, 'vm_monitoring_experiment_time_seconds');
      const timeLast = value(last, 'vm_monitoring_experiment_time_seconds');
      assert.ok(timeLast > timeFirst + 500, `experiment time moved on between scrapes: ${timeFirst} then ${timeLast}`);
      const ended = (families: Families): number => value(families, 'vm_monitoring_migrations', { kind: 'script', status: 'succeeded' }, 'vm_monitoring_migrations_total');
      assert.ok(ended(last) > ended(first), 'migrations counted as they end');
      const histogram = last.find((family) => family.name === 'vm_monitoring_migration_duration_seconds');
      assert.equal(histogram?.type, 'histogram');
      assert.equal(value(last, 'vm_monitoring_migration_duration_seconds', { kind: 'script' }, 'vm_monitoring_migration_duration_seconds_count'), ended(last), 'one observation per succeeded migration');
      assert.equal(value(last, 'vm_monitoring_migration_duration_seconds', { kind: 'script', le: '+Inf' }, 'vm_monitoring_migration_duration_seconds_bucket'), ended(last));
      assert.equal(last.find((family) => family.name === 'vm_monitoring_requests')?.type, 'counter');

      const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { run_seconds: number; wall_seconds: number };
      assert.ok(runJson.wall_seconds >= (runJson.run_seconds / 250) * 0.95, `paced: ${runJson.run_seconds} s of experiment in ${runJson.wall_seconds} s`);
      await assert.rejects(fetch(url!), 'nothing listens after the run');

      // samples/grafana's dashboard reads only what the run declares (power too: its gauge is declared, set in policy runs).
      const declared = new Set([...pages[2]!.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
      const series = dashboardSeries();
      assert.ok(series.length >= 10, series.join(', '));
      assert.deepEqual(series.filter((name) => !declared.has(name)), [], 'every series of the dashboard is served');
    }));

  it('listens on loopback unless told otherwise, and says why not in one line', async () => {
    assert.deepEqual(parseServeAddress('9100', false), { host: '127.0.0.1', port: 9100 });
    assert.deepEqual(parseServeAddress('[::1]:0', false), { host: '::1', port: 0 });
    assert.deepEqual(parseServeAddress('0.0.0.0:9100', true), { host: '0.0.0.0', port: 9100 });
    assert.throws(() => parseServeAddress('0.0.0.0:9100', false), (error: unknown) => error instanceof InputError && /--serve-beyond-loopback/.test(error.message));
    assert.throws(() => parseServeAddress('host.example:9100', true), /not an IP address/);
    assert.throws(() => parseServeAddress('99999', false), /expected PORT or HOST:PORT/);
    await withTempDir(async (tmp) => {
      const line = assertBadInput(await runCli(['run', 'samples/3.2/light-cpu.txt', '--serve', '10.0.0.1:9100', '--out', path.join(tmp, 'run')]), 'beyond loopback');
      assert.match(line, /^vm-monitoring: --serve 10\.0\.0\.1:9100: 10\.0\.0\.1 is not a loopback address/);
      assert.equal(fs.existsSync(path.join(tmp, 'run')), false);
    });
  });
});
