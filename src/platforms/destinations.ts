import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { Secret } from '../secret.js';
import { endpointUrl, type RtmpEndpoint } from '../rtmp/endpoint.js';
import { PLATFORM_IDS, type Platform, defaultIngest, expectedApp, findPlatform } from './table.js';
import type { ConfigDestination, RtmpushConfig } from '../config/schema.js';
import type { EncoderChoice } from '../plan/choices.js';
import { VIDEO_KBPS, parseKbps } from '../util/duration.js';
import { checkKey, parseBaseUrl, parseFullUrl, refuseKeyInIngestUrl, refuseMoreThanServer } from './urls.js';

export { endpointUrl, type RtmpEndpoint };

export type DestinationKind = 'platform' | 'config' | 'local' | 'url';

export interface Destination {
  label: string;
  kind: DestinationKind;
  /** The platform whose rules and limits apply, if any. */
  platform?: Platform;
  endpoint: RtmpEndpoint;
  key: Secret;
  /** Where the key came from (a variable name, the config file, the URL), for messages. */
  keyFrom?: string;
  /** Its own encode (`--to NAME@PRESET`, or the config's preset / videoBitrate / encoder), else the stream's. */
  own?: OwnSetting;
}

export interface OwnSetting {
  preset?: string;
  videoKbps?: number;
  encoder?: EncoderChoice;
}

export interface ResolveContext {
  env: Record<string, string | undefined>;
  config: RtmpushConfig;
  /** doctor: keep a missing or odd key (as typed) so it can be checked as a step instead of stopping here. */
  lenientKeys?: boolean;
}

const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/** The full publish URL with the key in clear. Only the runner hands it to a process. */
export function publishUrl(dest: Destination): string {
  return `${endpointUrl(dest.endpoint)}/${dest.key.reveal()}`;
}

export function envName(platformId: string, what: 'KEY' | 'URL'): string {
  return `RTMPUSH_${platformId.toUpperCase()}_${what}`;
}

/** Resolve every `--to` item; labels come out unique. */
export function resolveDestinations(rawItems: string[], ctx: ResolveContext): Destination[] {
  const items = rawItems
    .flatMap((i) => i.split(','))
    .map((i) => i.trim())
    .filter((i) => i.length > 0);
  if (items.length === 0) {
    throw new UsageError(
      'no destination: pass --to with a platform (youtube, twitch, ...), a config name, local, or an rtmp:// URL',
    );
  }
  const resolved = uniqueLabels(items.map((item) => withPreset(item, ctx)));
  refuseTwice(resolved);
  return resolved;
}

/** Two destinations with the same server, app and key would fight over one publish: refused before anything starts. */
function refuseTwice(destinations: Destination[]): void {
  const seen = new Map<string, string>();
  for (const d of destinations) {
    if (d.kind === 'local') continue;
    const id = `${endpointUrl(d.endpoint)}/${d.key.reveal()}`;
    const first = seen.get(id);
    if (first) {
      throw new UsageError(
        `destinations "${first}" and ` +
          `"${d.label}" are the same server, app and key: a server takes one publisher per key, so give it once`,
      );
    }
    seen.set(id, d.label);
  }
}

const PRESET_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `NAME@PRESET` (a platform id or a config name): that destination gets its own preset. */
function withPreset(item: string, ctx: ResolveContext): { dest: Destination; explicitLabel: boolean } {
  const at = item.lastIndexOf('@');
  if (at < 0 || item.includes('://') || item.includes('=')) return resolveOne(item, ctx);
  const [name, preset] = [item.slice(0, at), item.slice(at + 1)];
  if (!PRESET_RE.test(preset))
    throw new UsageError(
      `--to ${item}: give a preset after the @, e.g. ${name || 'youtube'}@1080p30 (rtmpush presets)`,
    );
  if (name === 'local' || name === '')
    throw new UsageError(`--to ${item}: NAME@PRESET takes a platform or a config name`);
  const got = resolveOne(name, ctx);
  return { ...got, dest: { ...got.dest, own: { ...got.dest.own, preset } } };
}

function resolveOne(item: string, ctx: ResolveContext): { dest: Destination; explicitLabel: boolean } {
  const eq = item.indexOf('=');
  const schemeAt = item.indexOf('://');
  if (eq > 0 && (schemeAt < 0 || eq < schemeAt)) {
    const label = item.slice(0, eq);
    const rawUrl = item.slice(eq + 1);
    if (!LABEL_RE.test(label)) {
      const rule = "a label is letters, digits, '.', '_' or '-' (at most 40), starting with a letter or digit";
      throw new UsageError(`--to "${label}=...": ${rule}`);
    }
    return { dest: { ...parseFullUrl(rawUrl, `--to ${label}`, ctx.lenientKeys), label }, explicitLabel: true };
  }
  if (item === 'local') {
    return {
      dest: {
        label: 'local',
        kind: 'local',
        endpoint: { protocol: 'rtmp', host: '127.0.0.1', port: 0, app: 'live' },
        key: localKey(),
      },
      explicitLabel: true,
    };
  }
  if (schemeAt >= 0 || /^[a-z]+:/i.test(item)) {
    const dest = parseFullUrl(item, '--to', ctx.lenientKeys);
    return { dest: { ...dest, label: dest.endpoint.host }, explicitLabel: false };
  }
  const fromConfig = ctx.config.destinations?.[item];
  if (fromConfig) return { dest: fromConfigEntry(item, fromConfig, ctx), explicitLabel: true };
  if ((PLATFORM_IDS as readonly string[]).includes(item)) {
    return { dest: fromPlatform(item, ctx), explicitLabel: true };
  }
  const names = Object.keys(ctx.config.destinations ?? {});
  const known = [...PLATFORM_IDS, 'local', ...names].join(', ');
  throw new UsageError(`unknown destination "${item}": use one of ${known}, or an rtmp://host/app/key URL`);
}

