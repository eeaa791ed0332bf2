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

  toOneLine(): string {
    const where = this.at ? `${this.at.file}:${this.at.line}:${this.at.column}: ` : '';
    return `${where}${this.message}`.replace(/\s*\n\s*/g, ' ');
  }
}
