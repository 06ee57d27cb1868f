import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { UsageError } from '../errors.js';
import { StreamStart } from '../relay/stream-start.js';
import { mediaKind } from '../rtmp/flv.js';
import type { RtmpMessage } from '../rtmp/message.js';
import { ServerSession } from '../rtmp/server.js';
import type { IngestAddress } from '../plan/plan.js';

/** The app an encoder publishes under: `rtmp://HOST:PORT/live`. */
export const INGEST_APP = 'live';
/** At once: one encoder publishing, a few trying or probing. Anything past it is cut off. */
const MAX_CONNECTIONS = 8;
/** A connection that has not published by then is closed (an encoder publishes within a round trip or two). */
export const PUBLISH_WITHIN_MS = 5000;
/** A publisher with no video keyframe after this long gives way to a new one. */
const HOLD_WITHOUT_VIDEO_MS = 3000;
/** Refusals are told at most this often. */
const REFUSALS_EVERY_MS = 10_000;
/** A publisher that sends no media for this long is treated as gone (a frozen encoder, a dead link). */
export const INGEST_SILENCE_MS = 3000;

/**
 * The encoder publishing now. `onMedia` gets its audio, video and metadata; `start` keeps its latest metadata and
 * codec headers from its first message on (they are sent once: whoever takes it later needs them); `ended` says
 * why it stopped.
 */
export class IngestPublisher {
  onMedia: (msg: RtmpMessage) => void = () => {};
  /** Its headers (an encoder joining it starts from its next keyframe: no group of pictures is kept). */
  readonly start = new StreamStart(0);
  readonly ended: Promise<string>;
  #end: (reason: string) => void = () => {};
  #closedFor: string | undefined;
  /** performance.now() of its latest message: a clock step (NTP, a resumed VM) is not silence. */
  lastMediaAt = performance.now();
  readonly publishedAt = performance.now();
  /** It has sent a video keyframe: it is streaming, not just holding the slot. */
  keyframed = false;

