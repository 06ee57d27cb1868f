import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { Amf0Object } from './amf0.js';
import { AckCounter } from './ack.js';
import { peerText } from '../util/text.js';
import { ChunkReader, MSG, RtmpProtocolError, writeChunks, type RtmpMessage } from './chunk.js';
import { command, parseCommand, setChunkSize, windowAckSize } from '../relay/messages.js';
import { endpointUrl, type RtmpEndpoint } from '../platforms/destinations.js';

const CHUNK = 4096;

/** What the server answered to a command: its code and description, or what happened instead. */
export interface Answer {
  ok: boolean;
  detail: string;
}

/**
 * A minimal RTMP publisher over an already connected socket (TCP or TLS): handshake, connect, publish,
 * and the server's Acknowledgements (it sends its own Window Acknowledgement Size so the server acks at all).
 */
export class RtmpClient {
  readonly #socket: net.Socket;
  // What a server sends a publisher is small: bound it so a hostile one cannot make the client hold much.
  readonly #reader = new ChunkReader({ maxMessageBytes: 64 * 1024, maxChunkStreams: 16 });
  readonly #acks = new AckCounter();
  #hs = Buffer.alloc(0);
  #handshaken: (() => void) | undefined;
  readonly #waiting = new Map<number | 'status', (a: Answer) => void>();
  #closedWith: string | undefined;
  sent = 0;
  acked = 0;
  lastAckAt = 0;
  onAck: ((count: number, at: number) => void) | undefined;
  streamId = 0;

  constructor(
    socket: net.Socket,
    private readonly endpoint: RtmpEndpoint,
    ackWindow = 65_536,
  ) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('close', () => this.#fail(this.#closedWith ?? 'the server closed the connection'));
    socket.on('error', (e) => (this.#closedWith ??= e.message));
    this.#ackWindow = ackWindow;
  }

  readonly #ackWindow: number;

  get socket(): net.Socket {
    return this.#socket;
  }

  /** RTMP handshake; resolves with the round trip of C0+C1 → S0+S1. */
  handshake(): Promise<number> {
    if (this.#socket.destroyed)
      return Promise.reject(new Error(this.#closedWith ?? 'the server closed the connection'));
    const started = performance.now();
    this.#socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(1528)]));
    return new Promise((resolve, reject) => {
      this.#handshaken = () => resolve(Math.round(performance.now() - started));
      this.#waiting.set(-1, (a) => reject(new Error(a.detail)));
    });
  }

  async connect(): Promise<Answer> {
    const e = this.endpoint;
    this.write(setChunkSize(CHUNK), 128);
    this.write(windowAckSize(this.#ackWindow));
    return this.#ask(
      1,
      command(0, 'connect', 1, {
        app: e.app,
        type: 'nonprivate',
        flashVer: 'FMLE/3.0 (compatible; rtmpush)',
        tcUrl: endpointUrl(e),
      }),
    );
  }

  async publish(name: string): Promise<Answer> {
    this.write(command(0, 'releaseStream', 2, null, name));
    this.write(command(0, 'FCPublish', 3, null, name));
    const created = await this.#ask(4, command(0, 'createStream', 4, null));
    if (!created.ok) return created;
    return this.#ask('status', {
      ...command(this.streamId, 'publish', 5, null, name, 'live'),
      streamId: this.streamId,
    });
  }

  write(msg: RtmpMessage, chunkSize = CHUNK): boolean {
    const bytes = writeChunks(msg, chunkSize);
    this.sent += bytes.length;
    return this.#socket.write(bytes);
  }

  close(): void {
    clearTimeout(this.#deadline);
    this.#socket.destroy();
  }

  #deadline: NodeJS.Timeout | undefined;

  /**
   * Closes the session unless `done()` is called within `ms`: a server that never answers, or answers with an
   * endless stream of something else, cannot hold the caller (an idle timeout would never fire on the second).
   */
  deadline(ms: number, what: string): { done: () => void } {
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => {
      this.#closedWith ??= `no ${what} within ${ms / 1000} s`;
      this.#socket.destroy();
    }, ms);
    return { done: () => clearTimeout(this.#deadline) };
  }

  #ask(key: number | 'status', msg: RtmpMessage): Promise<Answer> {
    return new Promise((resolve) => {
      if (this.#socket.destroyed)
        return resolve({ ok: false, detail: this.#closedWith ?? 'the server closed the connection' });
      this.#waiting.set(key, resolve);
      this.write(msg);
    });
  }

  #fail(detail: string): void {
    for (const [, w] of this.#waiting) w({ ok: false, detail });
    this.#waiting.clear();
  }

  #onData(data: Buffer): void {
    if (this.#handshaken) {
      this.#hs = Buffer.concat([this.#hs, data]);
      if (this.#hs.length < 1 + 2 * 1536) return;
      this.#socket.write(this.#hs.subarray(1, 1537));
      const done = this.#handshaken;
      this.#handshaken = undefined;
      this.#waiting.delete(-1);
      data = this.#hs.subarray(1 + 2 * 1536);
      done();
      if (data.length === 0) return;
    }
    let messages: RtmpMessage[];
    try {
      messages = this.#reader.push(data);
    } catch (error) {
      this.#closedWith = `the server broke the RTMP protocol: ${error instanceof RtmpProtocolError ? error.message : 'its data cannot be read as RTMP'}`;
      this.#socket.destroy();
      return;
    }
    for (const msg of messages) {
      if (msg.typeId === MSG.Acknowledgement && msg.payload.length >= 4) {
        // 32-bit sequence numbers wrap (and nginx-rtmp resets them): count in our own bytes sent.
        this.acked = this.#acks.update(msg.payload.readUInt32BE(0), this.sent);
        this.lastAckAt = Date.now();
        this.onAck?.(this.acked, this.lastAckAt);
      } else if (msg.typeId === MSG.CommandAmf0) {
        const cmd = parseCommand(msg);
        if (!cmd) continue;
        const info = (cmd.args[1] ?? {}) as Amf0Object;
        const detail = peerText([info.code, info.description].filter(Boolean).join(': ') || cmd.name);
        if (cmd.name === 'onStatus') {
          this.#resolve('status', { ok: String(info.code) === 'NetStream.Publish.Start', detail });
        } else if (cmd.name === '_result' || cmd.name === '_error') {
          if (cmd.txn === 4 && typeof cmd.args[1] === 'number') this.streamId = cmd.args[1];
          this.#resolve(cmd.txn, { ok: cmd.name === '_result', detail });
        }
      }
    }
  }

  #resolve(key: number | 'status', answer: Answer): void {
    const w = this.#waiting.get(key);
    this.#waiting.delete(key);
    w?.(answer);
  }
}
