import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { AckCounter } from '../rtmp/ack.js';
import type { Amf0Object } from '../rtmp/amf0.js';
import {
  ChunkReader,
  MSG,
  RtmpProtocolError,
  chunkInto,
  chunkedLength,
  payloadHead,
  payloadLength,
  writeChunks,
  type RtmpMessage,
} from '../rtmp/chunk.js';
import type { Secret } from '../secret.js';
import { endpointUrl } from '../platforms/destinations.js';
import { wrongAppHint } from '../platforms/table.js';
import { retryDelay, type RetryPolicy } from '../state/backoff.js';
import type { TlsPolicy } from '../net/tls-policy.js';
import { EncoderLeg } from './leg.js';
import { peerText } from '../util/text.js';
import {
  command,
  parseCommand,
  isAacSequenceHeader,
  isAvcSequenceHeader,
  isVideoKeyframe,
  setChunkSize,
  windowAckSize,
} from './messages.js';

export interface RelayTarget {
  protocol: 'rtmp' | 'rtmps';
  host: string;
  port: number;
  app: string;
  key: Secret;
}

export interface RelayHints {
  /** The app path the platform expects, for the unknown-app hint. */
  expectedApp?: string;
  /** The platform's RTMPS ingest, suggested when port 1935 cannot be reached. */
  rtmpsUrl?: string;
}

export type RelayEvent =
  | { type: 'live'; confirmedBy: 'ack' | 'open' }
  | { type: 'retry'; attempt: number; delayMs: number; nextRetryAt: number; reason: string }
  /** The server refused. `final` once it refused rejectLimit times in a row; until then a longer retry is scheduled. */
  | { type: 'rejected'; reason: string; final: boolean; attempt?: number; delayMs?: number; nextRetryAt?: number }
  | { type: 'failed'; reason: string }
  | { type: 'congested'; congested: boolean }
  /** The encoder's leg could not be read (not FLV): a fault in rtmpush or ffmpeg, not the destination's. */
  | { type: 'leg-fault'; reason: string };

export interface RelayOptions {
  target: RelayTarget;
  retry: RetryPolicy;
  tls: TlsPolicy;
  hints?: RelayHints;
  onEvent: (event: RelayEvent) => void;
  random?: () => number;
  connectTimeoutMs?: number;
  /** The stream's total bitrate: sets how much unacknowledged data counts as congestion. */
  bitrateKbps: number;
  /** No acknowledgement progress for this long while sending: the server is hung; reconnect. */
  stallMs?: number;
}

const HANDSHAKE = 1536;
const CHUNK = 4096;
/** From dialing to Publish.Start: a server that accepts and then says nothing is retried after this long. */
const SESSION_DEADLINE_MS = 10_000;
/** What a publisher's server sends back (acks, pings, replies) is small; more than this a second is a flood. */
const SERVER_BYTES_PER_S = 1024 * 1024;
/** The largest message rtmpush accepts from a destination: replies are a few hundred bytes. */
const SERVER_MAX_MESSAGE = 64 * 1024;
/** Window the relay asks the server to acknowledge: nginx-rtmp sends no Acknowledgement otherwise. */
export const ACK_WINDOW = 65_536;
/** The relay's batch buffer: a read batch of ffmpeg's leg (~96 KiB) fits, so one buffer serves a whole session. */
const OUT_BUFFER = 256 * 1024;
/** Servers that never acknowledge: live once the publish has stayed open this long while media flows. */
const OPEN_CONFIRM_MS = 2000;

type Phase = 'idle' | 'dialing' | 'handshake' | 'connect' | 'publish' | 'streaming' | 'waiting' | 'done';

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/**
 * The relay in front of one destination. ffmpeg's tee writes this destination's leg as FLV to a pipe rtmpush
 * handed it; the relay dials the real server, publishes with the real key, reads the server's replies and
 * acknowledgements, and owns reconnection: ffmpeg's leg is read whatever the destination does.
 */
