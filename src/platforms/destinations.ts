import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { Secret } from '../secret.js';
import { PLATFORM_IDS, defaultIngest, expectedApp, findPlatform, platformForHost } from './table.js';
import type { ConfigDestination, RtmpushConfig } from '../config/schema.js';

export interface RtmpEndpoint {
  protocol: 'rtmp' | 'rtmps';
  host: string;
  /** 0 until known (the embedded server picks its port when it starts). */
  port: number;
  /** Everything between host and key, e.g. "live2" or "app/instance". */
  app: string;
}

export type DestinationKind = 'platform' | 'config' | 'local' | 'url';

export interface Destination {
  label: string;
  kind: DestinationKind;
  /** Platform id whose limits apply, if any. */
  platform?: string;
  endpoint: RtmpEndpoint;
  key: Secret;
  /** Where the key came from (a variable name, the config file, the URL), for messages. */
  keyFrom?: string;
}

export interface ResolveContext {
  env: Record<string, string | undefined>;
  config: RtmpushConfig;
  /** doctor: keep a missing or odd key (as typed) so it can be checked as a step instead of stopping here. */
  lenientKeys?: boolean;
}

const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
const DEFAULT_PORT = { rtmp: 1935, rtmps: 443 } as const;

/** The full publish URL with the key in clear. Only the runner hands it to a process. */
export function publishUrl(dest: Destination): string {
  return `${endpointUrl(dest.endpoint)}/${dest.key.reveal()}`;
}

/** The ingest URL without the key. */
export function endpointUrl(e: RtmpEndpoint): string {
  return `${e.protocol}://${e.host}:${e.port}/${e.app}`;
}

export function envName(platformId: string, what: 'KEY' | 'URL'): string {
  return `RTMPUSH_${platformId.toUpperCase()}_${what}`;
}

/** Resolve every `--to` item; labels come out unique. */
export function resolveDestinations(rawItems: string[], ctx: ResolveContext): Destination[] {
  const items = rawItems.flatMap((i) => i.split(',')).map((i) => i.trim()).filter((i) => i.length > 0);
  if (items.length === 0) {
    throw new UsageError('no destination: pass --to with a platform (youtube, twitch, ...), a config name, local, or an rtmp:// URL');
  }
  const resolved = items.map((item) => resolveOne(item, ctx));
  return uniqueLabels(resolved);
}

