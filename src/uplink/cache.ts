import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { UplinkMeasurement } from './measure.js';
import type { UplinkNetwork } from './network.js';
import { ownFolder, writePrivateFile } from '../util/files.js';

export const STALE_MS = 24 * 3600 * 1000;

export function cacheFile(env: Record<string, string | undefined>): string {
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'rtmpush', 'uplink.json');
}

/**
 * The last measurement, if there is one and it is less than a day old. A `network` that is not whole (a file from
 * before rtmpush recorded networks, or edited) is left out: the measurement's network is then unknown.
 */
export function readCachedUplink(
  env: Record<string, string | undefined>,
  now = Date.now(),
): UplinkMeasurement | undefined {
  const file = cacheFile(env);
  // a figure in a folder another user could write to is not ours to trust (it would cap the bitrate)
  if (!ownFolder(path.dirname(file))) return undefined;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as UplinkMeasurement;
    if (typeof m.kbps !== 'number' || !(now - Date.parse(m.measuredAt) < STALE_MS)) return undefined;
    const { network, ...rest } = m;
    return isNetwork(network) ? { ...rest, network } : rest;
  } catch {
    return undefined;
  }
}

function isNetwork(n: unknown): n is UplinkNetwork {
  const o = n as Partial<Record<keyof UplinkNetwork, unknown>> | null | undefined;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.localAddress === 'string' &&
    typeof o.interface === 'string' &&
    typeof o.target === 'string' &&
    typeof o.port === 'number'
  );
}

export function writeCachedUplink(env: Record<string, string | undefined>, m: UplinkMeasurement): void {
  writePrivateFile(cacheFile(env), `${JSON.stringify(m, null, 2)}\n`);
}
