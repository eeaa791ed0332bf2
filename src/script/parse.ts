import { InputError, quoted } from '../errors.ts';
import { MAX_CLIENTS, MAX_EXPERIMENT_SECONDS, MAX_HOSTS, MAX_VMS } from '../input-limits.ts';
import {
  CLIENT_TYPES,
  POLICY_LEVELS,
  type Action,
  type ClientType,
  type Experiment,
  type HostPlacement,
  type NameAt,
  type PolicyLevel,
  type ScriptStep,
} from './experiment.ts';

/** A white-space separated word of a script line, with its 1-based column. */
interface Token {
  text: string;
  column: number;
}

/** A script line that is neither blank nor a comment. */
interface Line {
  number: number;
  tokens: [Token, ...Token[]];
}

/** In the order the "unknown action" message lists them: the seed's, this tool's, then `end`. */
const PARAMETERS = {
  'add-client': ['TYPE', 'N'],
  'remove-client': ['TYPE', 'N'],
  migrate: ['VM', 'HOST'],
  drs: ['LEVEL'],
  dpm: ['LEVEL'],
  maintenance: ['enter|exit', 'HOST'],
  end: [],
} as const satisfies Record<Action['kind'], readonly string[]>;

type ActionKind = keyof typeof PARAMETERS;
const ACTION_KINDS = Object.keys(PARAMETERS) as ActionKind[];

const SECONDS = /^(\d+(\.\d+)?|\.\d+)$/;
const NOT_A_NAME_CHARACTER = /[^A-Za-z0-9._-]/u;
const PLACEMENT_EXAMPLE = "'esx1:vm1,vm2 esx2:'";
const MAINTENANCE_MODES = ['enter', 'exit'] as const;

/** What the script has done up to the line being parsed, for the checks that depend on it. */
interface ScriptState {
  /** Clients per type running at this point. */
  running: Map<ClientType, number>;
  /** The placement line's hosts: the testbed, the only hosts the policy moves VMs among. */
  placementHosts: ReadonlySet<string>;
  /** Each host in maintenance at this point, with the line that put it there. */
  inMaintenance: Map<string, number>;
}

/**
 * Parses a script in the seed's format (its Appendix A): a placement line, then
 * `TIME ACTION PARAMS...` lines, with this tool's `drs`, `dpm` and `maintenance` actions
 * besides the seed's. Throws an InputError at the first mistake.
 */
export function parseScript(text: string, file: string): Experiment {
  const parser = new ScriptParser(file);
  const lines = scriptLines(text);
  const first = lines.next();
  if (first.done === true) {
    throw parser.error(`no placement line (expected a first line like ${PLACEMENT_EXAMPLE})`, 1, 1);
  }
  const placement = parser.placement(first.value);
  return { file, placement, steps: parser.steps(lines, placement) };
}

/** Tokenized one at a time, so that a large script never holds every line's tokens at once. */
function* scriptLines(text: string): Generator<Line, void, undefined> {
  // A UTF-8 byte order mark is not a column in any editor, so it must not shift columns.
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (const [index, line] of lines.entries()) {
    const [first, ...rest] = tokenize(line);
    if (first !== undefined) yield { number: index + 1, tokens: [first, ...rest] };
  }
}

/**
 * The seed only ignores lines beginning with '#'. We also let a word that begins with '#'
 * start a comment running to the end of the line, on any line, because a user would
 * expect `30 migrate vm1 esx2  # back home` to work. A '#' inside a word (`vm#1`) is not
 * a comment: it is reported as a bad character.
 */
function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  for (const word of line.matchAll(/\S+/g)) {
    if (word[0].startsWith('#')) break;
    tokens.push({ text: word[0], column: word.index + 1 });
  }
  return tokens;
}

class ScriptParser {
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  error(message: string, line: number, column: number): InputError {
    return new InputError(message, { file: this.file, line, column });
  }

  placement(line: Line): HostPlacement[] {
    const actionWord = line.tokens.find((token) => isActionKind(token.text));
    if (actionWord !== undefined) {
      throw this.error(
        `no placement line (expected a first line like ${PLACEMENT_EXAMPLE} before the actions)`,
        line.number,
        line.tokens[0].column,
      );
    }
    const tooMany = line.tokens[MAX_HOSTS];
    if (tooMany !== undefined) {
      throw this.error(`more than ${MAX_HOSTS} hosts on the placement line (the most a script may have)`, line.number, tooMany.column);
    }
    const hostColumns = new Map<string, number>();
    const vmColumns = new Map<string, number>();
    return line.tokens.map((token) => {
      const entry = this.placementEntry(token, line.number);
      this.requireFirstMention(entry.host, 'host', hostColumns);
      for (const vm of entry.vms) {
        this.requireFirstMention(vm, 'VM', vmColumns);
        if (vmColumns.size > MAX_VMS) {
          throw this.error(`more than ${MAX_VMS} VMs on the placement line (the most a script may have)`, line.number, vm.at.column);
        }
      }
      return entry;
    });
  }