export class DestinationRelay {
  readonly #opts: RelayOptions;
  #leg: EncoderLeg | undefined;
  /** The batch being gathered for the destination, and how much of the buffer it fills. */
  #out = Buffer.allocUnsafe(OUT_BUFFER);
  #outStart = 0;
  #outLength = 0;
  /** Writes from #out the socket has not completed yet. */
  #inFlight = 0;
  #flushQueued = false;

  // cached from ffmpeg, replayed on every new upstream session
  #metadata: RtmpMessage | undefined;
  #avcHeader: RtmpMessage | undefined;
  #aacHeader: RtmpMessage | undefined;
  /** The encoder's media since its latest keyframe: a new session starts with it instead of waiting for the next one. */
  #gop: RtmpMessage[] = [];
  #gopBytes = 0;
  /** Where a resumed session's first burst ends in sentBytes (0: none). */
  #burstEnd = 0;

  #phase: Phase = 'idle';
  #socket: net.Socket | undefined;
  #reader = newServerReader();
  #acks = new AckCounter();
  #deadline: NodeJS.Timeout | undefined;
  /** Bytes the server sent in the current one-second window, and when it began: a flood is cut off. */
  #heard = 0;
  #heardSince = 0;
  #hsBuf = Buffer.alloc(0);
  #streamId = 0;
  #serverReason: string | undefined;
  #serverRejected = false;
  #waitingKeyframe = true;
  #base = 0;
  #live = false;
  #congested = false;
  #openTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #lastTs = 0;
  #resumeFrom: number | undefined;
  #lastAckAt = 0;
  #rejections = 0;
  #stopping = false;

  /** Bytes written upstream since the handshake, and how many of them the server has acknowledged. */
  sentBytes = 0;
  ackedBytes = 0;
  #publishBytes = 0;
  everAcked = false;
  droppedFrames = 0;
  /** How many batch buffers the relay has allocated (one, unless writes were still pending when it needed room). */
  batchBuffers = 1;

  constructor(opts: RelayOptions) {
    this.#opts = opts;
  }

  /** Dials the destination; the encoder's leg is attached when the encoder starts. */
  start(): void {
    this.#dial();
  }

  get congested(): boolean {
    return this.#congested;
  }

