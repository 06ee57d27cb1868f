import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { Secret } from '../secret.js';
import { endpointUrl, type RtmpEndpoint } from '../rtmp/endpoint.js';
import { keyAdvice, keyProblem, keyProblemText } from './key-rules.js';
import { PLATFORM_IDS, type Platform, defaultIngest, expectedApp, findPlatform, platformForHost } from './table.js';
import type { ConfigDestination, RtmpushConfig } from '../config/schema.js';
import type { EncoderChoice } from '../plan/choices.js';
import { VIDEO_KBPS, parseKbps } from '../util/duration.js';

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
const DEFAULT_PORT = { rtmp: 1935, rtmps: 443 } as const;

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
  if (envKey !== undefined && envKey.trim() !== '') key = checkKey(envKey, keyVar, ctx);
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
    if (value !== undefined && value.trim() !== '') key = checkKey(value, entry.keyEnv, ctx);
    else if (ctx.lenientKeys && !entry.key) key = new Secret(value ?? '');
    else if (!entry.key)
      throw new UsageError(`${name}: no stream key: set ${entry.keyEnv} (named by keyEnv in ${where})`);
  }
  if (!key && entry.key) key = checkKey(entry.key, `${where} key`, ctx);
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

/**
 * A key pasted into RTMPUSH_<ID>_URL (…/live2/KEY) would be taken for part of the app path and printed with it:
 * what follows the platform's app is hidden at once and refused with the fix.
 */
function refuseKeyInIngestUrl(endpoint: RtmpEndpoint, app: string | undefined, urlVar: string, keyVar: string): void {
  if (!app) return;
  const [path = '', query] = endpoint.app.split('?');
  if (!path.startsWith(`${app}/`)) return;
  const extra = path.slice(app.length + 1) + (query ? `?${query}` : '');
  new Secret(extra);
  new Secret(extra.split('/').at(-1)!);
  throw new UsageError(
    `${urlVar} holds a stream key after the app path "${app}": ` +
      `set it to ${endpoint.protocol}://host/${app} and put the key in ${keyVar}`,
  );
}

/**
 * A platform whose server is given per session (TikTok, Instagram): its URL is the server and one app, nothing
 * after. What follows (a stream name, a signed query) may be the key: hidden at once and refused with the fix.
 */
function refuseMoreThanServer(endpoint: RtmpEndpoint, urlVar: string, keyVar: string): void {
  const [path = '', query] = endpoint.app.split('?');
  const segments = path.split('/');
  if (segments.length === 1 && query === undefined) return;
  const extra = segments.slice(1).join('/') + (query ? `?${query}` : '');
  new Secret(extra);
  if (query) new Secret(query);
  for (const part of extra.split(/[/?&=]/)) if (part.length >= 4) new Secret(part);
  throw new UsageError(
    `${urlVar} holds more than the server (${endpoint.protocol}://${endpoint.host}/${segments[0]}): ` +
      `set it to the server URL alone and put the stream key (with anything after it) in ${keyVar}`,
  );
}

function checkKey(raw: string, from: string, ctx: ResolveContext): Secret {
  if (ctx.lenientKeys) return new Secret(raw);
  const value = raw.trim();
  // Register before any message could quote it.
  const secret = new Secret(value);
  const problem = keyProblem(value);
  if (problem) throw new UsageError(`${from}: ${keyProblemText(problem)}: ${keyAdvice(problem, 'it')}`);
  return secret;
}

function parseUrl(raw: string, where: string): { url: URL; segments: string[]; protocol: 'rtmp' | 'rtmps' } {
  const text = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    const use = 'rtmpush publishes over rtmp:// or rtmps:// (e.g. rtmps://a.rtmps.youtube.com/live2/KEY)';
    throw new UsageError(`${where}: ${scheme}:// is not an ingest URL: ${use}`);
  }
  if (scheme !== 'rtmp' && scheme !== 'rtmps') {
    throw new UsageError(
      `${where}: unsupported URL scheme` +
        `${scheme ? ` "${scheme}:"` : ''}: use rtmp://host/app/key or rtmps://host/app/key`,
    );
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
  // An IPv6 literal keeps its brackets in URL.hostname; a socket wants the address alone.
  return { protocol, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, app };
}

/** The path and query as typed (URL() percent-encodes them): a key is used exactly as the user gave it. */
function rawPathAndQuery(text: string): { segments: string[]; query: string } {
  const afterScheme = text.indexOf('://') + 3;
  const slash = text.indexOf('/', afterScheme);
  const rest = slash < 0 ? '' : text.slice(slash);
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  return { segments: path.split('/').filter((s) => s.length > 0), query: q < 0 ? '' : rest.slice(q) };
}

function appHint(host: string): string {
  const platform = platformForHost(host);
  const app = platform && expectedApp(platform);
  return app ? ` (${platform.name}'s app is "${app}": ${defaultIngest(platform)}/KEY)` : '';
}

/**
 * rtmp://host[:port]/app[/...]/key[?query] → endpoint + key. The key is taken as typed and follows the rule a key
 * from the environment does (no whitespace, not a URL), unless `lenient` (doctor checks it as a step).
 */
export function parseFullUrl(raw: string, where: string, lenient = false): Omit<Destination, 'label'> {
  const { url, segments: parsed, protocol } = parseUrl(raw, where);
  const { segments, query } = rawPathAndQuery(raw.trim());
  if (parsed.length < 2 || segments.length < 2) {
    const what = parsed.length === 0 ? 'no app path and no stream key' : 'no app path';
    throw new UsageError(
      `${where}: the URL has ${what}: expected ${protocol}://host[:port]/app/key${appHint(url.hostname)}`,
    );
  }
  const key = checkKey(segments[segments.length - 1]! + query, `${where}: the URL's stream key`, {
    lenientKeys: lenient,
    env: {},
    config: {},
  });
  const app = parsed.slice(0, -1).join('/');
  return { kind: 'url', endpoint: endpointOf(url, protocol, app), key };
}

/** rtmp://host[:port]/app (a platform's ingest, or a config url with the key given apart). */
export function parseBaseUrl(raw: string, where: string): RtmpEndpoint {
  const { url, segments, protocol } = parseUrl(raw, where);
  if (segments.length === 0) {
    throw new UsageError(
      `${where}: the URL has no app path: expected ${protocol}://host[:port]/app${appHint(url.hostname)}`,
    );
  }
  return endpointOf(url, protocol, segments.join('/') + url.search);
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