function fromPlatform(id: string, ctx: ResolveContext, configKey?: { key?: Secret; from: string }): Destination {
  const platform = findPlatform(id);
  if (!platform) throw new UsageError(`unknown platform "${id}": use one of ${PLATFORM_IDS.join(', ')}`);
  const urlVar = envName(id, 'URL');
  const overrideUrl = ctx.env[urlVar];
  const base = overrideUrl ?? defaultIngest(platform);
  if (!base) throw new UsageError(`${platform.name} has no fixed ingest URL: set ${urlVar} to the URL it gave you`);
  const keyVar = envName(id, 'KEY');
  const endpoint = parseBaseUrl(base, overrideUrl ? urlVar : `${platform.name} ingest`);
  if (overrideUrl) refuseKeyInIngestUrl(endpoint, expectedApp(platform), urlVar, keyVar);
  if (overrideUrl && platform.ingest.length === 0) refuseMoreThanServer(endpoint, urlVar, keyVar);
  const envKey = ctx.env[keyVar];
  let key: Secret | undefined;
  let keyFrom = keyVar;
  if (envKey !== undefined && envKey.trim() !== '') key = checkKey(envKey, keyVar, ctx.lenientKeys);
  else if (configKey?.key) [key, keyFrom] = [configKey.key, configKey.from];
  if (!key && ctx.lenientKeys) key = new Secret(envKey ?? '');
  if (!key) {
    const hint = configKey ? `${configKey.from}` : `set ${keyVar} (or name it in the config file)`;
    throw new UsageError(`${id}: no stream key: ${hint}`);
  }
  return { label: id, kind: 'platform', platform, endpoint, key, keyFrom };
}

function fromConfigEntry(name: string, entry: ConfigDestination, ctx: ResolveContext): Destination {
  const where = `config destination "${name}"`;
  const own = ownSetting(entry, where);
  const dest = fromConfigTarget(name, entry, ctx, where);
  return own ? { ...dest, own } : dest;
}

function ownSetting(entry: ConfigDestination, where: string): OwnSetting | undefined {
  const { preset, videoBitrate, encoder } = entry;
  if (preset === undefined && videoBitrate === undefined && encoder === undefined) return undefined;
  const videoKbps =
    typeof videoBitrate === 'string' ? parseKbps(videoBitrate, `${where} videoBitrate`, VIDEO_KBPS) : videoBitrate;
  return {
    ...(preset ? { preset } : {}),
    ...(videoKbps ? { videoKbps } : {}),
    ...(encoder ? { encoder } : {}),
  };
}

function fromConfigTarget(name: string, entry: ConfigDestination, ctx: ResolveContext, where: string): Destination {
  let key: Secret | undefined;
  if (entry.keyEnv) {
    const value = ctx.env[entry.keyEnv];
    if (value !== undefined && value.trim() !== '') key = checkKey(value, entry.keyEnv, ctx.lenientKeys);
    else if (ctx.lenientKeys && !entry.key) key = new Secret(value ?? '');
    else if (!entry.key)
      throw new UsageError(`${name}: no stream key: set ${entry.keyEnv} (named by keyEnv in ${where})`);
  }
  if (!key && entry.key) key = checkKey(entry.key, `${where} key`, ctx.lenientKeys);
  if (entry.platform) {
    const dest = fromPlatform(
      entry.platform,
      ctx,
      key ? { key, from: entry.keyEnv ?? where } : { from: `set keyEnv or key in ${where}` },
    );
    return { ...dest, label: name, kind: 'config' };
  }
  if (!entry.url) throw new UsageError(`${where}: give "platform" or "url"`);
  if (key) {
    return {
      label: name,
      kind: 'config',
      endpoint: parseBaseUrl(entry.url, where),
      key,
      keyFrom: entry.keyEnv ?? where,
    };
  }
  return { ...parseFullUrl(entry.url, where, ctx.lenientKeys), label: name, kind: 'config' };
}

function uniqueLabels(list: { dest: Destination; explicitLabel: boolean }[]): Destination[] {
  const taken = new Set<string>();
  for (const { dest, explicitLabel } of list) {
    if (!explicitLabel) continue;
    if (taken.has(dest.label)) {
      throw new UsageError(
        `destination "${dest.label}" is given twice: ` +
          `each destination needs its own label (e.g. ${dest.label}2=rtmp://...)`,
      );
    }
    taken.add(dest.label);
  }
  return list.map(({ dest, explicitLabel }) => {
    if (explicitLabel) return dest;
    let label = dest.label;
    for (let n = 2; taken.has(label); n++) label = `${dest.label}-${n}`;
    taken.add(label);
    return { ...dest, label };
  });
}

let local: Secret | undefined;
/**
 * The embedded server's key: random, one per process. A reload resolves `local` again, and a new key each time
 * was one more secret that every printed line is searched for, for as long as the service runs.
 */
function localKey(): Secret {
  local ??= new Secret(`rtmpush-${randomBytes(6).toString('hex')}`);
  return local;
}

/**
 * Where a destination publishes, key included: two destinations must not publish to the same one. A digest, so the
 * maps that compare them (the board's, a reload's) hold no key in clear.
 */
export const publishKey = (d: Destination): string =>
  createHash('sha256')
    .update(`${endpointUrl(d.endpoint)}/${d.key.reveal()}`)
    .digest('base64url');