  /** An operator says the server is back: retry now instead of waiting out the delay. */
  retryNow(): void {
    if (this.#phase !== 'waiting' || this.#stopping) return;
    clearTimeout(this.#retryTimer);
    this.#dial();
  }

  /** Clean stop: FCUnpublish + deleteStream so no ghost session blocks the next publish. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#openTimer);
    clearTimeout(this.#deadline);
    // Forward what the encoder wrote last before saying goodbye upstream.
    await this.#leg?.drain();
    const socket = this.#socket;
    if (!socket || socket.destroyed) return;
    if (this.#phase === 'streaming' || this.#phase === 'publish') {
      this.#send(command(0, 'FCUnpublish', 6, null, this.#opts.target.key.reveal()));
      this.#send(command(0, 'deleteStream', 7, null, this.#streamId));
    }
    this.#flush();
    this.#phase = 'done';
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.end();
    const timer = setTimeout(() => socket.destroy(), 2000);
    await closed;
    clearTimeout(timer);
  }

  // ffmpeg side ------------------------------------------------------------

  /** The encoder's leg for this destination: an FLV stream (a pipe from ffmpeg). A new one replaces the last. */
  attach(stream: Readable): void {
    if (this.#leg) {
      // A new encoder (restarted by the watchdog) starts its clock at 0 again: resume on its next keyframe,
      // just after the last timestamp this destination was sent.
      this.#resumeFrom = this.#lastTs + 40;
      this.#waitingKeyframe = true;
    }
    this.#clearGop();
    this.#leg?.close();
    this.#leg = new EncoderLeg(
      stream,
      (msg) => this.#onMedia(msg),
      (reason) => this.#opts.onEvent({ type: 'leg-fault', reason }),
    );
  }

  #onMedia(msg: RtmpMessage): void {
    const seqHeader =
      (msg.typeId === MSG.Video && isAvcSequenceHeader(payloadHead(msg))) ||
      (msg.typeId === MSG.Audio && isAacSequenceHeader(payloadHead(msg)));
    if (msg.typeId === MSG.DataAmf0) this.#metadata = msg;
    else if (msg.typeId === MSG.Video && seqHeader) this.#avcHeader = msg;
    else if (msg.typeId === MSG.Audio && seqHeader) this.#aacHeader = msg;
    else this.#keepGop(msg);
    if (this.#phase !== 'streaming' || !this.#socket) return;

    if (msg.typeId === MSG.DataAmf0 || seqHeader) {
      return this.#sendMedia(msg, this.#waitingKeyframe || msg.timestamp < this.#base ? 0 : msg.timestamp - this.#base);
    }
    // Checked as media comes, rather than on a timer of its own: a hung server matters only while there is media.
    if (this.#checkStall()) return;
    // What the destination has not taken yet: unacknowledged bytes where the server acks, else our own queue.
    const queued = this.everAcked ? this.sentBytes - this.ackedBytes : this.#socket.writableLength;
    const limit = this.#congestionLimit();
    if (queued > limit) {
      // The destination cannot keep up: drop to the next keyframe rather than let the queue grow.
      if (msg.typeId === MSG.Video) this.droppedFrames++;
      this.#waitingKeyframe = true;
      this.#setCongested(true);
      return;
    }
    if (this.#waitingKeyframe) {
      if (msg.typeId !== MSG.Video || !isVideoKeyframe(payloadHead(msg))) {
        if (msg.typeId === MSG.Video) this.droppedFrames++;
        return;
      }
      if (this.#resumeFrom !== undefined) {
        this.#base = msg.timestamp - this.#resumeFrom;
        this.#resumeFrom = undefined;
      } else if (this.sentBytes === this.#publishBytes) {
        this.#base = msg.timestamp;
      }
      this.#waitingKeyframe = false;
      if (queued < limit / 2) this.#setCongested(false);
    }
    if (msg.timestamp - this.#base < 0) return;
    this.#sendMedia(msg, msg.timestamp - this.#base);
  }

  #keepGop(msg: RtmpMessage): void {
    if (msg.typeId === MSG.Video && isVideoKeyframe(payloadHead(msg))) this.#clearGop();
    else if (this.#gop.length === 0) return;
    this.#gop.push(msg);
    this.#gopBytes += payloadLength(msg);
    // A long keyframe interval: a burst that big would look like congestion; wait for the next keyframe instead.
    if (this.#gopBytes > this.#streamAllowance()) this.#clearGop();
  }

  #clearGop(): void {
    this.#gop = [];
    this.#gopBytes = 0;
  }

  /**
   * A fresh session starts at once from the encoder's latest keyframe rather than waiting up to a keyframe
   * interval for the next one: the server gets the frames since that keyframe in a burst, then the live ones.
   */
  #sendGop(): void {
    const first = this.#gop[0];
    if (!first || !this.#waitingKeyframe || this.#resumeFrom !== undefined) return;
    this.#base = first.timestamp;
    this.#waitingKeyframe = false;
    for (const m of this.#gop) if (m.timestamp >= this.#base) this.#sendMedia(m, m.timestamp - this.#base);
    // Until the server has acknowledged the burst, it does not count against the congestion limit.
    this.#burstEnd = this.sentBytes;
  }

  /**
   * Two seconds of stream, on top of the acknowledgement window (and of a resumed session's first burst until the
   * server has acknowledged it): far above what a healthy link has in flight.
   */
  #congestionLimit(): number {
    return (
      ACK_WINDOW +
      this.#streamAllowance() +
      (this.ackedBytes < this.#burstEnd ? this.#burstEnd - this.#publishBytes : 0)
    );
  }

  #streamAllowance(): number {
    return Math.max(256 * 1024, (this.#opts.bitrateKbps * 1000 * 2) / 8);
  }

  #setCongested(value: boolean): void {
    if (value === this.#congested) return;
    this.#congested = value;
    this.#opts.onEvent({ type: 'congested', congested: value });
  }

  #sendMedia(msg: RtmpMessage, timestamp: number): void {
    if (timestamp > this.#lastTs) this.#lastTs = timestamp;
    const socket = this.#socket;
    if (socket && !socket.destroyed) {
      // The messages of a downstream read are chunked into one buffer and go out in one write after the read.
      // A new batch starts at the buffer's beginning once every earlier write from it has completed.
      if (this.#outLength === this.#outStart && this.#inFlight === 0) this.#outStart = this.#outLength = 0;
      const need = chunkedLength(msg, CHUNK, timestamp);
      if (this.#outLength + need > this.#out.length) {
        this.#flush();
        this.#freshBuffer(need);
      }
      this.#outLength = chunkInto(msg, CHUNK, { streamId: this.#streamId, timestamp }, this.#out, this.#outLength);
      this.sentBytes += need;
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        setImmediate(() => {
          this.#flushQueued = false;
          this.#flush();
        });
      }
    }
    if (!this.#live && !this.#openTimer && this.#phase === 'streaming') {
      this.#openTimer = setTimeout(() => this.#confirmOpen(), OPEN_CONFIRM_MS);
    }
  }

  /** Writes the batch gathered in the out buffer; the buffer is not reused until that write has completed. */
  #flush(): void {
    if (this.#outLength === this.#outStart) return;
    const data = this.#out.subarray(this.#outStart, this.#outLength);
    this.#outStart = this.#outLength;
    const socket = this.#socket;
    if (!socket || socket.destroyed) return;
    const buffer = this.#out;
    this.#inFlight++;
    socket.write(data, () => {
      if (this.#out === buffer) this.#inFlight--;
    });
  }

  #freshBuffer(atLeast = 0): void {
    this.batchBuffers++;
    this.#out = Buffer.allocUnsafe(Math.max(OUT_BUFFER, atLeast));
    this.#outStart = this.#outLength = 0;
    this.#inFlight = 0;
  }

  // destination side ---------------------------------------------------------

  #send(msg: RtmpMessage): void {
    const socket = this.#socket;
    if (!socket || socket.destroyed) return;
    this.#flush(); // media gathered before this message goes first
    const bytes = writeChunks(msg, this.#phase === 'handshake' ? 128 : CHUNK);
    this.sentBytes += bytes.length;
    socket.write(bytes);
  }

  #dial(): void {
    if (this.#stopping) return;
    const { target } = this.#opts;
    this.#phase = 'dialing';
    this.#reader = newServerReader();
    this.#acks = new AckCounter();
    this.#heard = 0;
    this.#heardSince = Date.now();
    this.#hsBuf = Buffer.alloc(0);
    this.#serverReason = undefined;
    this.#serverRejected = false;
    this.#live = false;
    this.#waitingKeyframe = true;
    this.#resumeFrom = undefined;
    this.#lastTs = 0;
    this.sentBytes = 0;
    this.ackedBytes = 0;
    this.#publishBytes = 0;
    this.#burstEnd = 0;
    // what was gathered for the last session is dropped; writes it still holds keep that buffer
    if (this.#inFlight > 0) this.#freshBuffer();
    else this.#outStart = this.#outLength = 0;
    const onConnect = (): void => {
      this.#phase = 'handshake';
      const c1 = Buffer.concat([Buffer.alloc(8), randomBytes(HANDSHAKE - 8)]);
      socket.write(Buffer.concat([Buffer.from([3]), c1]));
    };
    let socket: net.Socket;
    if (target.protocol === 'rtmps') {
      socket = tls.connect({
        host: target.host,
        port: target.port,
        servername: net.isIP(target.host) ? undefined : target.host,
        rejectUnauthorized: !this.#opts.tls.insecure,
        ca: this.#opts.tls.ca,
      });
      socket.once('secureConnect', onConnect);
    } else {
      socket = net.connect({ host: target.host, port: target.port });
      socket.once('connect', onConnect);
    }
    this.#socket = socket;
    socket.setNoDelay(true);
    // One deadline from dialing to Publish.Start: a server that accepts and then says nothing is retried.
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => {
      if (this.#socket !== socket) return;
      this.#networkReason ??= this.#silentReason();
      socket.destroy();
    }, SESSION_DEADLINE_MS);
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#networkReason ??= this.#describeError(error);
      if (TLS_TRUST_CODES.has(error.code ?? '')) this.#tlsRejected = true;
    });
    socket.on('close', () => {
      if (this.#socket === socket) this.#onClosed();
    });
  }

  #networkReason: string | undefined;
  #tlsRejected = false;

  #silentReason(): string {
    const where = hostPort(this.#opts.target);
    const within = `within ${SESSION_DEADLINE_MS / 1000} s`;
    switch (this.#phase) {
      case 'dialing':
        return `no answer from ${where} ${within}`;
      case 'handshake':
        return `${where} accepted the connection but did not answer the RTMP handshake ${within}`;
      case 'connect':
        return `${where} did not answer connect ${within}`;
      default:
        return `${where} did not answer publish ${within}`;
    }
  }

  #describeError(error: NodeJS.ErrnoException): string {
    const { target, hints } = this.#opts;
    const where = hostPort(target);
    if (TLS_TRUST_CODES.has(error.code ?? '')) {
      return `the server's TLS certificate is not trusted (${error.code}): set RTMPUSH_CA_FILE for a private CA, or pass --insecure-tls to skip the check`;
    }
    switch (error.code) {
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `cannot resolve ${target.host}: check the host name and your DNS`;
      case 'ECONNREFUSED':
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH': {
        const what = error.code === 'ECONNREFUSED' ? 'connection refused' : 'unreachable';
        const tip =
          target.port === 1935 && hints?.rtmpsUrl
            ? `: port 1935 may be blocked; try the RTMPS URL on 443 (${hints.rtmpsUrl})`
            : '';
        return `${where} ${what}${tip}`;
      }
      case 'ECONNRESET':
        return `${where} reset the connection`;
      case 'EPIPE':
        return `${where} closed the connection`;
      default:
        return `${where}: ${error.message}`;
    }
  }

  #onData(data: Buffer): void {
    if (this.#flooded(data.length)) return;
    if (this.#phase === 'handshake') {
      this.#hsBuf = Buffer.concat([this.#hsBuf, data]);
      if (this.#hsBuf.length < 1 + 2 * HANDSHAKE) return;
      const s1 = this.#hsBuf.subarray(1, 1 + HANDSHAKE);
      const rest = this.#hsBuf.subarray(1 + 2 * HANDSHAKE);
      this.#socket!.write(s1); // C2 echoes S1
      this.#phase = 'connect';
      this.#startSession();
      if (rest.length) this.#onChunks(rest);
      return;
    }
    if (this.#phase !== 'dialing' && this.#phase !== 'done') this.#onChunks(data);
  }

  /** A server that sends more than a publisher's server ever does is cut off (bounded work for one destination). */
  #flooded(bytes: number): boolean {
    const now = Date.now();
    if (now - this.#heardSince >= 1000) {
      this.#heard = 0;
      this.#heardSince = now;
    }
    this.#heard += bytes;
    if (this.#heard <= SERVER_BYTES_PER_S + 2 * HANDSHAKE + 1) return false;
    this.#protocolError(`it sent more than ${SERVER_BYTES_PER_S / 1024 / 1024} MiB in a second unasked`);
    return true;
  }

  #protocolError(what: string): void {
    this.#networkReason = `the server broke the RTMP protocol: ${what}`;
    this.#protocolBroken = true;
    this.#socket?.destroy();
  }

  #protocolBroken = false;

  #startSession(): void {
    const { target } = this.#opts;
    // Sent with the default chunk size, then everything uses CHUNK.
    const first = writeChunks(setChunkSize(CHUNK), 128);
    this.#socket!.write(first);
    this.sentBytes += first.length;
    this.#send(windowAckSize(ACK_WINDOW));
    this.#send(
      command(0, 'connect', 1, {
        app: target.app,
        type: 'nonprivate',
        flashVer: 'FMLE/3.0 (compatible; rtmpush)',
        tcUrl: endpointUrl(target),
      }),
    );
  }

  #onChunks(data: Buffer): void {
    let messages: RtmpMessage[];
    try {
      messages = this.#reader.push(data);
    } catch (error) {
      return this.#protocolError(
        error instanceof RtmpProtocolError ? error.message : 'its data cannot be read as RTMP',
      );
    }
    for (const msg of messages) {
      if (msg.typeId === MSG.Acknowledgement && msg.payload.length >= 4) this.#onAck(msg.payload.readUInt32BE(0));
      else if (msg.typeId === MSG.CommandAmf0) this.#onCommand(msg);
    }
  }

