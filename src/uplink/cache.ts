import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { UplinkMeasurement } from './measure.js';

export const STALE_MS = 24 * 3600 * 1000;

export function cacheFile(env: Record<string, string | undefined>): string {
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'rtmpush', 'uplink.json');
}

/** The last measurement, if there is one and it is less than a day old. */
export function readCachedUplink(
  env: Record<string, string | undefined>,
  now = Date.now(),
): UplinkMeasurement | undefined {
  try {
    const m = JSON.parse(readFileSync(cacheFile(env), 'utf8')) as UplinkMeasurement;
    return typeof m.kbps === 'number' && now - Date.parse(m.measuredAt) < STALE_MS ? m : undefined;
  } catch {
    return undefined;
  }
}

export function writeCachedUplink(env: Record<string, string | undefined>, m: UplinkMeasurement): void {
  const file = cacheFile(env);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
}
