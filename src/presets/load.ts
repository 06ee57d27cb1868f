import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { readSmallFile } from '../util/files.js';
import { packageRoot } from '../util/paths.js';
import { describeIssues } from '../config/schema.js';
import { presetSchema, type Preset } from './schema.js';

export interface PresetEntry {
  preset: Preset;
  file: string;
  builtIn: boolean;
}

function readDir(dir: string, builtIn: boolean): PresetEntry[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const text = readSmallFile(file, `preset ${file}`);
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`${file}: not valid JSON: fix or remove this preset file`, { cause: error });
      }
      const parsed = presetSchema.safeParse(raw);
      if (!parsed.success)
        throw new UsageError(`${file}: ${describeIssues(parsed.error).join('; ')}`, { cause: parsed.error });
      return { preset: parsed.data, file, builtIn };
    });
}

/** Built-in presets, then user presets from `<config dir>/presets/` (a user preset may replace a built-in). */
export function loadPresets(configFile?: string): PresetEntry[] {
  const byName = new Map<string, PresetEntry>();
  const dirs: [string, boolean][] = [[path.join(packageRoot(), 'presets'), true]];
  if (configFile) dirs.push([path.join(path.dirname(configFile), 'presets'), false]);
  for (const [dir, builtIn] of dirs) {
    for (const entry of readDir(dir, builtIn)) byName.set(entry.preset.name, entry);
  }
  return [...byName.values()];
}

export function findPreset(entries: PresetEntry[], name: string, what = 'preset'): Preset {
  const found = entries.find((e) => e.preset.name === name);
  if (!found) {
    throw new UsageError(
      `unknown ${what} "${name}": use one of ${entries.map((e) => e.preset.name).join(', ')} (see rtmpush presets)`,
    );
  }
  return found.preset;
}
