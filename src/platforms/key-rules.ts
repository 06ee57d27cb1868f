/** Below this a stream key cannot be told apart from ordinary words in the output, so it could not be hidden. */
export const MIN_KEY_LENGTH = 4;

/** What is wrong with a stream key as given, if anything: the one set of rules for start, plan and doctor. */
export type KeyProblem = 'missing' | 'url' | 'whitespace' | 'short' | 'padded';

export function keyProblem(raw: string | undefined): KeyProblem | undefined {
  if (raw === undefined || raw.trim() === '') return 'missing';
  const key = raw.trim();
  if (/^[a-z]+:\/\//i.test(key)) return 'url';
  if (/\s/.test(key)) return 'whitespace';
  if (key.length < MIN_KEY_LENGTH) return 'short';
  if (key !== raw) return 'padded';
  return undefined;
}

/** The problem in words. */
export function keyProblemText(problem: KeyProblem): string {
  switch (problem) {
    case 'missing':
      return 'no stream key';
    case 'url':
      return 'the key is a URL';
    case 'whitespace':
      return 'the stream key contains whitespace';
    case 'short':
      return `the stream key is too short to be real (under ${MIN_KEY_LENGTH} characters)`;
    case 'padded':
      return 'the key has spaces or a newline around it (rtmpush trims them)';
  }
}

/** What to do about it, where the key came from (a variable, a config entry, a URL). */
export function keyAdvice(problem: KeyProblem, from: string): string {
  switch (problem) {
    case 'missing':
      return `set ${from}`;
    case 'url':
      return `set ${from} to the stream key alone, not the ingest URL`;
    case 'whitespace':
      return `paste the key alone into ${from}`;
    case 'short':
      return `check ${from}: real stream keys are longer`;
    case 'padded':
      return `remove them from ${from}`;
  }
}
