/** The `code` of a Node system error (`'EPIPE'`, `'EEXIST'`…), if `error` has one. */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code } = error as NodeJS.ErrnoException;
  return code;
}
