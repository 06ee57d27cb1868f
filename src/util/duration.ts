import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const SECOND = 1000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Inclusive bounds a flag's value must fall within, with how to say them. */
export interface Range {
  min: number;
  max: number;
  text: string;
}

/** "90s" | "5m" | "1h" | "1h30m" | "250ms" | "2d" | "20" (seconds) → milliseconds, within `range`. */
export function parseDuration(
  raw: string,
  flag = '--duration',
  range: Range = { min: SECOND, max: 366 * DAY, text: 'from 1s to 366d' },
): number {
  const text = raw.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
    const rebuilt = parts.map((p) => p[0]).join('');
    if (parts.length === 0 || rebuilt !== text) {
      throw new UsageError(`${flag} "${raw}" is not a duration: use e.g. 90s, 5m, 1h or 1h30m`);
    }
    ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2]!] ?? 0), 0);
  }
  ms = Math.round(ms);
  if (!(ms >= range.min && ms <= range.max)) throw new UsageError(`${flag} ${raw}: give a duration ${range.text}`);
  return ms;
}

/** "6000k" | "6M" | "6000" (kbps) → kbps, within `range`. */
/** What a video bitrate may be (flags, config). */
export const MIN_VIDEO_KBPS = 100;
export const VIDEO_KBPS = { min: MIN_VIDEO_KBPS, max: 1_000_000, text: 'from 100k to 1000M' };

export function parseKbps(
  raw: string,
  flag: string,
  range: Range = { min: 1, max: 10_000_000, text: 'above zero' },
): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)(?:bps|bit\/s)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`${flag} "${raw}" is not a bitrate: use e.g. 3000k or 6M`);
  const value = Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1000 : 1));
  if (!(value >= range.min && value <= range.max)) throw new UsageError(`${flag} ${raw}: give a bitrate ${range.text}`);
  return value;
}
