import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfigFile } from '../../src/config/load-config.ts';
import { InputError } from '../../src/errors.ts';
import { MAX_CONFIG_BYTES } from '../../src/input-limits.ts';

const labSchema = z
  .object({
    name: z.string(),
    hosts: z
      .object({
        cores: z.number(),
        kind: z.enum(['esx', 'sim']),
        label: z.string().optional(),
      })
      .strict(),
  })
  .strict();

const dir = mkdtempSync(join(tmpdir(), 'vm-monitoring-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function assertInputError(path: string, message: string, line?: number, column?: number): void {
  assert.throws(
    () => loadConfigFile(path, labSchema),
    (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.message, message);
      assert.deepEqual(error.at, line === undefined ? undefined : { file: path, line, column });
      return true;
    },
  );
}

describe('loadConfigFile', () => {
  it('refuses a list as a key at its line and column, before YAML would stringify it with a warning', () => {
    const warnings: unknown[] = [];
    const onWarning = (warning: unknown): number => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      assertInputError(writeConfig('list-key.yaml', 'name: lab\n? [a, b]\n: 1\n'), 'a key must be a plain name, not a list or mapping', 2, 3);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  it('reads and validates a YAML file', () => {
    const path = writeConfig('valid.yaml', '# lab\nname: lab\nhosts:\n  cores: 4\n  kind: esx\n');
    assert.deepEqual(loadConfigFile(path, labSchema), { name: 'lab', hosts: { cores: 4, kind: 'esx' } });
  });

  it('reads and validates a JSON file', () => {
    const path = writeConfig('valid.json', '{\n  "name": "lab",\n  "hosts": {"cores": 2, "kind": "sim", "label": "x"}\n}\n');
    assert.deepEqual(loadConfigFile(path, labSchema), {
      name: 'lab',
      hosts: { cores: 2, kind: 'sim', label: 'x' },
    });
  });

  it('reports a missing file without a position', () => {
    const path = join(dir, 'absent.yaml');
    assert.throws(
      () => loadConfigFile(path, labSchema),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /^cannot read config: ENOENT/);
        assert.equal(error.at, undefined);
        return true;
      },
    );
  });

  it('reports a YAML syntax error where the parser found it', () => {
    const path = writeConfig('syntax.yaml', 'name: lab\nhosts:\n  cores: 4\n   kind: esx\n');
    assertInputError(path, 'Nested mappings are not allowed in compact mappings', 3, 10);
  });

  it('reports a JSON syntax error where the parser found it', () => {
    const path = writeConfig('syntax.json', '{\n  "name": "lab",\n  "hosts": {"cores" 4}\n}\n');
    assertInputError(path, 'Missing , or : between flow map items', 3, 21);
  });

  it('reports a value of the wrong type at the value', () => {
    const path = writeConfig('type.yaml', 'name: lab\nhosts:\n  cores: two\n  kind: esx\n');
    assertInputError(path, 'hosts.cores: expected a number, got "two"', 3, 10);
  });

  it('reports a value of the wrong type in JSON at the value', () => {
    const path = writeConfig('type.json', '{\n  "name": "lab",\n  "hosts": {"cores": "two", "kind": "esx"}\n}\n');
    assertInputError(path, 'hosts.cores: expected a number, got "two"', 3, 22);
  });

  it('reports a value outside an enum at the value', () => {
    const path = writeConfig('enum.yaml', 'name: lab\nhosts:\n  cores: 4\n  kind: xen\n');
    assertInputError(path, 'hosts.kind: expected one of "esx", "sim", got "xen"', 4, 9);
  });

  it('reports a missing key at its parent mapping', () => {
    const path = writeConfig('missing.yaml', 'name: lab\nhosts:\n  kind: esx\n');
    assertInputError(path, "missing key 'cores' in hosts", 3, 3);
  });

  it('reports a missing top-level key at the document', () => {
    const path = writeConfig('missing-top.yaml', '\nname: lab\n');
    assertInputError(path, "missing key 'hosts'", 2, 1);
  });

  it('reports an unknown key at the key', () => {
    const path = writeConfig('unknown.yaml', 'name: lab\nhosts:\n  cores: 4\n  kind: esx\n  cpus: 2\n');
    assertInputError(path, "unknown key 'cpus' in hosts", 5, 3);
  });

  it('reports only the first of several schema problems', () => {
    const path = writeConfig('several.yaml', 'name: 7\nhosts:\n  cores: two\n  kind: xen\n');
    assertInputError(path, 'name: expected a string, got 7', 1, 7);
  });

  it('reports an empty file as a document of the wrong shape', () => {
    const path = writeConfig('empty.yaml', '');
    assertInputError(path, 'expected a mapping, got null', 1, 1);
  });

  it('reports a duplicate key at its second occurrence, saying where the first is', () => {
    const path = writeConfig('duplicate.yaml', 'name: lab\nhosts:\n  cores: 4\n  kind: esx\n  cores: 8\n');
    assertInputError(path, "duplicate key 'cores' (first at line 3)", 5, 3);
  });

  it('reports a duplicate key in JSON', () => {
    const path = writeConfig('duplicate.json', '{"name": "lab",\n "name": "lab2"}\n');
    assertInputError(path, "duplicate key 'name' (first at line 1)", 2, 2);
  });

  it('checks the keys of a large mapping in linear time', () => {
    const keys = 40_000;
    const path = writeConfig('many-keys.yaml', Array.from({ length: keys }, (_, index) => `k${index}: 0\n`).join(''));
    const started = performance.now();
    assert.equal(Object.keys(loadConfigFile(path, z.record(z.string(), z.number()))).length, keys);
    // The YAML parser's own check, comparing each key with every earlier one, took 11 s here.
    assert.ok(performance.now() - started < 4000, `took ${Math.round(performance.now() - started)} ms`);
  });

  it('escapes control characters of a key it quotes', () => {
    const path = writeConfig('escape.yaml', 'name: lab\nhosts: {cores: 4, kind: esx}\n"k\\u001b[2J": 1\n');
    assertInputError(path, "unknown key 'k\\u001b[2J'", 3, 1);
  });

  it(`refuses a config larger than ${MAX_CONFIG_BYTES} bytes, at the first byte past the limit`, () => {
    const head = 'name: lab\n';
    const path = writeConfig('large.yaml', head + '#'.repeat(MAX_CONFIG_BYTES - head.length) + '\n');
    assertInputError(path, 'config larger than 1 MiB (the most a config may be)', 2, MAX_CONFIG_BYTES - head.length + 1);
  });

  it('reads /dev/zero only up to the limit', () => {
    assert.throws(
      () => loadConfigFile('/dev/zero', labSchema),
      (error: unknown) => error instanceof InputError && error.toOneLine() === `/dev/zero:1:${MAX_CONFIG_BYTES + 1}: config larger than 1 MiB (the most a config may be)`,
    );
  });
});
