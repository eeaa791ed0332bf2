import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { MAX_CLIENTS, MAX_EXPERIMENT_SECONDS, MAX_HOSTS, MAX_VMS } from '../../src/input-limits.ts';
import { parseScript } from '../../src/script/parse.ts';

const FILE = 's.txt';
const PLACEMENT = 'esx1:vm1,vm2 esx2:';

const at = (line: number, column: number) => ({ file: FILE, line, column });

/** The one-line form of the InputError that parsing `lines` throws. */
function errorOf(...lines: string[]): string {
  try {
    parseScript(lines.join('\n'), FILE);
  } catch (error) {
    if (error instanceof InputError) return error.toOneLine();
    throw error;
  }
  assert.fail('expected an InputError');
}

/** Like errorOf, for an action line (line 2) after a valid placement line. */
function actionErrorOf(line: string): string {
  return errorOf(PLACEMENT, line);
}

describe('parseScript', () => {
  it('parses the seed-like placement line', () => {
    const experiment = parseScript('esx1:vm1,vm2 esx2: esx3:vm3', FILE);
    assert.deepEqual(experiment, {
      file: FILE,
      placement: [
        {
          host: { name: 'esx1', at: at(1, 1) },
          vms: [
            { name: 'vm1', at: at(1, 6) },
            { name: 'vm2', at: at(1, 10) },
          ],
        },
        { host: { name: 'esx2', at: at(1, 14) }, vms: [] },
        { host: { name: 'esx3', at: at(1, 20) }, vms: [{ name: 'vm3', at: at(1, 25) }] },
      ],
      steps: [],
    });
  });

  it('parses every action, with comments, blank lines, CRLF and decimal times', () => {
    const script = [
      '# light memory2 load, one migration',
      '',
      'esx1:vm1,vm2 esx2: esx3:vm3   # vm3 stays on esx3',
      '   # an indented comment',
      '0 add-client cpu 2',
      '2.5 add-client memory2 3  # ramp up',
      '\t.5 migrate vm1 esx2',
      '  ',
      '10 remove-client cpu 2',
      '0.25 end',
    ].join('\r\n');
    const experiment = parseScript(`${script}\r\n`, FILE);
    assert.deepEqual(
      experiment.placement.map((entry) => [entry.host.name, entry.vms.map((vm) => vm.name)]),
      [
        ['esx1', ['vm1', 'vm2']],
        ['esx2', []],
        ['esx3', ['vm3']],
      ],
    );
    assert.deepEqual(experiment.steps, [
      { delaySeconds: 0, action: { kind: 'add-client', clientType: 'cpu', count: 2 }, at: at(5, 1) },
      { delaySeconds: 2.5, action: { kind: 'add-client', clientType: 'memory2', count: 3 }, at: at(6, 1) },
      {
        delaySeconds: 0.5,
        action: { kind: 'migrate', vm: { name: 'vm1', at: at(7, 13) }, host: { name: 'esx2', at: at(7, 17) } },
        at: at(7, 2),
      },
      { delaySeconds: 10, action: { kind: 'remove-client', clientType: 'cpu', count: 2 }, at: at(9, 1) },
      { delaySeconds: 0.25, action: { kind: 'end' }, at: at(10, 1) },
    ]);
  });

  it('accepts a trailing \\r without a newline and a leading byte order mark', () => {
    const experiment = parseScript('\uFEFFesx1:vm1\r\n0 end\r', FILE);
    assert.deepEqual(experiment.placement[0]?.host.at, at(1, 1));
    assert.deepEqual(experiment.steps[0]?.action, { kind: 'end' });
  });

  it('accepts a placement line with no actions', () => {
    assert.deepEqual(parseScript(`${PLACEMENT}\n\n# nothing to do\n`, FILE).steps, []);
  });

  it('accepts removing every client that is running', () => {
    const experiment = parseScript(
      [PLACEMENT, '0 add-client memory 3', '1 remove-client memory 1', '1 remove-client memory 2'].join('\n'),
      FILE,
    );
    assert.equal(experiment.steps.length, 3);
  });

  it('leaves names the placement line does not mention to the inventory check', () => {
    const experiment = parseScript(`${PLACEMENT}\n0 migrate vm9 esx9`, FILE);
    assert.deepEqual(experiment.steps[0]?.action, {
      kind: 'migrate',
      vm: { name: 'vm9', at: at(2, 11) },
      host: { name: 'esx9', at: at(2, 15) },
    });
  });

  describe('placement line errors', () => {
    it('rejects an empty script', () => {
      assert.equal(errorOf(''), "s.txt:1:1: no placement line (expected a first line like 'esx1:vm1,vm2 esx2:')");
    });

    it('rejects a script of comments and blank lines', () => {
      assert.equal(
        errorOf('# a', '', '  # b', ''),
        "s.txt:1:1: no placement line (expected a first line like 'esx1:vm1,vm2 esx2:')",
      );
    });

    it('rejects a script that starts with actions', () => {
      assert.equal(
        errorOf('# header', '  0 add-client cpu 1'),
        "s.txt:2:3: no placement line (expected a first line like 'esx1:vm1,vm2 esx2:' before the actions)",
      );
    });

    it('rejects an entry without a colon', () => {
      assert.equal(
        errorOf('esx1:vm1 esx2'),
        "s.txt:1:10: placement entry 'esx2' has no ':' (write 'esx2:' for a host without VMs)",
      );
    });

    it('rejects an empty host name', () => {
      assert.equal(errorOf('esx1:vm1 :vm2'), "s.txt:1:10: missing host name before ':' in ':vm2'");
    });

    it('rejects an empty VM name between commas', () => {
      assert.equal(errorOf('h1:a,,b'), "s.txt:1:6: empty VM name in 'h1:a,,b'");
    });

    it('rejects an empty VM name at either end of the list', () => {
      assert.equal(errorOf('h1:,a'), "s.txt:1:4: empty VM name in 'h1:,a'");
      assert.equal(errorOf('h1:a,'), "s.txt:1:6: empty VM name in 'h1:a,'");
    });

    it('rejects a host listed twice', () => {
      assert.equal(errorOf('esx1:vm1 esx2: esx1:vm2'), "s.txt:1:16: host 'esx1' listed twice (first at column 1)");
    });

    it('rejects a VM listed twice on one host', () => {
      assert.equal(errorOf('esx1:vm1,vm1'), "s.txt:1:10: VM 'vm1' listed twice (first at column 6)");
    });

    it('rejects a VM listed on two hosts', () => {
      assert.equal(errorOf('esx1:vm1 esx2:vm1'), "s.txt:1:15: VM 'vm1' listed twice (first at column 6)");
    });

    it('rejects a bad character in a host name', () => {
      assert.equal(
        errorOf('es/x1:vm1'),
        "s.txt:1:3: bad character '/' in host name 'es/x1' (use letters, digits, '.', '_' and '-')",
      );
    });

    it('rejects a bad character in a VM name, including a # inside a word', () => {
      assert.equal(
        errorOf('esx1:vm1,vm#2'),
        "s.txt:1:12: bad character '#' in VM name 'vm#2' (use letters, digits, '.', '_' and '-')",
      );
    });

    it('rejects a second colon in an entry', () => {
      assert.equal(
        errorOf('esx1:a:b'),
        "s.txt:1:7: bad character ':' in VM name 'a:b' (use letters, digits, '.', '_' and '-')",
      );
    });
  });

  describe('action line errors', () => {
    it('rejects a negative time', () => {
      assert.equal(
        actionErrorOf('-1 end'),
        "s.txt:2:1: negative time '-1' (times are seconds after the previous action)",
      );
    });

    for (const time of ['NaN', '1e3', '5s', '5.', '+1']) {
      it(`rejects the time '${time.slice(0, 10)}'`, () => {
        assert.equal(
          actionErrorOf(`  ${time} end`),
          `s.txt:2:3: bad number '${time}' for the time (expected seconds like 0, 2 or 2.5)`,
        );
      });
    }

    it('rejects a time too large for a number, quoting only its first 80 characters', () => {
      assert.equal(
        actionErrorOf(`  ${'9'.repeat(400)} end`),
        `s.txt:2:3: bad number '${'9'.repeat(80)}…' for the time (expected seconds like 0, 2 or 2.5)`,
      );
    });

    it('rejects add-client when the placement line has no VM to serve the clients', () => {
      assert.equal(
        errorOf('esx1: esx2:', '0 add-client cpu 1'),
        's.txt:2:3: add-client: no VM on the placement line to serve the clients',
      );
    });

    it('rejects an action without a time', () => {
      assert.equal(actionErrorOf('end'), "s.txt:2:1: missing time before 'end' (write '0 end' to act at once)");
    });

    it('rejects a time without an action', () => {
      assert.equal(
        actionErrorOf('15   # wait'),
        's.txt:2:3: missing action after the time (expected add-client, remove-client, migrate, drs, dpm, maintenance or end)',
      );
    });

    it('rejects an unknown action', () => {
      assert.equal(
        actionErrorOf('3 migrat vm1 esx2'),
        "s.txt:2:3: unknown action 'migrat' (expected add-client, remove-client, migrate, drs, dpm, maintenance or end)",
      );
    });

    it('rejects a missing parameter, pointing past the last word', () => {
      assert.equal(actionErrorOf('3 migrate vm1'), 's.txt:2:14: migrate takes 2 parameters (VM HOST), got 1');
      assert.equal(actionErrorOf('0 remove-client'), 's.txt:2:16: remove-client takes 2 parameters (TYPE N), got 0');
    });

    it('rejects an extra parameter, pointing at it', () => {
      assert.equal(actionErrorOf('1 add-client cpu 2 3'), 's.txt:2:20: add-client takes 2 parameters (TYPE N), got 3');
      assert.equal(actionErrorOf('0 end now'), 's.txt:2:7: end takes no parameters, got 1');
    });

    it('rejects an unknown client type', () => {
      assert.equal(
        actionErrorOf('0 add-client disk 1'),
        "s.txt:2:14: unknown client type 'disk' (expected cpu, memory or memory2)",
      );
    });

    for (const count of ['0', '1.5', '-2', 'x']) {
      it(`rejects the client count '${count}'`, () => {
        assert.equal(
          actionErrorOf(`0 add-client cpu ${count}`),
          `s.txt:2:18: bad number of clients '${count}' (must be a positive whole number)`,
        );
      });
    }

    it('rejects removing more clients than are running', () => {
      assert.equal(
        errorOf(PLACEMENT, '0 add-client cpu 2', '0 add-client memory 5', '5 remove-client cpu 3'),
        's.txt:4:21: cannot remove 3 cpu clients, only 2 running at this point',
      );
    });

    it('counts running clients per type', () => {
      assert.equal(
        errorOf(PLACEMENT, '0 add-client cpu 2', '1 remove-client memory 1'),
        's.txt:3:24: cannot remove 1 memory client, none running at this point',
      );
    });

    it('counts clients already removed', () => {
      assert.equal(
        errorOf(PLACEMENT, '0 add-client cpu 2', '1 remove-client cpu 2', '1 remove-client cpu 1'),
        's.txt:4:21: cannot remove 1 cpu client, none running at this point',
      );
    });

    it('rejects any action after end', () => {
      assert.equal(errorOf(PLACEMENT, '0 end', '', '  5 add-client cpu 1'), 's.txt:4:3: action after end (line 2)');
    });

    it('rejects a bad character in a migrate name', () => {
      assert.equal(
        actionErrorOf('0 migrate vm/1 esx2'),
        "s.txt:2:13: bad character '/' in VM name 'vm/1' (use letters, digits, '.', '_' and '-')",
      );
    });
  });

  describe('drs, dpm and maintenance (issue 15)', () => {
    it('parses each level, off, and entering and leaving maintenance, with positions', () => {
      const experiment = parseScript(
        [
          PLACEMENT,
          '0 drs 3',
          '1 dpm off',
          '  2 maintenance enter esx1',
          '3 drs off',
          '4 dpm 5',
          '5 maintenance exit esx1',
          '6 end',
        ].join('\n'),
        FILE,
      );
      assert.deepEqual(experiment.steps, [
        { delaySeconds: 0, action: { kind: 'drs', level: 3 }, at: at(2, 1) },
        { delaySeconds: 1, action: { kind: 'dpm', level: null }, at: at(3, 1) },
        {
          delaySeconds: 2,
          action: { kind: 'maintenance', mode: 'enter', host: { name: 'esx1', at: at(4, 23) } },
          at: at(4, 3),
        },
        { delaySeconds: 3, action: { kind: 'drs', level: null }, at: at(5, 1) },
        { delaySeconds: 4, action: { kind: 'dpm', level: 5 }, at: at(6, 1) },
        {
          delaySeconds: 5,
          action: { kind: 'maintenance', mode: 'exit', host: { name: 'esx1', at: at(7, 20) } },
          at: at(7, 1),
        },
        { delaySeconds: 6, action: { kind: 'end' }, at: at(8, 1) },
      ]);
    });

    for (const kind of ['drs', 'dpm'] as const) {
      it(`parses every ${kind} level, 1 to 5, as a number`, () => {
        const levels = ['1', '2', '3', '4', '5'].map((level) => `0 ${kind} ${level}`);
        const actions = parseScript([PLACEMENT, ...levels].join('\n'), FILE).steps.map((step) => step.action);
        assert.deepEqual(actions, [1, 2, 3, 4, 5].map((level) => ({ kind, level })));
      });

      for (const level of ['6', '0', '2.5', 'high', '01', '-1', 'OFF', '1e0']) {
        it(`rejects the ${kind} level '${level}', at it`, () => {
          assert.equal(
            actionErrorOf(`0 ${kind}   ${level}`),
            `s.txt:2:9: bad ${kind.toUpperCase()} level '${level}' (expected 1 to 5 or off)`,
          );
        });
      }
    }

    it('rejects a missing or extra level, naming LEVEL', () => {
      assert.equal(actionErrorOf('0 drs'), 's.txt:2:6: drs takes 1 parameter (LEVEL), got 0');
      assert.equal(actionErrorOf('0 dpm 1 2'), 's.txt:2:9: dpm takes 1 parameter (LEVEL), got 2');
    });

    it('rejects a missing or extra maintenance parameter, naming enter|exit HOST', () => {
      assert.equal(actionErrorOf('0 maintenance'), 's.txt:2:14: maintenance takes 2 parameters (enter|exit HOST), got 0');
      assert.equal(actionErrorOf('0 maintenance enter'), 's.txt:2:20: maintenance takes 2 parameters (enter|exit HOST), got 1');
      assert.equal(
        actionErrorOf('0 maintenance enter esx1 now'),
        's.txt:2:26: maintenance takes 2 parameters (enter|exit HOST), got 3',
      );
    });

    for (const mode of ['leave', 'Enter', 'on']) {
      it(`rejects the maintenance mode '${mode}', at it`, () => {
        assert.equal(
          actionErrorOf(`0 maintenance ${mode} esx1`),
          `s.txt:2:15: unknown maintenance mode '${mode}' (expected enter or exit)`,
        );
      });
    }

    it('rejects a bad character in a maintenance host name', () => {
      assert.equal(
        actionErrorOf('0 maintenance enter es/x1'),
        "s.txt:2:23: bad character '/' in host name 'es/x1' (use letters, digits, '.', '_' and '-')",
      );
      assert.equal(
        actionErrorOf('0 maintenance exit es/x1'),
        "s.txt:2:22: bad character '/' in host name 'es/x1' (use letters, digits, '.', '_' and '-')",
      );
    });

    it('rejects entering maintenance on a host the placement line does not have', () => {
      assert.equal(
        actionErrorOf('0 maintenance enter esx9'),
        "s.txt:2:21: host 'esx9' is not on the placement line (maintenance moves VMs among the placement line's hosts)",
      );
    });

    it('rejects entering maintenance on a host already in it, naming the line that put it there', () => {
      assert.equal(
        errorOf(PLACEMENT, '# esx1 away', '0 maintenance enter esx1', '5 drs 2', '5 maintenance enter esx1'),
        "s.txt:5:21: host 'esx1' is already in maintenance (since line 3)",
      );
    });

    it('rejects leaving maintenance on a host that never entered it', () => {
      assert.equal(
        errorOf(PLACEMENT, '0 maintenance enter esx1', '5 maintenance exit esx2'),
        "s.txt:3:20: host 'esx2' is not in maintenance at this point",
      );
      assert.equal(actionErrorOf('0 maintenance exit esx9'), "s.txt:2:20: host 'esx9' is not in maintenance at this point");
    });

    it('rejects leaving maintenance twice', () => {
      assert.equal(
        errorOf(PLACEMENT, '0 maintenance enter esx2', '5 maintenance exit esx2', '5 maintenance exit esx2'),
        "s.txt:4:20: host 'esx2' is not in maintenance at this point",
      );
    });

    it('tracks maintenance per host across lines: enter, exit, enter again', () => {
      const experiment = parseScript(
        [
          PLACEMENT,
          '0 maintenance enter esx1',
          '1 maintenance enter esx2',
          '1 maintenance exit esx1',
          '1 maintenance enter esx1',
          '1 maintenance exit esx2',
          '1 maintenance exit esx1',
        ].join('\n'),
        FILE,
      );
      assert.deepEqual(
        experiment.steps.map(({ action }) => (action.kind === 'maintenance' ? `${action.mode} ${action.host.name}` : action.kind)),
        ['enter esx1', 'enter esx2', 'exit esx1', 'enter esx1', 'exit esx2', 'exit esx1'],
      );
      // The state after those lines is that neither host is in maintenance.
      assert.equal(
        errorOf(PLACEMENT, '0 maintenance enter esx1', '1 maintenance exit esx1', '1 maintenance enter esx1', '1 maintenance enter esx1'),
        "s.txt:5:21: host 'esx1' is already in maintenance (since line 4)",
      );
    });

    it('leaves every host in maintenance at once, and a migration to one, to the run', () => {
      const experiment = parseScript(
        [PLACEMENT, '0 maintenance enter esx1', '0 maintenance enter esx2', '1 migrate vm1 esx2', '1 end'].join('\n'),
        FILE,
      );
      assert.deepEqual(
        experiment.steps.map((step) => step.action.kind),
        ['maintenance', 'maintenance', 'migrate', 'end'],
      );
    });

    it('rejects one of the new actions without a time', () => {
      assert.equal(actionErrorOf('drs 1'), "s.txt:2:1: missing time before 'drs' (write '0 drs' to act at once)");
    });

    it('takes a bare action word on the first line for a missing placement line, but allows hosts named like actions', () => {
      assert.equal(
        errorOf('maintenance enter esx1'),
        "s.txt:1:1: no placement line (expected a first line like 'esx1:vm1,vm2 esx2:' before the actions)",
      );
      const experiment = parseScript('drs:vm1 dpm: maintenance:\n0 maintenance enter dpm\n0 maintenance enter maintenance', FILE);
      assert.deepEqual(
        experiment.placement.map((entry) => entry.host.name),
        ['drs', 'dpm', 'maintenance'],
      );
      assert.deepEqual(experiment.steps[1]?.action, {
        kind: 'maintenance',
        mode: 'enter',
        host: { name: 'maintenance', at: at(3, 21) },
      });
    });
  });

  describe('limits', () => {
    const placementOf = (hosts: number, vmsPerHost: number): string =>
      Array.from({ length: hosts }, (_, h) => {
        const vms = Array.from({ length: vmsPerHost }, (_, v) => `vm${h * vmsPerHost + v}`);
        return `h${h}:${vms.join(',')}`;
      }).join(' ');

    it(`accepts ${MAX_HOSTS} hosts and rejects one more, at it`, () => {
      assert.equal(parseScript(placementOf(MAX_HOSTS, 0), FILE).placement.length, MAX_HOSTS);
      const line = `${placementOf(MAX_HOSTS, 0)} extra:`;
      assert.equal(
        errorOf(line),
        `s.txt:1:${line.length - 'extra:'.length + 1}: more than ${MAX_HOSTS} hosts on the placement line (the most a script may have)`,
      );
    });

    it(`accepts ${MAX_VMS} VMs and rejects one more, at it`, () => {
      const full = placementOf(MAX_HOSTS, MAX_VMS / MAX_HOSTS);
      assert.equal(parseScript(full, FILE).placement.flatMap((entry) => entry.vms).length, MAX_VMS);
      const line = `${full},extra`;
      assert.equal(
        errorOf(line),
        `s.txt:1:${line.length - 'extra'.length + 1}: more than ${MAX_VMS} VMs on the placement line (the most a script may have)`,
      );
    });

    it('rejects adding more clients in one action than may run at once', () => {
      assert.equal(
        actionErrorOf('0 add-client cpu 100000000'),
        `s.txt:2:18: adding 100000000 cpu clients would make 100000000 clients run at once, more than the ${MAX_CLIENTS} allowed`,
      );
    });

    it('counts the clients of every type running at once, and the ones removed', () => {
      const half = MAX_CLIENTS / 2;
      assert.doesNotThrow(() =>
        parseScript([PLACEMENT, `0 add-client cpu ${half}`, `0 add-client memory ${half}`, '0 remove-client cpu 1', '0 add-client memory2 1'].join('\n'), FILE),
      );
      assert.equal(
        errorOf(PLACEMENT, `0 add-client cpu ${half}`, `0 add-client memory ${half}`, '0 add-client memory2 1'),
        `s.txt:4:22: adding 1 memory2 client would make ${MAX_CLIENTS + 1} clients run at once, more than the ${MAX_CLIENTS} allowed`,
      );
    });

    it('rejects a time of 1 and 308 zeros, which would run for ever', () => {
      assert.equal(
        actionErrorOf(`1${'0'.repeat(308)} end`),
        `s.txt:2:1: this action would fire at 1e+308 s, but an experiment may last at most ${MAX_EXPERIMENT_SECONDS} s (7 days)`,
      );
    });

    it('adds up the times to the length of the experiment', () => {
      const half = MAX_EXPERIMENT_SECONDS / 2;
      assert.doesNotThrow(() => parseScript([PLACEMENT, `${half} migrate vm1 esx2`, `${half} end`].join('\n'), FILE));
      assert.equal(
        errorOf(PLACEMENT, `${half} migrate vm1 esx2`, `${half + 0.5} end`),
        `s.txt:3:1: this action would fire at ${MAX_EXPERIMENT_SECONDS + 0.5} s, but an experiment may last at most ${MAX_EXPERIMENT_SECONDS} s (7 days)`,
      );
    });
  });

  describe('quoting input in messages', () => {
    it('escapes an escape sequence in a VM name instead of sending it to the terminal', () => {
      const message = errorOf('esx1:vm\u001b[31mred');
      assert.equal(message, "s.txt:1:8: bad character '\\u001b' in VM name 'vm\\u001b[31mred' (use letters, digits, '.', '_' and '-')");
      assert.ok(!message.includes('\u001b'), 'no raw ESC');
    });

    it('escapes C1 controls, bidirectional overrides and zero-width characters', () => {
      assert.equal(
        actionErrorOf('0 mi\u009b2J\u202egrate\u200b'),
        "s.txt:2:3: unknown action 'mi\\u009b2J\\u202egrate\\u200b' (expected add-client, remove-client, migrate, drs, dpm, maintenance or end)",
      );
    });

    it('escapes a character outside the BMP as two units, like JSON', () => {
      assert.equal(
        errorOf('esx1:vm\u{E0041}'),
        "s.txt:1:8: bad character '\\udb40\\udc41' in VM name 'vm\\udb40\\udc41' (use letters, digits, '.', '_' and '-')",
      );
    });
  });
});
