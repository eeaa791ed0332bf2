import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandLine } from '../../src/cli/command-line.ts';

describe('commandLine', () => {
  it('writes the arguments as a POSIX shell reads them back, quoting only where needed', () => {
    assert.equal(commandLine(['report', 'runs/a', '--out', 'r']), 'vm-monitoring report runs/a --out r');
    assert.equal(commandLine(['report', 'my run', "it's", '$HOME', '']), `vm-monitoring report 'my run' 'it'\\''s' '$HOME' ''`);
  });
});
