/** A position in an input file, 1-based like editors show it. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/**
 * Bad input from the user (script, config, flags). The CLI prints it as one line
 * `FILE:LINE:COL: message` (or just the message) and exits with code 2.
 */
export class InputError extends Error {
  readonly at: SourcePosition | undefined;

  constructor(message: string, at?: SourcePosition) {
    super(message);
    this.name = 'InputError';
    this.at = at;
  }

  /** Escapes what a terminal would act on, so that quoted input can never drive it. */
  toOneLine(): string {
    const where = this.at ? `${this.at.file}:${this.at.line}:${this.at.column}: ` : '';
    return escapeInvisible(`${where}${this.message}`.replace(/\s*\n\s*/g, ' '));
  }
}

/** How much of a piece of input a message quotes before eliding the rest. */
const QUOTED_CHARACTERS = 80;

/**
 * Control characters (escape sequences), format characters (bidirectional overrides,
 * zero-width characters), line and paragraph separators and lone surrogates.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

/** `\u001b` for ESC, `\n` for a newline: what JSON would write. A backslash is left as it is. */
export function escapeInvisible(text: string): string {
  return text.replace(INVISIBLE, (character) => (character < ' ' ? JSON.stringify(character).slice(1, -1) : unicodeEscapes(character)));
}

/** `\uXXXX` for each UTF-16 unit: two for a character outside the BMP. */
function unicodeEscapes(character: string): string {
  return Array.from({ length: character.length }, (_, index) => `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`).join('');
}

/** A piece of input for a message: in single quotes, escaped, and cut short if long. */
export function quoted(input: string): string {
  return `'${escapeInvisible(clipped(input))}'`;
}

/** The first QUOTED_CHARACTERS characters of `input`, with `…` if there were more. */
export function clipped(input: string): string {
  if (input.length <= QUOTED_CHARACTERS) return input;
  const head = input.slice(0, QUOTED_CHARACTERS);
  // Do not cut a surrogate pair in half.
  return `${/[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head}…`;
}
