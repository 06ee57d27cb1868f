import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { asFlvTag, FLV_FILE_HEADER } from '../rtmp/flv.js';
import { MSG } from '../rtmp/message.js';
import { ServerSession } from '../rtmp/server.js';

/** At once: the relays of one run, and a redial or two. */
const MAX_CONNECTIONS = 16;
/** A connection that has not published by then is closed. */
const PUBLISH_WITHIN_MS = 10_000;
/**
 * What is recorded of each publish: its first 5 minutes (enough for every check; a day of `--to local` would fill
 * the temporary folder, often memory, and ffprobe's reading of it would not fit), and the newest 3 publishes.
 */
export const RECORD_LIMITS = { seconds: 300, files: 3 };

/**
 * The embedded RTMP server behind `--to local` and `--rehearse`: rtmpush's own server session on a free loopback
 * port. It takes a publish only under the names it was given (random keys), acknowledges what arrives (so the
 * destination is proven live at once), and records each publish as FLV in a temporary folder, so rtmpush can
 * report what actually arrived.
 */
export class LocalServer {
  readonly dir: string;
  port = 0;
  readonly #server = net.createServer((socket) => this.#onConnection(socket));
  readonly #sessions = new Set<ServerSession>();
  readonly #files = new Set<WriteStream>();
  readonly #publishing = new Set<string>();
  /** Recordings that reached the time limit and were ended there. */
  readonly #full = new Set<string>();
  /** Files made so far, by stream folder (their numbers). */
  readonly #made = new Map<string, number>();

  /** `names`: the stream names a publish is taken under (app `live`). */
  constructor(
    private readonly names: ReadonlySet<string>,
    private readonly limits = RECORD_LIMITS,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-local-'));
  }

  /** Whether a recording holds only the first `limits.seconds` of its publish (the seconds), else undefined. */
  recordedFirst(file: string): number | undefined {
    return this.#full.has(file) ? this.limits.seconds : undefined;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', resolve);
    });
    this.port = (this.#server.address() as net.AddressInfo).port;
  }

  /** The recorded FLV files of a stream path such as /live/NAME, oldest first. */
  recordings(streamPath: string): string[] {
    const dir = path.join(this.dir, ...streamPath.split('/').filter(Boolean));
    try {
      return readdirSync(dir)
        .filter((f) => f.endsWith('.flv'))
        .map((f) => path.join(dir, f))
        .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs || a.localeCompare(b));
    } catch {
      return [];
    }
  }

  /** Stops taking connections, ends the sessions and waits until every recording is on disk. */
  async stop(): Promise<void> {
    // Sessions first: close() waits for every connection to end, and another local user's idle one never would.
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    await closed;
    const open = [...this.#files].filter((f) => !f.closed);
    await Promise.all(open.map((f) => new Promise<void>((resolve) => f.once('close', () => resolve()))));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  #onConnection(socket: net.Socket): void {
    // Only rtmpush's own relays publish here: a few connections, each publishing at once. Anything else is cut off.
    if (this.#sessions.size >= MAX_CONNECTIONS) return void socket.destroy();
    const idle = setTimeout(() => !stream && session.close(), PUBLISH_WITHIN_MS);
    socket.once('close', () => clearTimeout(idle));
    let file: WriteStream | undefined;
    let firstTimestamp: number | undefined;
    let stream = '';
    const session = new ServerSession(
      socket,
      {
        authorize: (app, name) => {
          if (app !== 'live' || !this.names.has(name))
            return { ok: false, reason: 'no such stream on the embedded server' };
          if (this.#publishing.has(name)) return { ok: false, reason: 'Already publishing' };
          return { ok: true };
        },
      },
      {
        onPublish: (app, name) => {
          stream = name;
          this.#publishing.add(name);
          file = this.#open(app, name);
        },
        onMedia: (msg) => {
          if (!file) return;
          // the time recorded runs from the first frame (metadata may carry another clock); RTMP timestamps are
          // 32-bit milliseconds, so the difference is taken in 32 bits too (a step back is not past the limit)
          if (msg.typeId === MSG.Video || msg.typeId === MSG.Audio) firstTimestamp ??= msg.timestamp;
          if (firstTimestamp === undefined || ((msg.timestamp - firstTimestamp) | 0) <= this.limits.seconds * 1000)
            return void file.write(asFlvTag(msg));
          this.#full.add(file.path as string);
          file.end();
          file = undefined;
        },
        onEnd: () => {
          this.#sessions.delete(session);
          if (stream) this.#publishing.delete(stream);
          file?.end();
        },
      },
    );
    this.#sessions.add(session);
  }

  #open(app: string, name: string): WriteStream {
    const dir = path.join(this.dir, app, name);
    mkdirSync(dir, { recursive: true });
    const made = (this.#made.get(dir) ?? 0) + 1;
    this.#made.set(dir, made);
    // the newest publishes only: the oldest recordings make room for this one
    for (const old of this.recordings(`/${app}/${name}`).slice(0, -(this.limits.files - 1) || undefined)) {
      rmSync(old, { force: true });
      this.#full.delete(old);
    }
    const file = createWriteStream(path.join(dir, `${String(made).padStart(3, '0')}.flv`));
    file.write(FLV_FILE_HEADER);
    this.#files.add(file);
    file.once('close', () => this.#files.delete(file));
    return file;
  }
}