function resolveOne(item: string, ctx: ResolveContext): { dest: Destination; explicitLabel: boolean } {
  const eq = item.indexOf('=');
  const schemeAt = item.indexOf('://');
  if (eq > 0 && (schemeAt < 0 || eq < schemeAt)) {
    const label = item.slice(0, eq);
    const rawUrl = item.slice(eq + 1);
    if (!LABEL_RE.test(label)) {
      throw new UsageError(`--to "${label}=...": a label is letters, digits, '.', '_' or '-' (at most 40), starting with a letter or digit`);
    }
    return { dest: { ...parseFullUrl(rawUrl, `--to ${label}`), label }, explicitLabel: true };
  }
  if (item === 'local') {
    return {
      dest: {
        label: 'local',
        kind: 'local',
        endpoint: { protocol: 'rtmp', host: '127.0.0.1', port: 0, app: 'live' },
        key: new Secret(`rtmpush-${randomBytes(6).toString('hex')}`),
      },
      explicitLabel: true,
    };
  }
  if (schemeAt >= 0 || /^[a-z]+:/i.test(item)) {
    const dest = parseFullUrl(item, '--to');
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
  const endpoint = parseBaseUrl(base, overrideUrl ? urlVar : `${platform.name} ingest`);
  const keyVar = envName(id, 'KEY');
  const envKey = ctx.env[keyVar];
  let key: Secret | undefined;
  let keyFrom = keyVar;
  if (envKey !== undefined && envKey.trim() !== '') key = checkKey(envKey, keyVar, ctx);
  else if (configKey?.key) [key, keyFrom] = [configKey.key, configKey.from];
  if (!key && ctx.lenientKeys) key = new Secret(envKey ?? '');
  if (!key) {
    const hint = configKey ? `${configKey.from}` : `set ${keyVar} (or name it in the config file)`;
    throw new UsageError(`${id}: no stream key: ${hint}`);
  }
  return { label: id, kind: 'platform', platform: id, endpoint, key, keyFrom };
}

function fromConfigEntry(name: string, entry: ConfigDestination, ctx: ResolveContext): Destination {
  const where = `config destination "${name}"`;
  let key: Secret | undefined;
  if (entry.keyEnv) {
    const value = ctx.env[entry.keyEnv];
    if (value !== undefined && value.trim() !== '') key = checkKey(value, entry.keyEnv, ctx);
    else if (ctx.lenientKeys && !entry.key) key = new Secret(value ?? '');
    else if (!entry.key) throw new UsageError(`${name}: no stream key: set ${entry.keyEnv} (named by keyEnv in ${where})`);
  }
  if (!key && entry.key) key = checkKey(entry.key, `${where} key`, ctx);
  if (entry.platform) {
    const dest = fromPlatform(entry.platform, ctx, key ? { key, from: entry.keyEnv ?? where } : { from: `set keyEnv or key in ${where}` });
    return { ...dest, label: name, kind: 'config' };
  }
  if (!entry.url) throw new UsageError(`${where}: give "platform" or "url"`);
  if (key) {
    return { label: name, kind: 'config', endpoint: parseBaseUrl(entry.url, where), key, keyFrom: entry.keyEnv ?? where };
  }
  return { ...parseFullUrl(entry.url, where), label: name, kind: 'config' };
}

function checkKey(raw: string, from: string, ctx: ResolveContext): Secret {
  if (ctx.lenientKeys) return new Secret(raw);
  const value = raw.trim();
  // Register before any message could quote it.
  const secret = new Secret(value);
  if (/\s/.test(value)) throw new UsageError(`${from}: the stream key contains whitespace: paste the key alone`);
  if (/^[a-z]+:\/\//i.test(value)) throw new UsageError(`${from}: holds a URL, not a stream key: set it to the key alone`);
  return secret;
}

function parseUrl(raw: string, where: string): { url: URL; segments: string[]; protocol: 'rtmp' | 'rtmps' } {
  const text = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    throw new UsageError(`${where}: ${scheme}:// is not an ingest URL: rtmpush publishes over rtmp:// or rtmps:// (e.g. rtmps://a.rtmps.youtube.com/live2/KEY)`);
  }
  if (scheme !== 'rtmp' && scheme !== 'rtmps') {
    throw new UsageError(`${where}: unsupported URL scheme${scheme ? ` "${scheme}:"` : ''}: use rtmp://host/app/key or rtmps://host/app/key`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${where}: malformed URL: expected ${scheme}://host[:port]/app/key`);
  }
  if (!url.hostname) throw new UsageError(`${where}: the URL has no host: expected ${scheme}://host[:port]/app/key`);
  if (url.port && !(Number(url.port) > 0)) throw new UsageError(`${where}: bad port in the URL`);
  const segments = url.pathname.split('/').filter((s) => s.length > 0);
  return { url, segments, protocol: scheme };
}

function endpointOf(url: URL, protocol: 'rtmp' | 'rtmps', app: string): RtmpEndpoint {
  const port = url.port ? Number(url.port) : DEFAULT_PORT[protocol];
  return { protocol, host: url.hostname, port, app };
}

function appHint(host: string): string {
  const platform = platformForHost(host);
  const app = platform && expectedApp(platform);
  return app ? ` (${platform.name}'s app is "${app}": ${defaultIngest(platform)}/KEY)` : '';
}

/** rtmp://host[:port]/app[/...]/key[?query] → endpoint + key. */
export function parseFullUrl(raw: string, where: string): Omit<Destination, 'label'> {
  const { url, segments, protocol } = parseUrl(raw, where);
  if (segments.length < 2) {
    const what = segments.length === 0 ? 'no app path and no stream key' : 'no app path';
    throw new UsageError(`${where}: the URL has ${what}: expected ${protocol}://host[:port]/app/key${appHint(url.hostname)}`);
  }
  const key = new Secret(segments[segments.length - 1]! + url.search);
  const app = segments.slice(0, -1).join('/');
  return { kind: 'url', endpoint: endpointOf(url, protocol, app), key };
}

/** rtmp://host[:port]/app (a platform's ingest, or a config url with the key given apart). */
export function parseBaseUrl(raw: string, where: string): RtmpEndpoint {
  const { url, segments, protocol } = parseUrl(raw, where);
  if (segments.length === 0) {
    throw new UsageError(`${where}: the URL has no app path: expected ${protocol}://host[:port]/app${appHint(url.hostname)}`);
  }
  return endpointOf(url, protocol, segments.join('/') + url.search);
}

function uniqueLabels(list: { dest: Destination; explicitLabel: boolean }[]): Destination[] {
  const taken = new Set<string>();
  for (const { dest, explicitLabel } of list) {
    if (!explicitLabel) continue;
    if (taken.has(dest.label)) {
      throw new UsageError(`destination "${dest.label}" is given twice: each destination needs its own label (e.g. ${dest.label}2=rtmp://...)`);
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
