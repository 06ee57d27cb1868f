import type { Duplex } from 'node:stream';
import { AckCounter } from './ack.js';
import type { Amf0Object } from './amf0.js';
import { ChunkReader, RtmpProtocolError } from './chunk.js';
import { writeChunks } from './chunk-writer.js';
import { endpointUrl, type RtmpEndpoint } from './endpoint.js';
import { ClientHandshake } from './handshake.js';
import {
  command,
  MSG,
  parseCommand,
  setChunkSize,
  windowAckSize,
  type RtmpMessage,
  ACK_WINDOW,
  CHUNK_SIZE,
} from './message.js';
import { FloodMeter, SERVER_BYTES_PER_S, SERVER_MESSAGES_PER_S } from './flood.js';

/** A server that never acknowledges is taking what is written while Node's buffer falls to this. */
const DRAINED_BYTES = 128 * 1024;

/** Where a publisher session is: the handshake, `connect`, `createStream` + `publish`, then media. */
export type PublishPhase = 'handshake' | 'connect' | 'publish' | 'streaming';

/** Why a session ended, as data: the words for it are chosen above this layer. */
export type SessionEnd =
  | { kind: 'refused'; phase: 'connect' | 'publish'; code: string; description?: string }
  | { kind: 'closed'; phase: PublishPhase }
  | { kind: 'silent'; phase: PublishPhase; ms: number }
  | { kind: 'protocol'; detail: string }
  /** No progress while sending: no acknowledgement (`acking`), or, from a server that never acks, no data taken. */
  | { kind: 'stalled'; ms: number; acking: boolean }
  | { kind: 'network'; code: string; message: string }
  | { kind: 'stopped' };

export interface PublisherOptions {
  endpoint: RtmpEndpoint;
  /** The stream name (the key). */
  name: string;
  /** Stop once `connect` is answered: nothing is created or published (doctor). */
  connectOnly?: boolean;
  /** Handshake to Publish.Start (or to connect's answer) must take at most this. */
  deadlineMs: number;
  /** While sending, no acknowledgement progress for this long ends the session (a hung server). */
  stallMs?: number;
}

export interface PublisherEvents {
  /** `connect` answered with this code. */
  onConnected?: (code: string) => void;
  /** NetStream.Publish.Start: media may flow. Not yet proof of acceptance (the relay waits for an ack). */
  onPublished?: () => void;
  onAck?: (acked: number) => void;
  /** Exactly once. */
  onEnd: (end: SessionEnd) => void;
}

/** What a publisher's server sends back is small: bounds for the reader, and a flood's limit per second. */
const SERVER_LIMITS = { maxMessageBytes: 64 * 1024, maxChunkStreams: 16 };

/**
 * One RTMP publish over a connected socket (TCP or TLS): handshake, connect, createStream, publish, the server's
 * acknowledgements and replies, and a clean unpublish. Counters are read-only from outside. The relay, doctor and
 * uplink all publish through it; nothing else builds a `connect`.
 */
export class PublisherSession {
  readonly #socket: Duplex;
  readonly #opts: PublisherOptions;
  readonly #events: PublisherEvents;
  readonly #handshake = new ClientHandshake();
  readonly #reader = new ChunkReader(SERVER_LIMITS);
  readonly #acks = new AckCounter();
  readonly #deadline: NodeJS.Timeout;
  readonly #started = performance.now();
  #phase: PublishPhase = 'handshake';
  #ended = false;
  readonly #flood = new FloodMeter(() => this.#sent);
  /** From a server that never acknowledges: when its socket last had little left to take. */
  #drainedAt = 0;
  #sent = 0;
  #acked = 0;
  #lastAckAt = 0;
  #everAcked = false;
  #streamId = 0;
  #publishedAt = 0;
  #handshakeMs = 0;

