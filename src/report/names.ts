/** A file-name-safe form of a label or counter name (may be empty). */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** The names made unique: a repeat becomes the first free `numbered(name, 2)`, `numbered(name, 3)`… */
export function uniqueNames(names: readonly string[], numbered: (name: string, n: number) => string): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    for (let n = 2; taken.has(candidate); n++) candidate = numbered(name, n);
    taken.add(candidate);
    return candidate;
  });
}
