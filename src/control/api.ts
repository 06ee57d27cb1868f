import type { DestinationStatus, SourceStatus } from '../run/events.js';

/** What `GET /v1/status` answers. */
export interface StatusBody {
  name: string;
  pid: number;
  startedAt: string;
  encoder: {
    fps: number | null;
    speed: number | null;
    bitrateKbps: number | null;
    droppedFrames: number;
    frame: number;
    outTimeMs: number;
    /** Encoders rtmpush found stuck and started again. */
    restarts: number;
    /** Times the slate went on (the source lost). */
    slates: number;
    /** Encoders swapped for another bitrate or x264 speed. */
    swaps: number;
    /** Stream made per second over the last 10 s (null before that): under 0.97 the machine cannot keep up. */
    realtime: number | null;
    slow: boolean;
  };
  /** What the destinations get: the source, the slate (and why), or nothing yet (waiting for an encoder). */
  source: SourceStatus;
  destinations: DestinationStatus[];
}

/** What a running stream lets the control API do. Errors: UsageError (400) and RequestRefused (404/409). */
export interface Controller {
  status(): StatusBody;
  /** `to`: what `--to` takes for one destination. */
  add(to: string): DestinationStatus;
  remove(label: string): Promise<void>;
  pause(label: string): Promise<DestinationStatus>;
  resume(label: string): DestinationStatus;
  /** Destinations waiting to retry try now (one, or all): the labels that did. */
  retry(label?: string): string[];
  /** A ceiling on the video bitrate (undefined: back to following the uplink); the rate now and before. */
  bitrate(kbps: number | undefined): { kbps: number; previousKbps: number; ceilingKbps: number | null };
  /** As SIGHUP: the config file read again, its destinations applied; what changed. */
  reload(): Promise<{ added: string[]; removed: string[]; replaced: string[] }>;
  /** As SIGTERM: a clean stop. */
  stop(): void;
  /** Every event the run reports, as `--json` prints it (a line of JSON without the newline). */
  onEvent(listener: (json: string) => void): () => void;
}

/** An answer: status and a JSON body. */
export interface Answer {
  status: number;
  body: unknown;
}

const error = (status: number, message: string): Answer => ({ status, body: { error: message } });

/** Bodies are tiny: `{"to": "..."}`. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The API's routes, apart from the socket: a method, a path and a body in, an answer out. `/v1/events` (a stream)
 * is served by the server itself.
 */
export async function route(c: Controller, method: string, url: string, body: string): Promise<Answer> {
  const pathname = url.split('?')[0]!;
  const parts = pathname.split('/').filter(Boolean);
  if (parts[0] !== 'v1') return error(404, `no such path: ${pathname} (the API is under /v1)`);
  const [, what, label, action] = parts.map((p) => safeDecode(p));
  const only = (m: string): Answer | undefined =>
    method === m ? undefined : error(405, `${pathname} takes ${m}, not ${method}`);

  if (what === 'status' && parts.length === 2) return only('GET') ?? { status: 200, body: c.status() };
  if (what === 'stop' && parts.length === 2) {
    const wrong = only('POST');
    if (wrong) return wrong;
    c.stop();
    return { status: 202, body: { stopping: true } };
  }
  if (what === 'reload' && parts.length === 2) return only('POST') ?? { status: 200, body: await c.reload() };
  if (what === 'retry' && parts.length === 2) return only('POST') ?? { status: 200, body: { retried: c.retry() } };
  if (what === 'bitrate' && parts.length === 2) {
    const wrong = only('POST');
    if (wrong) return wrong;
    const kbps = parseBitrate(body);
    return typeof kbps === 'object' && kbps !== null ? kbps : { status: 200, body: c.bitrate(kbps ?? undefined) };
  }
  if (what !== 'destinations') return error(404, `no such path: ${pathname}`);
  if (parts.length === 2) {
    const wrong = only('POST');
    if (wrong) return wrong;
    const to = parseTo(body);
    if (typeof to !== 'string') return to;
    return { status: 201, body: c.add(to) };
  }
  if (label === undefined || label === null) return error(400, `a destination label in the path is malformed`);
  if (parts.length === 3) {
    const wrong = only('DELETE');
    if (wrong) return wrong;
    await c.remove(label);
    return { status: 200, body: { removed: label } };
  }
  if (parts.length !== 4) return error(404, `no such path: ${pathname}`);
  const wrong = only('POST');
  if (wrong) return wrong;
  switch (action) {
    case 'pause':
      return { status: 200, body: await c.pause(label) };
    case 'resume':
      return { status: 200, body: c.resume(label) };
    case 'retry':
      return { status: 200, body: { retried: c.retry(label) } };
    default:
      return error(404, `no such action: ${String(action)} (pause, resume or retry)`);
  }
}

/** The bitrate's bounds through the API, kbps (rtmpush's own floor; at most the plan's, which the stream caps to). */
const BITRATE_RANGE = { min: 100, max: 1_000_000 };

/** `{"kbps": 2500}` (a ceiling) or `{"kbps": "auto"}` (none): the number, null for auto, or the 400 to answer. */
function parseBitrate(body: string): number | null | Answer {
  const read = field(body, 'kbps', '{"kbps": 2500} (a ceiling) or {"kbps": "auto"}');
  if (!read.ok) return read.answer;
  const kbps = read.value;
  if (kbps === 'auto') return null;
  if (typeof kbps !== 'number' || !Number.isInteger(kbps) || kbps < BITRATE_RANGE.min || kbps > BITRATE_RANGE.max)
    return error(400, 'send {"kbps": N} with N a whole number of kbps from 100 to 1000000, or {"kbps": "auto"}');
  return kbps;
}

function parseTo(body: string): string | Answer {
  const read = field(body, 'to', '{"to": "<what --to takes for one destination>"}');
  if (!read.ok) return read.answer;
  const to = read.value;
  if (typeof to !== 'string' || to.trim() === '')
    return error(400, 'send {"to": "<what --to takes for one destination>"}, e.g. {"to": "twitch"}');
  if (to.includes(',')) return error(400, 'one destination at a time: "to" holds no comma');
  return to.trim();
}

/** One field of a JSON body; when the body is not JSON, the 400 saying what to send. */
function field(body: string, name: string, send: string): { ok: true; value: unknown } | { ok: false; answer: Answer } {
  try {
    return { ok: true, value: (JSON.parse(body) as Record<string, unknown> | null)?.[name] };
  } catch {
    return { ok: false, answer: error(400, `the body is not JSON: send ${send}`) };
  }
}

function safeDecode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}
