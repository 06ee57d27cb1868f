import { UsageError } from '../errors.js';
import type { RtmpEndpoint } from '../rtmp/endpoint.js';
import { Secret } from '../secret.js';
import type { Destination } from './destinations.js';
import { keyAdvice, keyProblem, keyProblemText } from './key-rules.js';
import { defaultIngest, expectedApp, platformForHost } from './table.js';

/** rtmp:// and rtmps:// URLs as users give them: parsed, their keys taken as typed and hidden at once. */

const DEFAULT_PORT = { rtmp: 1935, rtmps: 443 } as const;

/**
 * A key pasted into RTMPUSH_<ID>_URL (…/live2/KEY) would be taken for part of the app path and printed with it:
 * what follows the platform's app is hidden at once and refused with the fix.
 */
export function refuseKeyInIngestUrl(
  endpoint: RtmpEndpoint,
  app: string | undefined,
  urlVar: string,
  keyVar: string,
): void {
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
export function refuseMoreThanServer(endpoint: RtmpEndpoint, urlVar: string, keyVar: string): void {
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

/** A key as given, registered before any message could quote it; refused (with the fix) unless `lenient`. */
export function checkKey(raw: string, from: string, lenient = false): Secret {
  if (lenient) return new Secret(raw);
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
  const key = checkKey(segments[segments.length - 1]! + query, `${where}: the URL's stream key`, lenient);
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
