import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s" | "5m" | "1h" | "1h30m" | "250ms" | "20" (seconds) → milliseconds. */
export function parseDuration(raw: string, flag = '--duration'): number {
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const rebuilt = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || rebuilt !== text) {
    throw new UsageError(`${flag} "${raw}" is not a duration: use e.g. 90s, 5m, 1h or 1h30m`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2]!] ?? 0), 0);
  if (ms <= 0) throw new UsageError(`${flag} must be longer than zero (e.g. 20s)`);
  return Math.round(ms);
}

/** "6000k" | "6M" | "6000" (kbps) → kbps. */
export function parseKbps(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)(?:bps|bit\/s)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`${flag} "${raw}" is not a bitrate: use e.g. 3000k or 6M`);
  const value = Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1000 : 1);
  if (!(value > 0)) throw new UsageError(`${flag} must be above zero (e.g. 3000k)`);
  return Math.round(value);
}
