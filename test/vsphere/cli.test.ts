/**
 * `vm-monitoring run --platform vsphere` end to end against vcsim: the CLI as a user runs it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readCsvFile, runCli } from '../support/cli.ts';
import { needing } from '../support/needing.ts';
import { credentialsInEnvironment, startVcsim, vcsimSkip, type Vcsim } from './vcsim.ts';

const { after, before, describe, it } = needing(vcsimSkip().skip);

describe('vm-monitoring run --platform vsphere', () => {
  let sim: Vcsim;
  let config: string;
  let script: string;
  let restoreEnvironment = (): void => {};

  before(async () => {
    sim = await startVcsim({ hostsPerCluster: 2, vmsPerPool: 1 });
    restoreEnvironment = credentialsInEnvironment(sim);
    config = path.join(sim.dir, 'config.yaml');
    fs.writeFileSync(config, `url: ${sim.url}\nload: {url: "http://127.0.0.1:9"}\ntimeouts: {taskPollSeconds: 0.1}\n`);
    const vm = Object.keys(sim.vms)[0]!;
    const other = sim.hosts.find((h) => h !== sim.vms[vm])!;
    script = path.join(sim.dir, 'script.txt');
    fs.writeFileSync(script, `${sim.vms[vm]}:${vm} ${other}:\n0.2 migrate ${vm} ${other}\n0.2 end\n`);
  });

  after(async () => {
    restoreEnvironment();
    await sim?.stop();
  });

  it('runs a script with --ca-file, records the migration, keeps the password out of every file', async () => {
    const out = path.join(sim.dir, 'run');
    const result = await runCli(['run', script, '--platform', 'vsphere', '--config', config, '--ca-file', sim.caFile, '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /,migration,.*,script,.*succeeded/);
    const migrations = readCsvFile(path.join(out, 'migrations.csv')).rows;
    assert.deepEqual(migrations.map((m) => [m.status, m.kind]), [['succeeded', 'script']]);
    const details = fs.readFileSync(path.join(out, 'migration-details.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(details.length, 1);
    const { vsphere } = details[0] as { vsphere: { task: string; task_start_time: string; task_complete_time: string; event: Record<string, unknown> } };
    assert.deepEqual(Object.keys(vsphere), ['task', 'task_start_time', 'task_complete_time', 'event']);
    assert.match(vsphere.task_start_time, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/, 'the server\'s time as it wrote it');
    assert.deepEqual(
      { type: vsphere.event.type, source: vsphere.event.source_host, target: vsphere.event.target_host },
      { type: 'VmMigratedEvent', source: migrations[0]!.source, target: migrations[0]!.target },
    );
    for (const file of fs.readdirSync(out)) {
      assert.ok(!fs.readFileSync(path.join(out, file), 'utf8').includes(sim.password), `${file} holds the password`);
    }
    assert.ok(!result.stderr.includes(sim.password));
    const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { platform: { name: string; tls: { ca_file: string }; max_response_mib: number } };
    assert.equal(runJson.platform.name, 'vsphere');
    assert.equal(runJson.platform.tls.ca_file, sim.caFile);
    assert.equal(runJson.platform.max_response_mib, 16);
  });

  it('fails with one line naming the setting when an answer is longer than maxResponseMiB', async () => {
    const capped = path.join(sim.dir, 'capped.yaml');
    fs.writeFileSync(capped, `${fs.readFileSync(config, 'utf8')}maxResponseMiB: 0.0001\n`);
    const result = await runCli(['run', script, '--platform', 'vsphere', '--config', capped, '--ca-file', sim.caFile, '--out', path.join(sim.dir, 'capped')]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `vm-monitoring: error: RetrieveServiceContent: the answer from ${new URL(sim.url).origin} is larger than 0.0001 MiB (maxResponseMiB in the vsphere config)\n`,
    );
  });

  it('exits 2 with one line when the certificate cannot be verified, and warns under --insecure', async () => {
    const refused = await runCli(['run', script, '--platform', 'vsphere', '--config', config, '--out', path.join(sim.dir, 'no-ca')]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^vm-monitoring: RetrieveServiceContent: TLS: .*--ca-file.*--insecure\n$/);
    const insecure = await runCli(['run', script, '--platform', 'vsphere', '--config', config, '--insecure', '--out', path.join(sim.dir, 'insecure')]);
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.match(insecure.stderr, /warning: TLS certificate verification is OFF/);
  });
});
