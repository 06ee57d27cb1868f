import { type Cause, describeCause, isFinal, isRefusal } from '../advice/cause.js';
import { DialError, dial } from '../net/dial.js';
import { ACK_WINDOW, CHUNK_SIZE } from '../rtmp/message.js';
import { PublisherSession } from '../rtmp/publisher.js';
import { afterLoss, type RetryCounters } from '../state/backoff.js';
import { BatchWriter } from './batch-writer.js';
import type { MediaSink } from './feed.js';
import { MediaForwarder } from './forwarder.js';
import { ReachProbe, probeable } from './reach-probe.js';
import type { StreamStart } from './stream-start.js';
import type { RelayOptions } from './types.js';

export type { RelayEvent, RelayHints, RelayOptions, RelayTarget } from './types.js';

/** From dialing to Publish.Start: a server that accepts and then says nothing is retried after this long. */
const SESSION_DEADLINE_MS = 10_000;
/** No acknowledgement progress for this long while sending: the server is hung; reconnect. */
const STALL_MS = 10_000;
/** Servers that never acknowledge: live once the publish has stayed open this long while media flows. */
const OPEN_CONFIRM_MS = 2000;

/** Acknowledgements further apart than this many windows: the server keeps a window of its own. */
const COARSE_ACKS = 4;

/** What a destination's queue absorbs of a sagging link before any drop: this much of the stream. */
export const ABSORB_MS = 4000;

/**
 * The forwarder's allowance in bytes: ABSORB_MS of the planned stream, at least 256 KiB, at most 16 MiB. It stays so
 * after the bitrate steps down: acknowledgements come in lumps on a slow link, and a queue draining at a tenth of the
 * link's rate swings by tens of kilobytes around its level; a smaller allowance there dropped frames for nothing.
 */
export function allowanceFor(streamKbps: number): number {
  return Math.min(16 * 1024 * 1024, Math.max(256 * 1024, (streamKbps * ABSORB_MS) / 8));
}

/** One upstream session: made anew on every dial. */
interface Connection {
  session: PublisherSession;
  live: boolean;
  /** Where the session's first burst (the frames since the latest keyframe) ends in `sent`. */
  burstEnd: number;
  openTimer?: NodeJS.Timeout;
  /** The count the latest acknowledgement carried, and how far it was from the one before (the server's step). */
  lastAcked: number;
  ackStep: number;
}

/**
 * The relay in front of one destination: its lifecycle and retry policy. The encoder's leg (a pipe) feeds a media
 * forwarder (what to send, when); a batch writer sends it through a publisher session, dialled anew after each
 * loss with backoff, or more slowly after a refusal. Events say what the server answered, in plain words.
 */
export class DestinationRelay implements MediaSink {
  readonly #opts: RelayOptions;
  readonly #forwarder: MediaForwarder;
  readonly #writer: BatchWriter;
  #conn: Connection | undefined;
  /** The latest session, kept after it ends for its counters. */
  #latest: PublisherSession | undefined;
  #deliveredBefore = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  /** While waiting because the server could not be reached: retried as soon as it accepts connections again. */
  readonly #probe: ReachProbe;
  readonly #counters: RetryCounters = { attempt: 0, rejections: 0 };
  /**
   * Its own lifecycle: dialling and streaming (`running`), held unpublished until released (`held`: an operator's
   * pause, which only the board's state machine calls so), stopping for good, or done (it gave up).
   */
  #phase: 'running' | 'held' | 'stopping' | 'done' = 'running';
  #start: StreamStart | undefined;

  constructor(opts: RelayOptions) {
    this.#opts = opts;
    this.#forwarder = new MediaForwarder(allowanceFor(opts.bitrateKbps));
    this.#writer = new BatchWriter(CHUNK_SIZE, () => this.#conn?.session.streamId ?? 0);
    this.#probe = new ReachProbe(opts.target.host, opts.target.port);
  }

