import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ColumnKind } from '../../src/report/table-columns.ts';
import { formatCell, tableToCsv, tableToMarkdown, type Table } from '../../src/report/table.ts';

/** One column of each kind, and cells that exercise grouping, rounding, nulls and CSV quoting. */
const TABLE: Table = {
  id: 'demo',
  title: 'Demo table',
  caption: 'What the demo shows.',
  columns: [
    { header: 'run', kind: 'text' },
    { header: 'migrations', kind: 'count' },
    { header: 'average [ms]', kind: 'milliseconds' },
    { header: 'average change', kind: 'percent-change' },
    { header: 'responses/s', kind: 'per-second' },
    { header: 'bytes average', kind: 'bytes' },
    { header: 'passes average', kind: 'number' },
  ],
  rows: [
    ['light', 50, 12220.432, null, 0.5, 150778497.64, 2],
    ['heavy, big', 1234, 13813.786, 13.038, 1234.567, null, 2.4],
    ['a|b "q"', 0, null, -3.2, null, 1e9, null],
  ],
};

describe('report tables as Markdown and CSV', () => {
  it('writes Markdown: title, header, right-aligned number columns, formatted cells, `|` escaped, caption', () => {
    assert.equal(
      tableToMarkdown(TABLE),
      [
        '## Demo table',
        '',
        '| run | migrations | average [ms] | average change | responses/s | bytes average | passes average |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
        '| light | 50 | 12,220 |  | 0.50 | 150,778,498 | 2.0 |',
        '| heavy, big | 1,234 | 13,814 | +13 % | 1,234.57 |  | 2.4 |',
        '| a\\|b "q" | 0 |  | -3 % |  | 1,000,000,000 |  |',
        '',
        'What the demo shows.',
        '',
      ].join('\n'),
    );
  });

  it('writes CSV: numbers unformatted (at most 3 decimals), null as an empty cell, RFC 4180 quoting', () => {
    assert.equal(
      tableToCsv(TABLE),
      [
        'run,migrations,average [ms],average change,responses/s,bytes average,passes average',
        'light,50,12220.432,,0.5,150778497.64,2',
        '"heavy, big",1234,13813.786,13.038,1234.567,,2.4',
        '"a|b ""q""",0,,-3.2,,1000000000,',
        '',
      ].join('\n'),
    );
  });

  it('writes a table without rows as its header alone', () => {
    const empty: Table = { ...TABLE, rows: [] };
    assert.equal(tableToCsv(empty), 'run,migrations,average [ms],average change,responses/s,bytes average,passes average\n');
    assert.match(tableToMarkdown(empty), /\| --- \| ---: \| ---: \| ---: \| ---: \| ---: \| ---: \|\n\nWhat the demo shows\.\n$/);
  });
});

describe('formatting a cell by its column kind', () => {
  const cases: [ColumnKind, number, string][] = [
    ['percent-change', 30, '+30 %'],
    ['percent-change', 29.6, '+30 %'],
    ['percent-change', -3, '-3 %'],
    ['percent-change', -3.4, '-3 %'],
    ['percent-change', 0, '0 %'],
    // Rounded to 0: neither `-0 %` nor `+0 %`.
    ['percent-change', -0.4, '0 %'],
    ['percent-change', 0.4, '0 %'],
    ['percent-change', -0, '0 %'],
    ['percent-change', 1234.6, '+1,235 %'],
    ['count', 1234567, '1,234,567'],
    ['count', 0, '0'],
    ['milliseconds', 7630.311, '7,630'],
    ['milliseconds', 999.7, '1,000'],
    ['milliseconds', -0.2, '0'],
    ['bytes', 150778497.64, '150,778,498'],
    ['per-second', 0.5, '0.50'],
    ['per-second', 0.004, '0.00'],
    ['per-second', 12, '12.00'],
    ['per-second', 1234.567, '1,234.57'],
    ['number', 2, '2.0'],
    ['number', 1234.56, '1,234.6'],
  ];
  for (const [kind, value, expected] of cases) {
    it(`${kind} ${Object.is(value, -0) ? '-0' : value} → '${expected}'`, () => assert.equal(formatCell(value, kind), expected));
  }

  it('shows null, NaN and infinities as an empty cell in every kind', () => {
    const kinds: ColumnKind[] = ['text', 'count', 'milliseconds', 'bytes', 'number', 'per-second', 'percent-change'];
    for (const kind of kinds) {
      for (const cell of [null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        assert.equal(formatCell(cell, kind), '', `${kind} ${cell}`);
      }
    }
  });

  it('leaves text as it is, also in a number column', () => {
    assert.equal(formatCell('light-cpu', 'text'), 'light-cpu');
    assert.equal(formatCell('n/a', 'milliseconds'), 'n/a');
    assert.equal(formatCell('', 'percent-change'), '');
  });
});