  private placementEntry(token: Token, line: number): HostPlacement {
    const colon = token.text.indexOf(':');
    if (colon < 0) {
      throw this.error(
        `placement entry ${quoted(token.text)} has no ':' (write ${quoted(`${token.text}:`)} for a host without VMs)`,
        line,
        token.column,
      );
    }
    const hostName = token.text.slice(0, colon);
    if (hostName === '') throw this.error(`missing host name before ':' in ${quoted(token.text)}`, line, token.column);
    const host = this.name(hostName, 'host', line, token.column);

    const list = token.text.slice(colon + 1);
    if (list === '') return { host, vms: [] };
    const vms: NameAt[] = [];
    let column = token.column + colon + 1;
    for (const vmName of list.split(',')) {
      if (vmName === '') throw this.error(`empty VM name in ${quoted(token.text)}`, line, column);
      vms.push(this.name(vmName, 'VM', line, column));
      column += vmName.length + 1;
    }
    return { host, vms };
  }

  private requireFirstMention(name: NameAt, kind: 'host' | 'VM', firstColumns: Map<string, number>): void {
    const first = firstColumns.get(name.name);
    if (first !== undefined) {
      throw this.error(`${kind} ${quoted(name.name)} listed twice (first at column ${first})`, name.at.line, name.at.column);
    }
    firstColumns.set(name.name, name.at.column);
  }

  private name(name: string, kind: 'host' | 'VM', line: number, column: number): NameAt {
    const bad = NOT_A_NAME_CHARACTER.exec(name);
    if (bad !== null) {
      throw this.error(
        `bad character ${quoted(bad[0])} in ${kind} name ${quoted(name)} (use letters, digits, '.', '_' and '-')`,
        line,
        column + bad.index,
      );
    }
    return { name, at: { file: this.file, line, column } };
  }

  steps(lines: Iterable<Line>, placement: HostPlacement[]): ScriptStep[] {
    const hasServers = placement.some((entry) => entry.vms.length > 0);
    const state: ScriptState = {
      running: new Map<ClientType, number>(CLIENT_TYPES.map((type) => [type, 0])),
      placementHosts: new Set(placement.map((entry) => entry.host.name)),
      inMaintenance: new Map<string, number>(),
    };
    const steps: ScriptStep[] = [];
    let endLine: number | undefined;
    let firesAtSeconds = 0;
    for (const line of lines) {
      const [time, actionWord, ...parameters] = line.tokens;
      if (endLine !== undefined) throw this.error(`action after end (line ${endLine})`, line.number, time.column);
      const delaySeconds = this.delay(time, line.number);
      firesAtSeconds += delaySeconds;
      if (firesAtSeconds > MAX_EXPERIMENT_SECONDS) {
        throw this.error(
          `this action would fire at ${firesAtSeconds} s, but an experiment may last at most ${MAX_EXPERIMENT_SECONDS} s (${MAX_EXPERIMENT_SECONDS / 86_400} days)`,
          line.number,
          time.column,
        );
      }
      if (actionWord === undefined) {
        throw this.error(
          `missing action after the time (expected ${oneOf(ACTION_KINDS)})`,
          line.number,
          endColumn(time),
        );
      }
      const action = this.action(actionWord, parameters, line.number, state);
      if (action.kind === 'add-client' && !hasServers) {
        // The load balancer spreads requests over the placement line's VMs: with none, no client has a server.
        throw this.error('add-client: no VM on the placement line to serve the clients', line.number, actionWord.column);
      }
      if (action.kind === 'end') endLine = line.number;
      steps.push({ delaySeconds, action, at: { file: this.file, line: line.number, column: time.column } });
    }
    return steps;
  }

  private delay(time: Token, line: number): number {
    if (isActionKind(time.text)) {
      throw this.error(`missing time before ${quoted(time.text)} (write ${quoted(`0 ${time.text}`)} to act at once)`, line, time.column);
    }
    if (time.text.startsWith('-') && SECONDS.test(time.text.slice(1))) {
      throw this.error(`negative time ${quoted(time.text)} (times are seconds after the previous action)`, line, time.column);
    }
    const seconds = Number(time.text);
    if (!SECONDS.test(time.text) || !Number.isFinite(seconds)) {
      throw this.error(`bad number ${quoted(time.text)} for the time (expected seconds like 0, 2 or 2.5)`, line, time.column);
    }
    return seconds;
  }