  /** Bytes written upstream in the latest session (the current one, if any), and how many the server acknowledged. */
  get sentBytes(): number {
    return this.#latest?.sent ?? 0;
  }
  get ackedBytes(): number {
    return this.#latest?.acked ?? 0;
  }
  get everAcked(): boolean {
    return this.#latest?.everAcked ?? false;
  }
  /** Where the current session's first burst (the frames since the latest keyframe) ends, in bytes sent. */
  get burstEnd(): number {
    return this.#conn?.burstEnd ?? 0;
  }
  /** When the latest acknowledgement arrived: the acked count is exact at that instant. */
  get lastAckAt(): number {
    return this.#latest?.lastAckAt ?? 0;
  }
  /** Bytes the server acknowledged (or, where it never acknowledges, took) over every session so far. */
  get deliveredTotal(): number {
    return this.#deliveredBefore + (this.#latest?.delivered ?? 0);
  }
  /**
   * What waits in the current session for its server beyond one acknowledgement window (its first burst not
   * counted); where the server never acknowledges, what Node has not handed to the kernel yet. 0 without a session;
   * undefined where the server acknowledges on a window of its own (one of 2.5 MB reads as a queue of seconds).
   */
  get queuedBytes(): number | undefined {
    const conn = this.#conn;
    const session = conn?.session;
    if (!conn || session?.phase !== 'streaming') return 0;
    if (!session.everAcked) return session.writableLength;
    // a server that acknowledges on a window of its own, far coarser than asked: what waits cannot be read
    if (conn.ackStep > COARSE_ACKS * ACK_WINDOW) return undefined;
    const burst = Math.max(0, conn.burstEnd - session.acked);
    return Math.max(0, session.sent - session.acked - ACK_WINDOW - burst);
  }
  get droppedFrames(): number {
    return this.#forwarder.droppedFrames;
  }
  get congested(): boolean {
    return this.#forwarder.congested;
  }

  /** Dials the destination; media comes through the feed once an encoder runs. */
  start(): void {
    void this.#dial();
  }

  /** It joined its encode's feed: every session starts from the stream's start the feed keeps. */
  joined(start: StreamStart): void {
    this.#start = start;
  }