  constructor(
    readonly from: string,
    private readonly session: ServerSession,
  ) {
    this.ended = new Promise((resolve) => (this.#end = resolve));
  }

  /** @internal the server's side */
  media(msg: RtmpMessage): void {
    this.lastMediaAt = performance.now();
    this.start.keep(msg);
    if (!this.keyframed && mediaKind(msg) === 'keyframe') this.keyframed = true;
    this.onMedia(msg);
  }

  /** @internal */
  end(reason: string): void {
    this.#end(this.#closedFor ?? reason);
  }

  /** Cut off; `reason` (rtmpush's own, e.g. its encoder failed on this stream) is what `ended` says. */
  close(reason?: string): void {
    this.#closedFor ??= reason;
    this.session.close();
  }
}

/** The server session's reason, as the user reads it. */
function endReason(reason: string): string {
  if (reason === 'unpublished') return 'the encoder stopped publishing';
  if (reason === 'closed') return "the encoder's connection closed";
  return reason;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * `--source listen`: rtmpush's RTMP server for one encoder (OBS, an ATEM, Larix). It takes one publish at a time
 * under app `live` (with RTMPUSH_INGEST_KEY's key when set) and refuses a wrong key or a second publisher with
 * BadName and a warning, never disturbing the one that is live. Bounded like the embedded server.
 */
export class IngestServer {
  readonly #server = net.createServer((socket) => this.#onConnection(socket));
  readonly #sessions = new Set<ServerSession>();
  readonly #key: Buffer | undefined;
  #live: IngestPublisher | undefined;
  #silence: NodeJS.Timeout | undefined;
  #onPublish: ((publisher: IngestPublisher) => void) | undefined;
  /** Per kind of refusal (app, key, busy): when it was last told, and how many since. */
  readonly #refusals = new Map<string, { at: number; unsaid: number }>();
  /** Connections not publishing, oldest first: the first to go when the slots are full. */
  readonly #waiting = new Set<ServerSession>();
  /** Where refusals are told; until the stream's reporters exist, nowhere. */
  warn: (message: string) => void = () => {};

  constructor(private readonly address: IngestAddress) {
    this.#key = address.key ? digest(address.key.reveal()) : undefined;
  }

  /** Who takes each publish; one that came before (while rtmpush was still starting) is handed over at once. */
  onPublish(handler: (publisher: IngestPublisher) => void): void {
    this.#onPublish = handler;
    if (this.#live) handler(this.#live);
  }

  /** The address an encoder is given (the port the server got, for port 0). */
  get url(): string {
    const { host } = this.address;
    return `rtmp://${host.includes(':') ? `[${host}]` : host}:${this.port}/${INGEST_APP}`;
  }

  get port(): number {
    const at = this.#server.address();
    return typeof at === 'object' && at ? at.port : this.address.port;
  }

  async listen(): Promise<void> {
    const { host, port } = this.address;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', (error: NodeJS.ErrnoException) => {
        const why =
          error.code === 'EADDRINUSE'
            ? 'the port is in use (another RTMP server?)'
            : error.code === 'EADDRNOTAVAIL'
              ? 'no such address on this machine'
              : error.code === 'EACCES'
                ? 'not allowed to bind that port'
                : error.message;
        reject(new UsageError(`--listen ${host}:${port}: ${why}: pick another --listen`));
      });
      this.#server.listen(port, host, () => resolve());
    });
    this.#silence = setInterval(() => {
      const live = this.#live;
      if (live && performance.now() - live.lastMediaAt > INGEST_SILENCE_MS)
        live.close(`the encoder sent nothing for ${INGEST_SILENCE_MS / 1000} s`);
    }, 500);
  }

  async close(): Promise<void> {
    clearInterval(this.#silence);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    await closed;
  }

  #authorize(app: string, name: string, from: string): { ok: true } | { ok: false; reason: string } {
    if (app !== INGEST_APP) {
      this.#refused(
        'app',
        `an encoder at ${from} published to app ${quoted(app)}: refused (the server is ${this.url})`,
      );
      return { ok: false, reason: `unknown app: publish to ${this.url}` };
    }
    if (this.#key && !timingSafeEqual(digest(name), this.#key)) {
      this.#refused(
        'key',
        `an encoder at ${from} published with a wrong stream key: refused (the key is RTMPUSH_INGEST_KEY)`,
      );
      return { ok: false, reason: 'wrong stream key' };
    }
    const live = this.#live;
    if (live && !live.keyframed && performance.now() - live.publishedAt > HOLD_WITHOUT_VIDEO_MS) {
      // one that has sent no video in seconds is holding the slot, not streaming: the new one takes its place
      this.warn(
        `the encoder at ${live.from} sent no video in ${HOLD_WITHOUT_VIDEO_MS / 1000} s: ${from} takes its place`,
      );
      live.close('the encoder sent no video; another took its place');
    } else if (live) {
      this.#refused('busy', `an encoder at ${from} published while ${live.from} is live: refused`);
      return { ok: false, reason: 'another encoder is publishing' };
    }
    return { ok: true };
  }

  /** A refusal is told, but a flood of them (a key being guessed) is not: at most one line per 10 s, with a count. */
  #refused(kind: string, message: string): void {
    const now = performance.now();
    const last = this.#refusals.get(kind);
    if (last && now - last.at < REFUSALS_EVERY_MS) return void last.unsaid++;
    const more = last?.unsaid ? ` (and ${last.unsaid} more like it not shown)` : '';
    this.#refusals.set(kind, { at: now, unsaid: 0 });
    this.warn(`${message}${more}`);
  }

  #onConnection(socket: net.Socket): void {
    // the slots are full: the oldest connection that is not publishing goes (one holding slots locks nobody out)
    if (this.#sessions.size >= MAX_CONNECTIONS) {
      const oldest = this.#waiting.values().next().value;
      if (!oldest) return void socket.destroy();
      oldest.close();
      this.#waiting.delete(oldest);
      this.#sessions.delete(oldest);
    }
    const from = `${socket.remoteAddress}:${socket.remotePort}`;
    let publisher: IngestPublisher | undefined;
    const idle = setTimeout(() => !publisher && session.close(), PUBLISH_WITHIN_MS);
    socket.once('close', () => clearTimeout(idle));
    socket.setNoDelay(true);
    const session: ServerSession = new ServerSession(
      socket,
      { authorize: (app, name) => this.#authorize(app, name, from) },
      {
        onPublish: () => {
          this.#waiting.delete(session);
          publisher = new IngestPublisher(from, session);
          this.#live = publisher;
          this.#onPublish?.(publisher);
        },
        onMedia: (msg) => publisher?.media(msg),
        onEnd: (reason) => {
          this.#sessions.delete(session);
          this.#waiting.delete(session);
          if (!publisher) return;
          if (this.#live === publisher) this.#live = undefined;
          publisher.end(endReason(reason));
        },
      },
    );
    this.#sessions.add(session);
    this.#waiting.add(session);
  }
}

/** A name a publisher chose, safe to print: quoted, control characters escaped, at most 40 characters. */
function quoted(text: string): string {
  const short = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(short);
}
