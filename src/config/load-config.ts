import { LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { InputError, clipped, quoted, type SourcePosition } from '../errors.ts';
import { MAX_CONFIG_BYTES } from '../input-limits.ts';
import { readInputFile } from '../read-input-file.ts';

type ConfigPath = readonly PropertyKey[];

/**
 * Reads a YAML or JSON file (JSON is YAML, so one parser reads both) and validates it with
 * `schema`. Every problem throws an `InputError` pointing at the offending line and column;
 * of several schema problems only the first is reported.
 */
export function loadConfigFile<T>(path: string, schema: z.ZodType<T>): T {
  const lineCounter = new LineCounter();
  // The parser's own check of unique keys compares each key with every earlier one; ours is linear.
  const doc = parseDocument(readInputFile(path, 'config', MAX_CONFIG_BYTES), { lineCounter, prettyErrors: false, uniqueKeys: false });
  const positionAt = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file: path, line, column: col };
  };

  const syntaxError = doc.errors[0];
  if (syntaxError) throw new InputError(syntaxError.message, positionAt(syntaxError.pos[0]));
  requireUniqueKeys(doc, positionAt);

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    // e.g. an alias to an anchor defined later: the parser lets it through, toJS() refuses it.
    throw new InputError(errorReason(error), positionAt(0));
  }

  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  if (!issue) throw new InputError('invalid config', positionAt(0));
  return throwIssue(issue, data, doc, positionAt);
}

/** Throws an InputError at the second occurrence of a key in a mapping. */
function requireUniqueKeys(doc: Document, positionAt: (offset: number) => SourcePosition): void {
  visit(doc, {
    Map(_, map) {
      const firstOffsets = new Map<string, number>();
      for (const { key } of map.items) {
        // Keys become the properties of a JavaScript object, so `1` and '1' are the same key;
        // a list or mapping as a key (`? [a, b]`) would be stringified: no config has one.
        if (!isScalar(key)) {
          throw new InputError('a key must be a plain name, not a list or mapping', positionAt(rangeStart(key ?? map)));
        }
        const name = String(key.value);
        const offset = rangeStart(key);
        const first = firstOffsets.get(name);
        if (first !== undefined) {
          throw new InputError(`duplicate key ${quoted(name)} (first at line ${positionAt(first).line})`, positionAt(offset));
        }
        firstOffsets.set(name, offset);
      }
    },
  });
}

function errorReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function throwIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
  doc: Document,
  positionAt: (offset: number) => SourcePosition,
): never {
  const { path } = issue;
  const value = valueAt(data, path);

  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    throw new InputError(`unknown key ${quoted(key)}${inParent(path)}`, positionAt(keyOffset(doc, path, key)));
  }
  if (issue.code === 'invalid_type' && value === undefined && path.length > 0) {
    const parentPath = path.slice(0, -1);
    const key = String(path[path.length - 1]);
    throw new InputError(`missing key '${key}'${inParent(parentPath)}`, positionAt(nodeOffset(doc, parentPath)));
  }

  let problem: string;
  if (issue.code === 'invalid_type') {
    problem = `expected ${describeExpected(issue.expected)}, got ${describeValue(value)}`;
  } else if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((allowedValue) => JSON.stringify(allowedValue)).join(', ');
    problem = `expected ${issue.values.length === 1 ? allowed : `one of ${allowed}`}, got ${describeValue(value)}`;
  } else {
    problem = issue.message.replace(/\s*\n\s*/g, ' ');
  }
  const where = formatPath(path);
  throw new InputError(where ? `${where}: ${problem}` : problem, positionAt(nodeOffset(doc, path)));
}

function inParent(parentPath: ConfigPath): string {
  return parentPath.length > 0 ? ` in ${formatPath(parentPath)}` : '';
}

/** `hosts.cores`, `hosts.list[2]`. */
function formatPath(path: ConfigPath): string {
  return path
    .map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index > 0 ? '.' : ''}${clipped(String(key))}`))
    .join('');
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let value = data;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const EXPECTED_WORDING: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  tuple: 'a list',
};

function describeExpected(expected: string): string {
  return EXPECTED_WORDING[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/** Offset of the node at `path`, or of its deepest existing ancestor. */
function nodeOffset(doc: Document, path: ConfigPath): number {
  return rangeStart(nodeAt(doc, path));
}

/** Offset of `key` in the mapping at `mapPath`, or of the mapping if the key cannot be found. */
function keyOffset(doc: Document, mapPath: ConfigPath, key: string): number {
  const map = nodeAt(doc, mapPath);
  if (isMap(map)) {
    const pair = map.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === key);
    if (pair) return rangeStart(pair.key);
  }
  return rangeStart(map);
}

function nodeAt(doc: Document, path: ConfigPath): unknown {
  let node: unknown = doc.contents;
  for (const key of path) {
    if (isAlias(node)) node = node.resolve(doc);
    const child: unknown = isMap(node) || isSeq(node) ? node.get(key, true) : undefined;
    if (!isNode(child)) break;
    node = child;
  }
  return node;
}

function rangeStart(node: unknown): number {
  return isNode(node) ? (node.range?.[0] ?? 0) : 0;
}
