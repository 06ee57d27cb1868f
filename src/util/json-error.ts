/**
 * Where a JSON text stops being JSON, as "line L, column C", without quoting any of it: V8's messages quote the text
 * around the error, and a config file's text may be a stream key.
 */
export function jsonErrorWhere(text: string): string | undefined {
  const failsBefore = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      if (/end of JSON input/.test(message)) return false;
      const at = /at position (\d+)/.exec(message);
      // an error at the very end of the prefix is the prefix being cut short, not the text being wrong
      return at ? Number(at[1]) < length : true;
    }
  };
  if (!failsBefore(text.length)) return undefined;
  // the shortest prefix that is wrong in itself ends just past the error
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsBefore(mid)) hi = mid;
    else lo = mid + 1;
  }
  // a bare word (`newKey` where a string belongs) is seen as wrong past its first letters: point at its start
  let at = lo - 1;
  while (at > 0 && /[\w.+-]/.test(text[at - 1]!)) at--;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return `line ${line}, column ${at - before.lastIndexOf('\n')}`;
}