  constructor(socket: Duplex, opts: PublisherOptions, events: PublisherEvents) {
    this.#socket = socket;
    this.#opts = opts;
    this.#events = events;
    this.#deadline = setTimeout(
      () => this.#end({ kind: 'silent', phase: this.#phase, ms: opts.deadlineMs }),
      opts.deadlineMs,
    );
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // Before media flows, a reset or a broken pipe is the server closing on us in that phase (nginx's `deny
      // publish` closes while the publish is still being written): the same answer as a clean close.
      const closedEarly = this.#phase !== 'streaming' && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      this.#end(
        closedEarly
          ? { kind: 'closed', phase: this.#phase }
          : { kind: 'network', code: error.code ?? 'EIO', message: error.message },
      );
    });
    socket.on('close', () => this.#end({ kind: 'closed', phase: this.#phase }));
    socket.write(this.#handshake.start());
  }

  get phase(): PublishPhase {
    return this.#phase;
  }
  /** Bytes written since the handshake. */
  get sent(): number {
    return this.#sent;
  }
  /** Of them, how many the server acknowledged (counted across 32-bit wraps and resets). */
  get acked(): number {
    return this.#acked;
  }
  /** When the latest acknowledgement arrived: `acked` is exact at that instant. */
  get lastAckAt(): number {
    return this.#lastAckAt;
  }
  get everAcked(): boolean {
    return this.#everAcked;
  }
  /** What the server took: acknowledged bytes, or (from a server that never acknowledges) media written to it. */
  get delivered(): number {
    return this.#everAcked ? this.#acked : Math.max(0, this.#sent - this.#publishedAt);
  }
  /** `sent` when Publish.Start came: media after it is what acknowledgements prove arrived. */
  get publishedAt(): number {
    return this.#publishedAt;
  }
  /** The handshake's round trip: C0+C1 sent → S0+S1+S2 received. */
  get handshakeMs(): number {
    return this.#handshakeMs;
  }
  get streamId(): number {
    return this.#streamId;
  }
  /** Bytes the socket holds that the kernel has not taken. */
  get writableLength(): number {
    return this.#socket.writableLength;
  }

  /** Writes bytes already chunked for this session (media batches); `done` once the socket took them. */
  write(bytes: Buffer, done?: () => void): boolean {
    if (this.#ended) return false;
    this.#sent += bytes.length;
    if (this.checkStall()) return false;
    return this.#socket.write(bytes, done);
  }

  /** One message, chunked on its own (uplink's filler; control and commands). */
  send(msg: RtmpMessage, chunkSize = CHUNK_SIZE): boolean {
    return this.write(writeChunks(msg, chunkSize));
  }

  /** Clean stop: FCUnpublish and deleteStream (no ghost session blocks the next publish), then close. */
  async unpublish(): Promise<void> {
    if (this.#ended) return;
    if (this.#phase === 'streaming' || this.#phase === 'publish') {
      this.send(command(0, 'FCUnpublish', 6, null, this.#opts.name));
      this.send(command(0, 'deleteStream', 7, null, this.#streamId));
    }
    const socket = this.#socket;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.#end({ kind: 'stopped' }, false);
    socket.end();
    const timer = setTimeout(() => socket.destroy(), 2000);
    await closed;
    clearTimeout(timer);
  }

  /** Ends the session at once. */
  close(): void {
    this.#end({ kind: 'stopped' });
  }

  #end(end: SessionEnd, destroy = true): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#deadline);
    if (destroy) this.#socket.destroy();
    this.#events.onEnd(end);
  }

  #onData(data: Buffer): void {
    if (this.#ended) return;
    if (this.#flood.bytes(data.length))
      return this.#end({
        kind: 'protocol',
        detail: `it sent more than ${SERVER_BYTES_PER_S / 1024 / 1024} MiB in a second unasked`,
      });
    let chunks = data;
    if (!this.#handshake.done) {
      const got = this.#handshake.receive(data);
      if (!got) return;
      this.#handshakeMs = Math.round(performance.now() - this.#started);
      this.#socket.write(got.reply);
      this.#phase = 'connect';
      const e = this.#opts.endpoint;
      this.send(setChunkSize(CHUNK_SIZE), 128);
      this.send(windowAckSize(ACK_WINDOW));
      this.send(
        command(0, 'connect', 1, {
          app: e.app,
          type: 'nonprivate',
          flashVer: 'FMLE/3.0 (compatible; rtmpush)',
          tcUrl: endpointUrl(e),
        }),
      );
      chunks = got.rest;
      if (chunks.length === 0) return;
    }
    let messages: RtmpMessage[];
    try {
      messages = this.#reader.push(chunks);
    } catch (error) {
      return this.#end({
        kind: 'protocol',
        detail: error instanceof RtmpProtocolError ? error.message : 'its data cannot be read as RTMP',
      });
    }
    if (this.#flood.messages(messages.filter((m) => m.typeId !== MSG.Acknowledgement).length)) {
      return this.#end({
        kind: 'protocol',
        detail: `it sent more than ${SERVER_MESSAGES_PER_S} messages in a second unasked`,
      });
    }
    for (const msg of messages) {
      if (this.#ended) return;
      if (msg.typeId === MSG.Acknowledgement && msg.payload.length >= 4) this.#onAck(msg.payload.readUInt32BE(0));
      else if (msg.typeId === MSG.CommandAmf0) this.#onCommand(msg);
    }
  }

  #onAck(sequence: number): void {
    const acked = this.#acks.update(sequence, this.#sent);
    if (acked !== this.#acked || !this.#everAcked) this.#lastAckAt = Date.now();
    this.#acked = acked;
    this.#everAcked = true;
    this.#events.onAck?.(acked);
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = parseCommand(msg);
    if (!cmd) return;
    const { name, txn, args } = cmd;
    // onStatus and _error carry their information object after the command object
    const info = (args[1] ?? {}) as Amf0Object;
    const code = String(info.code ?? (name === '_error' ? 'error' : ''));
    const refusal = { code, ...(info.description !== undefined ? { description: String(info.description) } : {}) };
    if (name === '_result' && txn === 1 && this.#phase === 'connect') {
      this.#events.onConnected?.(code);
      if (this.#opts.connectOnly) return this.#end({ kind: 'stopped' });
      this.#phase = 'publish';
      this.send(command(0, 'releaseStream', 2, null, this.#opts.name));
      this.send(command(0, 'FCPublish', 3, null, this.#opts.name));
      this.send(command(0, 'createStream', 4, null));
    } else if (name === '_result' && txn === 4 && this.#phase === 'publish') {
      this.#streamId = typeof args[1] === 'number' ? args[1] : 1;
      this.send({ ...command(this.#streamId, 'publish', 5, null, this.#opts.name, 'live'), streamId: this.#streamId });
    } else if (name === '_error') {
      this.#end({ kind: 'refused', phase: txn === 1 ? 'connect' : 'publish', ...refusal });
    } else if (name === 'onStatus' && code === 'NetStream.Publish.Start' && this.#phase === 'publish') {
      clearTimeout(this.#deadline);
      this.#phase = 'streaming';
      this.#publishedAt = this.#sent;
      this.#lastAckAt = this.#drainedAt = Date.now();
      this.#events.onPublished?.();
    } else if (name === 'onStatus' && (info.level === 'error' || /BadName|Failed|Rejected$/.test(code))) {
      this.#end({ kind: 'refused', phase: this.#phase === 'connect' ? 'connect' : 'publish', ...refusal });
    }
  }

  /**
   * A server that accepted the publish but stopped acknowledging while we send is hung: the session ends. True if
   * so. Checked on every write, and by the relay as media comes (it may be dropping frames, writing nothing).
   */
  checkStall(): boolean {
    const stallMs = this.#opts.stallMs;
    if (stallMs === undefined || this.#phase !== 'streaming') return false;
    const now = Date.now();
    let stalled: boolean;
    if (this.#everAcked) stalled = now - this.#lastAckAt > stallMs && this.#sent - this.#acked > 2 * ACK_WINDOW;
    else {
      // A server that never acknowledges (node-media-server): its progress is taking what is written to it.
      if (this.#socket.writableLength <= DRAINED_BYTES) this.#drainedAt = now;
      stalled = now - this.#drainedAt > stallMs;
    }
    if (stalled) this.#end({ kind: 'stalled', ms: stallMs, acking: this.#everAcked });
    return stalled;
  }
}
