import { readFileSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENCODER_NAMES, type EncoderName } from '../ffmpeg/encoders.js';
import { ownFolder, writePrivateFile } from '../util/files.js';

/** A probe result is trusted for a day: drivers and GPUs change rarely, and a new ffmpeg is a new key. */
export const ENCODER_STALE_MS = 24 * 3600 * 1000;
const VERSION = 1;

export interface ProbeResult {
  name: EncoderName;
  ok: boolean;
  /** ffmpeg's own words for why it failed, one short line. */
  reason?: string;
  /** How long the test encode took. */
  ms?: number;
}

interface CachedResult extends ProbeResult {
  /** When it was probed, ms since the epoch. */
  at: number;
}

/** What is known of one ffmpeg on one machine. */
export interface EncoderCacheEntry {
  /** The encoders of ENCODER_NAMES that `ffmpeg -encoders` lists, and when that was read. */
  listed?: { names: EncoderName[]; at: number };
  results: Partial<Record<EncoderName, CachedResult>>;
}

interface CacheFile {
  version: number;
  entries: Record<string, EncoderCacheEntry>;
}

export function encoderCacheFile(env: Record<string, string | undefined>): string {
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'rtmpush', 'encoders.json');
}

/**
 * Which ffmpeg on which machine: its real path, size and modification time (an upgrade or another build is
 * another key), and the host name (a home directory shared between machines holds each one's own results).
 */
export function ffmpegKey(ffmpeg: string): string {
  let file = ffmpeg;
  try {
    file = realpathSync(ffmpeg);
    const st = statSync(file);
    return `${os.hostname()}|${file}|${st.size}|${Math.round(st.mtimeMs)}`;
  } catch {
    return `${os.hostname()}|${file}|?|?`;
  }
}

const isName = (v: unknown): v is EncoderName => typeof v === 'string' && (ENCODER_NAMES as string[]).includes(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One result as stored, or undefined if it is not one (a file from elsewhere, edited, or half written). */
function validResult(v: unknown): CachedResult | undefined {
  if (!isObject(v) || !isName(v.name) || typeof v.ok !== 'boolean' || typeof v.at !== 'number') return undefined;
  if (v.reason !== undefined && typeof v.reason !== 'string') return undefined;
  return {
    name: v.name,
    ok: v.ok,
    at: v.at,
    ...(typeof v.reason === 'string' ? { reason: v.reason } : {}),
    ...(typeof v.ms === 'number' ? { ms: v.ms } : {}),
  };
}

function validEntry(v: unknown): EncoderCacheEntry | undefined {
  if (!isObject(v) || !isObject(v.results)) return undefined;
  const entry: EncoderCacheEntry = { results: {} };
  for (const [name, raw] of Object.entries(v.results)) {
    const r = validResult(raw);
    if (r && r.name === name) entry.results[r.name] = r;
  }
  const listed = v.listed;
  if (isObject(listed) && Array.isArray(listed.names) && listed.names.every(isName) && typeof listed.at === 'number')
    entry.listed = { names: listed.names, at: listed.at };
  return entry;
}

/** The whole file; anything unreadable, corrupt or of another version counts as empty (and is rewritten). */
function readFile(env: Record<string, string | undefined>): CacheFile {
  const file = encoderCacheFile(env);
  // results in a folder another user could write to are not ours to trust (they choose the encoder)
  if (!ownFolder(path.dirname(file))) return { version: VERSION, entries: {} };
  try {
    const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isObject(raw) || raw.version !== VERSION || !isObject(raw.entries)) return { version: VERSION, entries: {} };
    const entries: Record<string, EncoderCacheEntry> = {};
    for (const [key, value] of Object.entries(raw.entries)) {
      const entry = validEntry(value);
      if (entry) entries[key] = entry;
    }
    return { version: VERSION, entries };
  } catch {
    return { version: VERSION, entries: {} };
  }
}

const fresh = (at: number, now: number): boolean => now - at < ENCODER_STALE_MS && at <= now + 60_000;

/** What is known of this ffmpeg here from the last day: stale parts are left out. */
export function readEncoderCache(
  env: Record<string, string | undefined>,
  key: string,
  now = Date.now(),
): EncoderCacheEntry {
  const entry = readFile(env).entries[key];
  const out: EncoderCacheEntry = { results: {} };
  if (!entry) return out;
  if (entry.listed && fresh(entry.listed.at, now)) out.listed = entry.listed;
  for (const r of Object.values(entry.results)) if (r && fresh(r.at, now)) out.results[r.name] = r;
  return out;
}

/**
 * Adds what was just learnt to this key's entry (other keys' entries are kept unless a day old) and writes the
 * file whole, private to its user, through a rename so a reader never sees half of it.
 */
export function writeEncoderCache(
  env: Record<string, string | undefined>,
  key: string,
  update: { listed?: EncoderName[]; results?: ProbeResult[] },
  now = Date.now(),
): void {
  const file = encoderCacheFile(env);
  const data = readFile(env);
  const entries: Record<string, EncoderCacheEntry> = {};
  for (const [k, entry] of Object.entries(data.entries)) {
    const kept = k === key ? entry : pruned(entry, now);
    if (kept) entries[k] = kept;
  }
  const entry = entries[key] ?? { results: {} };
  if (update.listed) entry.listed = { names: update.listed, at: now };
  for (const r of update.results ?? []) entry.results[r.name] = { ...r, at: now };
  entries[key] = entry;
  writePrivateFile(file, `${JSON.stringify({ version: VERSION, entries }, null, 2)}\n`);
}

/** Another ffmpeg's entry, without what is a day old; undefined when nothing is left. */
function pruned(entry: EncoderCacheEntry, now: number): EncoderCacheEntry | undefined {
  const results = Object.fromEntries(Object.entries(entry.results).filter(([, r]) => r && fresh(r.at, now)));
  const listed = entry.listed && fresh(entry.listed.at, now) ? entry.listed : undefined;
  if (!listed && Object.keys(results).length === 0) return undefined;
  return { ...(listed ? { listed } : {}), results };
}
