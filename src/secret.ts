import { inspect } from 'node:util';

/** What every redacted secret is printed as. */
export const MASK = '****';

// Every secret ever constructed in this process; redact() hides all of them.
const known = new Set<string>();
/** `known`, longest first, made again only when a secret is added. */
let sorted: string[] = [];

/**
 * A stream key or any other credential. It never prints itself: String(), JSON and
 * util.inspect all give the mask. Only `reveal()` gives the clear value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    if (value.length > 0 && !known.has(value)) {
      known.add(value);
      // ffmpeg and URLs may print the key percent-encoded; JSON escapes its quotes and backslashes.
      for (const form of [encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]) {
        if (form !== value) known.add(form);
      }
      sorted = [...known].sort((a, b) => b.length - a.length);
    }
  }

  reveal(): string {
    return this.#value;
  }

  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

/**
 * Below this length a secret is hidden only where a key stands: a URL path segment or query value (…/app/KEY,
 * ?key=KEY, ffmpeg's quoted URLs). Hiding every "live" or "show" in other words and states would mangle every line
 * and protect nothing; keys under 4 characters are refused outright (platforms/key-rules.ts).
 */
const SHORT = 8;
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The one redaction function: everything rtmpush prints or writes passes through here. */
export function redact(text: string): string {
  if (known.size === 0 || text.length === 0) return text;
  let out = text;
  // Longest first, so a key that contains another key is hidden whole.
  for (const value of sorted) {
    if (!out.includes(value)) continue;
    out =
      value.length >= SHORT
        ? out.split(value).join(MASK)
        : out.replace(new RegExp(`(?<=[/=])${escapeRe(value)}(?=$|[?&"'\\s\\]|,;:)])`, 'g'), MASK);
  }
  return out;
}

/** Variables that hold stream keys (or ingest URLs a key may be pasted into) by rtmpush's own naming. */
const KEY_VARIABLE = /^RTMPUSH_[A-Z0-9_]+_(KEY|URL)$/;

/**
 * The environment for a child process (ffmpeg, ffprobe, hooks): the parent's, less every variable that holds a
 * stream key, by name or by value. A child's environment is readable by its user and by anything it runs.
 */
export function childEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || KEY_VARIABLE.test(name) || holdsSecret(value)) continue;
    out[name] = value;
  }
  return out;
}

/** Whether a variable's value holds a key: anywhere for a long key, as the whole value or a word for a short one. */
function holdsSecret(value: string): boolean {
  for (const secret of known) {
    if (secret.length >= SHORT ? value.includes(secret) : wordIn(value, secret)) return true;
  }
  return false;
}

const wordIn = (text: string, word: string): boolean =>
  new RegExp(`(^|[^A-Za-z0-9_-])${escapeRe(word)}($|[^A-Za-z0-9_-])`).test(text);
