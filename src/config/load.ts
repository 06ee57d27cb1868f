import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { readSmallFile } from '../util/files.js';
import { jsonErrorWhere } from '../util/json-error.js';
import { configSchema, describeIssues, type RtmpushConfig } from './schema.js';

export interface LoadedConfig {
  config: RtmpushConfig;
  /** The file it came from, if any. */
  file?: string;
  warnings: string[];
}

export interface ConfigLookup {
  explicit?: string;
  cwd: string;
  env: Record<string, string | undefined>;
  home?: string;
}

/** Where the config is looked for: --config, ./rtmpush.config.json, $XDG_CONFIG_HOME/rtmpush/config.json. */
export function configCandidates(lookup: ConfigLookup): string[] {
  if (lookup.explicit) return [path.resolve(lookup.cwd, lookup.explicit)];
  const xdg = lookup.env.XDG_CONFIG_HOME || path.join(lookup.home ?? os.homedir(), '.config');
  return [path.join(lookup.cwd, 'rtmpush.config.json'), path.join(xdg, 'rtmpush', 'config.json')];
}

export function loadConfig(lookup: ConfigLookup): LoadedConfig {
  const candidates = configCandidates(lookup);
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    if (lookup.explicit) throw new UsageError(`--config ${lookup.explicit}: no such file`);
    return { config: {}, warnings: [] };
  }
  const text = readSmallFile(file, lookup.explicit ? `--config ${lookup.explicit}` : file);
  let raw: unknown;
  // an editor's byte-order mark is not the JSON's
  const json = text.replace(/^\uFEFF/, '');
  try {
    raw = JSON.parse(json);
  } catch {
    // V8's message quotes the text around the error, which may be a key: only where it is (and no cause kept)
    const where = jsonErrorWhere(json);
    const what = where ? `at ${where}` : "it ends before its JSON does: an unclosed '{', '[' or string";
    throw new UsageError(`${file}: not valid JSON (${what}): fix the file`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError(`${file}: ${describeIssues(parsed.error).join('; ')}`, { cause: parsed.error });
  }
  const warnings: string[] = [];
  const literal = Object.entries(parsed.data.destinations ?? {}).filter(([, d]) => d.key);
  if (literal.length > 0 && (statSync(file).mode & 0o044) !== 0) {
    warnings.push(
      `${file} holds stream keys ` +
        `(${literal.map(([n]) => n).join(', ')}) and other users can read it: run chmod 600 on it, or use keyEnv`,
    );
  }
  return { config: parsed.data, file, warnings };
}
