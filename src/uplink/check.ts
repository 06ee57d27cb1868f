import { readCachedUplink } from './cache.js';
import type { UplinkMeasurement } from './measure.js';
import { describeNetwork, findRoute, sameNetwork, type UplinkNetwork } from './network.js';

/** `--uplink auto`: the cached measurement, judged against the network this machine is on now. */
export interface CheckedUplink {
  /** The cached measurement, when it was made on this network: the bitrate is capped from it. */
  measurement?: UplinkMeasurement;
  /** Why a cached measurement is not applied, said once (with the plan's notes: the banner, `start`, `plan`). */
  notice?: string;
}

const NOT_APPLIED = 'not applied — run rtmpush uplink to measure this one';

/**
 * Whether a cached measurement applies here: only on the network it was made on (the same local address and
 * interface on the way to its target). `now` is that way found now, or why it could not be; a measurement from
 * before rtmpush recorded networks is never applied.
 */
export function judgeCachedUplink(m: UplinkMeasurement, now: UplinkNetwork | Error, nowMs: number): CheckedUplink {
  const measured = `uplink: the measurement from ${ago(nowMs - Date.parse(m.measuredAt))} ago`;
  if (!m.network) return { notice: `${measured} was made before rtmpush recorded networks: ${NOT_APPLIED}` };
  if (now instanceof Error)
    return { notice: `${measured} cannot be matched to this network (${now.message}): ${NOT_APPLIED}` };
  if (sameNetwork(m.network, now)) return { measurement: m };
  const networks = `${describeNetwork(m.network)}; now ${describeNetwork(now)}`;
  return { notice: `${measured} was made on another network (${networks}): ${NOT_APPLIED}` };
}

/** `3 h`, `12 min`, `40 s`: how long ago, as the notice says it. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/**
 * `--uplink auto` (the default): reads the cached measurement and finds the way to its target now (at most 2 s,
 * a lookup that hangs included). Nothing for `off` or a given rate, or when there is no measurement from today.
 */
export async function checkCachedUplink(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  deps: { nowMs?: number; route?: typeof findRoute } = {},
): Promise<CheckedUplink> {
  if ((flag ?? 'auto') !== 'auto') return {};
  const nowMs = deps.nowMs ?? Date.now();
  const m = readCachedUplink(env, nowMs);
  if (!m) return {};
  if (!m.network) return judgeCachedUplink(m, new Error('no network recorded'), nowMs);
  const { target, port } = m.network;
  const now = await (deps.route ?? findRoute)(target, port).catch((e: unknown) =>
    e instanceof Error ? e : new Error(String(e)),
  );
  return judgeCachedUplink(m, now, nowMs);
}