  /** An operator says the server is back: retry now instead of waiting out the delay. True if it was waiting. */
  retryNow(): boolean {
    if (this.#retryTimer === undefined || this.#phase !== 'running') return false;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#dial();
    return true;
  }

  /** Clean stop: what the encoder wrote last has gone out (the feed drained first); FCUnpublish + deleteStream. */
  async stop(): Promise<void> {
    this.#phase = 'stopping';
    await this.#unpublish();
  }

  /** Held (an operator's pause): a clean unpublish, and no dial until released. The stream goes on meanwhile. */
  async hold(): Promise<void> {
    if (this.#phase === 'running') this.#phase = 'held';
    await this.#unpublish();
  }

  /** Released: dial again, with the retry counters of a fresh start. */
  release(): void {
    if (this.#phase !== 'held') return;
    this.#phase = 'running';
    this.#counters.attempt = this.#counters.rejections = 0;
    void this.#dial();
  }

  async #unpublish(): Promise<void> {
    this.#probe.stop();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const conn = this.#conn;
    if (!conn) return;
    clearTimeout(conn.openTimer);
    this.#writer.flush();
    await conn.session.unpublish();
  }

  async #dial(): Promise<void> {
    if (this.#phase !== 'running') return;
    this.#retryTimer = undefined;
    this.#probe.stop();
    this.#forwarder.sessionReset();
    this.#writer.reset(undefined);
    const { target, tls } = this.#opts;
    const started = Date.now();
    let socket: Awaited<ReturnType<typeof dial>>;
    try {
      socket = await dial(target, tls, SESSION_DEADLINE_MS);
    } catch (error) {
      if (!(error instanceof DialError)) throw error;
      return this.#ended(error.failure, false);
    }
    if (this.#phase !== 'running') return void socket.destroy();
    const conn: Connection = { live: false, burstEnd: 0, lastAcked: 0, ackStep: 0 } as Connection;
    conn.session = new PublisherSession(
      socket,
      {
        endpoint: target,
        name: target.key.reveal(),
        deadlineMs: SESSION_DEADLINE_MS - (Date.now() - started),
        stallMs: STALL_MS,
      },
      {
        onPublished: () => this.#onPublished(conn),
        onAck: (acked) => {
          if (acked > conn.lastAcked) conn.ackStep = acked - conn.lastAcked;
          conn.lastAcked = acked;
          // Acknowledged media after Publish.Start is the proof: nginx's `deny publish` sends Publish.Start, then
          // closes.
          if (!conn.live && conn.session.phase === 'streaming' && acked > conn.session.publishedAt)
            this.#goLive(conn, 'ack');
        },
        onEnd: (end) => {
          clearTimeout(conn.openTimer);
          if (this.#conn === conn) this.#conn = undefined;
          if (end.kind !== 'stopped') this.#ended(end, conn.live);
        },
      },
    );
    this.#conn = conn;
    this.#deliveredBefore += this.#latest?.delivered ?? 0;
    this.#latest = conn.session;
    this.#writer.reset(conn.session);
  }

  /** Publish.Start: the session starts from the encoder's latest keyframe, in one burst, counted at once. */
  #onPublished(conn: Connection): void {
    for (const { msg, timestamp } of this.#forwarder.sessionStarted(this.#start)) this.#writer.add(msg, timestamp);
    this.#writer.flush();
    conn.burstEnd = conn.session.sent;
  }

  /** A message from the encoder (through the feed). */
  media(msg: Parameters<MediaForwarder['media']>[0]): void {
    const conn = this.#conn;
    const session = conn?.session;
    const streaming = session?.phase === 'streaming';
    // Checked as media comes: a hung server matters only while there is media, and frames may all be dropped.
    if (streaming && session.checkStall()) return;
    const wasCongested = this.#forwarder.congested;
    const send = this.#forwarder.media(
      msg,
      streaming
        ? {
            queued: session.everAcked ? session.sent - session.acked : session.writableLength,
            burstPending: session.acked < conn!.burstEnd ? conn!.burstEnd - session.publishedAt : 0,
          }
        : undefined,
    );
    if (this.#forwarder.congested !== wasCongested)
      this.#opts.onEvent({ type: 'congested', congested: this.#forwarder.congested });
    if (!send || !conn) return;
    this.#writer.add(send.msg, send.timestamp);
    if (!conn.live && !conn.openTimer) {
      conn.openTimer = setTimeout(
        () => !conn.live && !conn.session.everAcked && this.#conn === conn && this.#goLive(conn, 'open'),
        OPEN_CONFIRM_MS,
      );
    }
  }

  #goLive(conn: Connection, by: 'ack' | 'open'): void {
    conn.live = true;
    clearTimeout(conn.openTimer);
    this.#counters.attempt = this.#counters.rejections = 0;
    this.#opts.onEvent({ type: 'live', confirmedBy: by });
  }

  /** The session ended (or could not start): say why, then retry as the policy says, or give up. */
  #ended(cause: Cause, wasLive: boolean): void {
    if (this.#phase !== 'running') return;
    const { target, hints, retry } = this.#opts;
    const reason = describeCause(cause, { host: target.host, port: target.port, app: target.app, ...hints, wasLive });
    const loss = isFinal(cause) ? 'final' : isRefusal(cause, wasLive) ? 'refused' : 'network';
    const next = afterLoss(retry, this.#counters, loss, Math.random());
    if (next.kind === 'give-up') {
      return this.#final(
        next.as,
        next.as === 'failed' ? `${reason} (gave up after ${retry.maxRetries} retries)` : reason,
      );
    }
    const { attempt, delayMs } = next;
    const nextRetryAt = Date.now() + delayMs;
    this.#opts.onEvent(
      next.refused
        ? { type: 'rejected', reason, final: false, attempt, delayMs, nextRetryAt }
        : { type: 'retry', attempt, delayMs, nextRetryAt, reason },
    );
    this.#retryTimer = setTimeout(() => void this.#dial(), delayMs);
    if (!next.refused && probeable(cause)) this.#probe.watch(() => this.retryNow());
  }

  #final(type: 'rejected' | 'failed', reason: string): void {
    this.#phase = 'done';
    this.#opts.onEvent(type === 'rejected' ? { type, reason, final: true } : { type, reason });
  }
}
