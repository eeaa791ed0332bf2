/**
 * Hostile input through the real CLI: every limit of src/input-limits.ts answers with one
 * line at FILE:LINE:COL, exit 2 and nothing started, within seconds and without GBs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MAX_CLIENTS, MAX_EXPERIMENT_SECONDS, MAX_HOSTS, MAX_SCRIPT_BYTES } from '../../src/input-limits.ts';
import { assertBadInput, runCli, withTempDir, writeScript, type CliResult } from '../support/cli.ts';

/** Long enough for the CLI to start on a busy machine; far too short to eat GBs or loop for ever. */
const TIMEOUT_MS = 20_000;

const SMALL_SCRIPT = ['esx1:vm1 esx2:', '0 add-client cpu 1', '10 end'];

/** Runs `run SCRIPT ...flags` into a fresh directory, which must not have been created. */
async function runBadInput(tmp: string, script: string, flags: string[] = []): Promise<CliResult> {
  const out = path.join(tmp, 'run');
  const result = await runCli(['run', script, '--out', out, ...flags], { timeoutMs: TIMEOUT_MS });
  assert.equal(fs.existsSync(out), false, 'no run directory for bad input');
  return result;
}

describe('bounded input through the CLI', { concurrency: 2 }, () => {
  it('refuses /dev/zero as a script, reading only up to the limit', () =>
    withTempDir(async (tmp) => {
      const line = assertBadInput(await runBadInput(tmp, '/dev/zero'), '/dev/zero');
      assert.equal(line, `vm-monitoring: /dev/zero:1:${MAX_SCRIPT_BYTES + 1}: script larger than 4 MiB (the most a script may be)`);
    }));

  it('refuses /dev/urandom as a config, reading only up to the limit', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 's.txt', SMALL_SCRIPT);
      const line = assertBadInput(await runBadInput(tmp, script, ['--config', '/dev/urandom']), '/dev/urandom');
      assert.match(line, /^vm-monitoring: \/dev\/urandom:\d+:\d+: config larger than 1 MiB \(the most a config may be\)$/);
    }));

  it('refuses a script file one byte over the limit', () =>
    withTempDir(async (tmp) => {
      const script = path.join(tmp, 'large.txt');
      const placement = 'esx1:vm1 esx2:\n';
      fs.writeFileSync(script, placement + '#'.repeat(MAX_SCRIPT_BYTES - placement.length) + '\n');
      const line = assertBadInput(await runBadInput(tmp, script), 'large script');
      assert.equal(line, `vm-monitoring: ${script}:2:${MAX_SCRIPT_BYTES - placement.length + 1}: script larger than 4 MiB (the most a script may be)`);
    }));

  it('refuses 100000000 clients at the count, before creating any', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 's.txt', ['esx1:vm1 esx2:', '0 add-client cpu 100000000', '10 end']);
      const line = assertBadInput(await runBadInput(tmp, script), 'too many clients');
      assert.equal(
        line,
        `vm-monitoring: ${script}:2:18: adding 100000000 cpu clients would make 100000000 clients run at once, more than the ${MAX_CLIENTS} allowed`,
      );
    }));

  it('refuses a time of 1 and 308 zeros, which would run for ever', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 's.txt', ['esx1:vm1 esx2:', `1${'0'.repeat(308)} end`]);
      const line = assertBadInput(await runBadInput(tmp, script), 'endless time');
      assert.equal(
        line,
        `vm-monitoring: ${script}:2:1: this action would fire at 1e+308 s, but an experiment may last at most ${MAX_EXPERIMENT_SECONDS} s (7 days)`,
      );
    }));

  it('refuses 100,000 hosts at the first one past the limit, in seconds', () =>
    withTempDir(async (tmp) => {
      const hosts = Array.from({ length: 100_000 }, (_, index) => `h${index}:`);
      const script = writeScript(tmp, 's.txt', [hosts.join(' '), '0 end']);
      const column = hosts.slice(0, MAX_HOSTS).join(' ').length + 2;
      const line = assertBadInput(await runBadInput(tmp, script), '100,000 hosts');
      assert.equal(line, `vm-monitoring: ${script}:1:${column}: more than ${MAX_HOSTS} hosts on the placement line (the most a script may have)`);
    }));

  it('refuses clients when the placement line has no VM to serve them, instead of crashing', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 's.txt', ['esx1: esx2:', '0 add-client cpu 1']);
      const line = assertBadInput(await runBadInput(tmp, script), 'no servers');
      assert.equal(line, `vm-monitoring: ${script}:2:3: add-client: no VM on the placement line to serve the clients`);
    }));

  it('shows the escape bytes of a bad VM name escaped, never raw', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 's.txt', ['esx1:vm1 esx2:', '0 migrate vm\u001b[2J\u001b[31m esx2']);
      const result = await runBadInput(tmp, script);
      const line = assertBadInput(result, 'escape bytes');
      assert.ok(!result.stderr.includes('\u001b'), 'no raw ESC on stderr');
      assert.equal(
        line,
        `vm-monitoring: ${script}:2:13: bad character '\\u001b' in VM name 'vm\\u001b[2J\\u001b[31m' (use letters, digits, '.', '_' and '-')`,
      );
    }));

  it('reports a refresh rate the sim cannot sample at against its config line, not as --interval', () =>
    withTempDir(async (tmp) => {
      const script = writeScript(tmp, 's.txt', SMALL_SCRIPT);
      const config = path.join(tmp, 'sim.yaml');
      fs.writeFileSync(config, '# too fine for the sim\nrefreshSeconds: 0.5\n');
      const line = assertBadInput(await runBadInput(tmp, script, ['--config', config]), 'refreshSeconds');
      assert.equal(line, `vm-monitoring: ${config}:2:17: refreshSeconds: the sim samples at most every 1 s`);
    }));
});