  private action(word: Token, parameters: Token[], line: number, state: ScriptState): Action {
    if (!isActionKind(word.text)) {
      throw this.error(`unknown action ${quoted(word.text)} (expected ${oneOf(ACTION_KINDS)})`, line, word.column);
    }
    const kind = word.text;
    const expected = PARAMETERS[kind];
    if (parameters.length !== expected.length) {
      const takes =
        expected.length === 0
          ? 'no parameters'
          : `${expected.length} parameter${expected.length === 1 ? '' : 's'} (${expected.join(' ')})`;
      // Point at the first extra parameter, or just past the line's last word for a missing one.
      const column = parameters[expected.length]?.column ?? endColumn(parameters.at(-1) ?? word);
      throw this.error(`${kind} takes ${takes}, got ${parameters.length}`, line, column);
    }
    const [first, second] = parameters as [Token, Token];
    switch (kind) {
      case 'add-client':
      case 'remove-client':
        return this.clientChange(kind, first, second, line, state.running);
      case 'migrate':
        // To a host in maintenance at this point is the platform's refusal at run time, not a script error.
        return {
          kind,
          vm: this.name(first.text, 'VM', line, first.column),
          host: this.name(second.text, 'host', line, second.column),
        };
      case 'drs':
      case 'dpm':
        return { kind, level: this.policyLevel(kind, first, line) };
      case 'maintenance':
        return this.maintenance(first, second, line, state);
      case 'end':
        return { kind };
    }
  }

  /** `1` to `5`, or `off` for null. */
  private policyLevel(kind: 'drs' | 'dpm', word: Token, line: number): PolicyLevel | null {
    if (word.text === 'off') return null;
    const level = POLICY_LEVELS.find((candidate) => String(candidate) === word.text);
    if (level === undefined) {
      const expected = `${POLICY_LEVELS[0]} to ${POLICY_LEVELS.at(-1)} or off`;
      throw this.error(`bad ${kind.toUpperCase()} level ${quoted(word.text)} (expected ${expected})`, line, word.column);
    }
    return level;
  }

  /**
   * Also keeps `state.inMaintenance` up to date. Every host of the placement line in
   * maintenance at once is left to the run, which records it as a failure: it is no script error.
   */
  private maintenance(modeWord: Token, hostWord: Token, line: number, state: ScriptState): Action {
    const mode = MAINTENANCE_MODES.find((candidate) => candidate === modeWord.text);
    if (mode === undefined) {
      throw this.error(
        `unknown maintenance mode ${quoted(modeWord.text)} (expected ${oneOf(MAINTENANCE_MODES)})`,
        line,
        modeWord.column,
      );
    }
    const host = this.name(hostWord.text, 'host', line, hostWord.column);
    const since = state.inMaintenance.get(host.name);
    if (mode === 'enter') {
      if (!state.placementHosts.has(host.name)) {
        throw this.error(
          `host ${quoted(host.name)} is not on the placement line (maintenance moves VMs among the placement line's hosts)`,
          line,
          hostWord.column,
        );
      }
      if (since !== undefined) {
        throw this.error(`host ${quoted(host.name)} is already in maintenance (since line ${since})`, line, hostWord.column);
      }
      state.inMaintenance.set(host.name, line);
    } else {
      if (since === undefined) {
        throw this.error(`host ${quoted(host.name)} is not in maintenance at this point`, line, hostWord.column);
      }
      state.inMaintenance.delete(host.name);
    }
    return { kind: 'maintenance', mode, host };
  }

  /** Also keeps `running` (clients per type at this point of the script) up to date. */
  private clientChange(
    kind: 'add-client' | 'remove-client',
    typeWord: Token,
    countWord: Token,
    line: number,
    running: Map<ClientType, number>,
  ): Action {
    if (!isClientType(typeWord.text)) {
      const expected = oneOf(CLIENT_TYPES);
      throw this.error(`unknown client type ${quoted(typeWord.text)} (expected ${expected})`, line, typeWord.column);
    }
    const clientType = typeWord.text;
    const count = Number(countWord.text);
    if (!/^\d+$/.test(countWord.text) || count === 0 || !Number.isSafeInteger(count)) {
      throw this.error(
        `bad number of clients ${quoted(countWord.text)} (must be a positive whole number)`,
        line,
        countWord.column,
      );
    }
    const before = running.get(clientType) ?? 0;
    if (kind === 'remove-client' && count > before) {
      const available = before === 0 ? 'none' : `only ${before}`;
      throw this.error(
        `cannot remove ${clients(count, clientType)}, ${available} running at this point`,
        line,
        countWord.column,
      );
    }
    const runningOfAllTypes = [...running.values()].reduce((sum, value) => sum + value, 0);
    if (kind === 'add-client' && runningOfAllTypes + count > MAX_CLIENTS) {
      throw this.error(
        `adding ${clients(count, clientType)} would make ${runningOfAllTypes + count} clients run at once, more than the ${MAX_CLIENTS} allowed`,
        line,
        countWord.column,
      );
    }
    running.set(clientType, kind === 'add-client' ? before + count : before - count);
    return { kind, clientType, count };
  }
}

function isActionKind(word: string): word is ActionKind {
  return Object.hasOwn(PARAMETERS, word);
}

function isClientType(word: string): word is ClientType {
  return (CLIENT_TYPES as readonly string[]).includes(word);
}

/** The column just past a token, where a missing word would go. */
function endColumn(token: Token): number {
  return token.column + token.text.length;
}

function clients(count: number, type: ClientType): string {
  return `${count} ${type} client${count === 1 ? '' : 's'}`;
}

/** `a, b or c` */
function oneOf(words: readonly string[]): string {
  return `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}