  /** When the latest acknowledgement arrived: the acked count is exact at that instant. */
  get lastAckAt(): number {
    return this.#lastAckAt;
  }

  #onAck(sequence: number): void {
    // The sequence number is 32 bits: it wraps, and nginx-rtmp resets it at 0xF0000000 (AckCounter).
    const acked = this.#acks.update(sequence, this.sentBytes);
    if (acked !== this.ackedBytes || !this.everAcked) this.#lastAckAt = Date.now();
    this.ackedBytes = acked;
    this.everAcked = true;
    if (!this.#live && this.#phase === 'streaming' && acked > this.#publishBytes) this.#goLive('ack');
  }

  #confirmOpen(): void {
    this.#openTimer = undefined;
    if (!this.#live && this.#phase === 'streaming' && this.#socket && !this.#socket.destroyed && !this.everAcked)
      this.#goLive('open');
  }

  #goLive(by: 'ack' | 'open'): void {
    this.#live = true;
    this.#attempt = 0;
    this.#rejections = 0;
    clearTimeout(this.#openTimer);
    this.#openTimer = undefined;
    this.#opts.onEvent({ type: 'live', confirmedBy: by });
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = parseCommand(msg);
    if (!cmd) return;
    const { name, txn, args } = cmd;
    // onStatus and _error carry their information object after the command object
    const info = (args[1] ?? {}) as Amf0Object;
    const key = this.#opts.target.key.reveal();
    if (name === '_result' && txn === 1 && this.#phase === 'connect') {
      this.#phase = 'publish';
      this.#send(command(0, 'releaseStream', 2, null, key));
      this.#send(command(0, 'FCPublish', 3, null, key));
      this.#send(command(0, 'createStream', 4, null));
    } else if (name === '_result' && txn === 4 && this.#phase === 'publish') {
      this.#streamId = typeof args[1] === 'number' ? args[1] : 1;
      this.#send({ ...command(this.#streamId, 'publish', 5, null, key, 'live'), streamId: this.#streamId });
    } else if (name === '_error') {
      this.#reject(`the server refused ${txn === 1 ? 'the connection' : 'the publish'}: ${describeStatus(info)}`);
    } else if (name === 'onStatus') {
      const code = String(info.code ?? '');
      if (code === 'NetStream.Publish.Start' && this.#phase === 'publish') {
        clearTimeout(this.#deadline);
        this.#phase = 'streaming';
        this.#publishBytes = this.sentBytes;
        this.#lastAckAt = Date.now();
        for (const m of [this.#metadata, this.#avcHeader, this.#aacHeader]) if (m) this.#sendMedia(m, 0);
        this.#sendGop();
      } else if (
        info.level === 'error' ||
        code.endsWith('BadName') ||
        code.endsWith('Failed') ||
        code.endsWith('Rejected')
      ) {
        this.#reject(describeStatus(info));
      }
    }
  }

  #reject(reason: string): void {
    this.#serverRejected = true;
    this.#serverReason = withHint(reason);
    this.#socket?.destroy();
  }

  /** A server that accepted the publish but stopped acknowledging while we send is hung: drop and redial. True if so. */
  #checkStall(): boolean {
    if (this.#phase !== 'streaming' || !this.everAcked) return false;
    const stallMs = this.#opts.stallMs ?? 10_000;
    if (Date.now() - this.#lastAckAt > stallMs && this.sentBytes - this.ackedBytes > 2 * ACK_WINDOW) {
      this.#networkReason = `the server stopped acknowledging for ${Math.round(stallMs / 1000)} s (hung or overloaded)`;
      this.#socket?.destroy();
      return true;
    }
    return false;
  }

  #onClosed(): void {
    clearTimeout(this.#openTimer);
    clearTimeout(this.#deadline);
    this.#openTimer = undefined;
    if (this.#stopping || this.#phase === 'done') return;
    const phase = this.#phase;
    const wasLive = this.#live;
    this.#live = false;
    this.#socket = undefined;
    let rejected = this.#serverRejected || this.#tlsRejected;
    let reason = this.#serverReason ?? this.#networkReason ?? 'the connection closed';
    // A silent server, a deadline or a protocol fault is not a refusal: say what happened, and retry.
    const explained = this.#networkReason !== undefined || this.#protocolBroken;
    this.#protocolBroken = false;
    if (!rejected && !explained && !wasLive && phase === 'handshake') {
      reason = `${hostPort(this.#opts.target)} closed the connection during the RTMP handshake (is it an RTMP server?)`;
    } else if (!rejected && !explained && !wasLive && phase === 'connect') {
      rejected = true;
      reason = `the server closed the connection after the handshake without answering connect: ${wrongAppHint(this.#opts.target.app, this.#opts.hints?.expectedApp)}`;
    } else if (!rejected && !explained && !wasLive && (phase === 'publish' || phase === 'streaming')) {
      rejected = true;
      // No reason given: a wrong key, a denied app, or a name another encoder holds (node-media-server) all look alike.
      reason =
        'the server closed the connection when asked to publish: check the key and the app path, and that no other encoder is publishing with this key';
    }
    this.#networkReason = undefined;
    const tlsFinal = this.#tlsRejected;
    this.#tlsRejected = false;
    this.#phase = 'waiting';
    if (tlsFinal) return this.#final('rejected', reason);
    if (rejected) {
      this.#rejections++;
      if (this.#rejections >= this.#opts.retry.rejectLimit) return this.#final('rejected', reason);
      const delayMs = retryDelay(this.#opts.retry, this.#rejections, true, (this.#opts.random ?? Math.random)());
      this.#opts.onEvent({
        type: 'rejected',
        reason,
        final: false,
        attempt: this.#rejections,
        delayMs,
        nextRetryAt: Date.now() + delayMs,
      });
      this.#retryTimer = setTimeout(() => this.#dial(), delayMs);
      return;
    } else {
      this.#rejections = 0;
      this.#attempt++;
      const max = this.#opts.retry.maxRetries;
      if (max !== undefined && this.#attempt > max)
        return this.#final('failed', `${reason} (gave up after ${max} retries)`);
    }
    const delayMs = retryDelay(this.#opts.retry, this.#attempt, false, (this.#opts.random ?? Math.random)());
    this.#opts.onEvent({ type: 'retry', attempt: this.#attempt, delayMs, nextRetryAt: Date.now() + delayMs, reason });
    this.#retryTimer = setTimeout(() => this.#dial(), delayMs);
  }

  #final(type: 'rejected' | 'failed', reason: string): void {
    this.#phase = 'done';
    this.#opts.onEvent(type === 'rejected' ? { type, reason, final: true } : { type, reason });
  }
}

/** host:port, with an IPv6 address in brackets. */
function hostPort(target: { host: string; port: number }): string {
  return `${net.isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`;
}

/** What a destination's server may send: small replies on a few chunk streams. */
function newServerReader(): ChunkReader {
  return new ChunkReader({ maxMessageBytes: SERVER_MAX_MESSAGE, maxChunkStreams: 16 });
}

function describeStatus(info: Amf0Object): string {
  const code = info.code ? peerText(String(info.code)) : 'error';
  return info.description ? `${code}: ${peerText(String(info.description))}` : code;
}

function withHint(reason: string): string {
  if (/already publishing|BadName/i.test(reason))
    return `${reason} — another encoder is publishing with this key; stop it or use a fresh key`;
  return reason;
}
