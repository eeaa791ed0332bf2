/**
 * The placement policy on `--platform vsphere`, against vcsim: hosts' capacities from the
 * server, and a refusal to run alongside a cluster's own fully automated DRS unless told to.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertBadInput, readCsvFile, runCli } from '../support/cli.ts';
import { needing } from '../support/needing.ts';
import { credentialsInEnvironment, startVcsim, vcsimSkip, type Vcsim } from './vcsim.ts';

const { after, before, describe, it } = needing(vcsimSkip().skip);

describe('vm-monitoring run --platform vsphere with a placement policy', () => {
  let sim: Vcsim;
  let config: string;
  let restoreEnvironment = (): void => {};

  /** A script that places the VMs of `hosts` where they are and turns DRS on. */
  const script = (name: string, hosts: readonly string[]): string => {
    const placement = hosts.map((host) => `${host}:${Object.keys(sim.vms).filter((vm) => sim.vms[vm] === host).join(',')}`).join(' ');
    const file = path.join(sim.dir, name);
    fs.writeFileSync(file, `${placement}\n0 drs 3\n1 end\n`);
    return file;
  };
  const run = (file: string, out: string, extra: string[] = []) =>
    runCli(['run', file, '--platform', 'vsphere', '--config', config, '--ca-file', sim.caFile, '--out', path.join(sim.dir, out), ...extra]);

  before(async () => {
    sim = await startVcsim({ hostsPerCluster: 2, standaloneHosts: 2, vmsPerPool: 1 });
    restoreEnvironment = credentialsInEnvironment(sim);
    config = path.join(sim.dir, 'config.yaml');
    fs.writeFileSync(config, `url: ${sim.url}\nload: {url: "http://127.0.0.1:9"}\ntimeouts: {taskPollSeconds: 0.1}\n`);
  });

  after(async () => {
    restoreEnvironment();
    await sim?.stop();
  });

  const clustered = (): string[] => sim.hosts.filter((host) => /_C\d+_H\d+$/.test(host));
  const standalone = (): string[] => sim.hosts.filter((host) => !/_C\d+_H\d+$/.test(host));

  it('refuses to run alongside a cluster\'s fully automated DRS (vcsim\'s clusters have it on), at the policy action', async () => {
    assert.equal(clustered().length, 2, sim.hosts.join(', '));
    const file = script('clustered.txt', clustered());
    const line = assertBadInput(await run(file, 'refused'), 'cluster DRS');
    assert.match(line, new RegExp(`${file.replaceAll('/', '\\/')}:2:1: the vsphere platform moves VMs of ${clustered()[0]} \\(the DRS of cluster \\S+ \\(fullyAutomated\\)\\)`));
    assert.match(line, /alongsidePlatformPolicy: true/);
    assert.equal(fs.existsSync(path.join(sim.dir, 'refused')), false, 'nothing ran');
  });

  it('runs alongside it when told to, weighing hosts by the capacity the server reports', async () => {
    const policy = path.join(sim.dir, 'alongside.yaml');
    fs.writeFileSync(policy, 'alongsidePlatformPolicy: true\n');
    const result = await run(script('alongside.txt', clustered()), 'alongside', ['--policy', policy]);
    assert.equal(result.code, 0, result.stderr);
    const out = path.join(sim.dir, 'alongside');
    const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { policy: { alongsidePlatformPolicy: boolean; host_cpu_mhz: Record<string, number> } };
    assert.equal(runJson.policy.alongsidePlatformPolicy, true);
    assert.deepEqual(Object.keys(runJson.policy.host_cpu_mhz).sort(), [...clustered()].sort());
    assert.ok(Object.values(runJson.policy.host_cpu_mhz).every((mhz) => mhz > 0), JSON.stringify(runJson.policy.host_cpu_mhz));
    const decisions = readCsvFile(path.join(out, 'decisions.csv')).rows;
    assert.ok(decisions.length >= 1 && decisions.every((d) => d.policy === 'drs' && d.level === '3'));
  });

  it('runs on hosts outside any cluster without being told to', async () => {
    const result = await run(script('standalone.txt', standalone()), 'standalone');
    assert.equal(result.code, 0, result.stderr);
    assert.ok(fs.existsSync(path.join(sim.dir, 'standalone', 'decisions.csv')));
  });
});
