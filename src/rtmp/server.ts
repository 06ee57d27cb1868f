import type { Duplex } from 'node:stream';
import { ChunkReader, RtmpProtocolError } from './chunk.js';
import { writeChunks } from './chunk-writer.js';
import { ServerHandshake } from './handshake.js';
import {
  command,
  MSG,
  parseCommand,
  setChunkSize,
  setPeerBandwidth,
  type RtmpMessage,
  u32,
  windowAckSize,
  CHUNK_SIZE,
} from './message.js';

/** Answers the peer has not read: past it the peer is not an encoder. */
const MAX_UNREAD_BYTES = 64 * 1024;
/** connect, releaseStream, FCPublish, createStream, publish and a few others an encoder may send. */
const MAX_COMMANDS_BEFORE_PUBLISH = 16;

export interface ServerOptions {
  /** Whether a publish under this app and stream name is taken; a refusal is answered BadName with `reason`. */
  authorize: (app: string, name: string) => { ok: true } | { ok: false; reason: string };
  /** Bounds on what the publisher may send: media messages are large (a 4K keyframe), but not unbounded. */
  maxMessageBytes?: number;
}

export interface ServerEvents {
  /** Publish accepted (Publish.Start sent). */
  onPublish?: (app: string, name: string) => void;
  /** Audio, video and metadata (`@setDataFrame` removed), as they arrive. */
  onMedia?: (msg: RtmpMessage) => void;
  /** Exactly once: why the session ended ("unpublished", "closed", or what the publisher did wrong). */
  onEnd?: (reason: string) => void;
}

/**
 * The server side of one RTMP publish over a connected socket: handshake, `connect`, `createStream`, `publish`
 * (authorized by the caller), media out as messages, and acknowledgements of what arrived once the publisher sends
 * its Window Acknowledgement Size (so the publisher has proof at once). Bounded as a destination is.
 */
export class ServerSession {
  readonly #socket: Duplex;
  readonly #handshake = new ServerHandshake();
  readonly #reader: ChunkReader;
  #app = '';
  #outChunk = 128;
  #publishing = false;
  #received = 0;
  #ackWindow = 0;
  #lastAck = 0;
  #ended = false;
  #unpublished = false;
  #connected = false;
  #commands = 0;

  constructor(
    socket: Duplex,
    private readonly opts: ServerOptions,
    private readonly events: ServerEvents = {},
  ) {
    this.#socket = socket;
    this.#reader = new ChunkReader({
      maxMessageBytes: opts.maxMessageBytes ?? 16 * 1024 * 1024,
      maxChunkStreams: 64,
      // encoders use 4096 (OBS, ffmpeg) to 65536
      maxChunkSize: 1024 * 1024,
    });
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('error', () => this.#end('closed'));
    socket.on('close', () =>
      this.#end(this.#unpublished ? 'unpublished' : this.#publishing ? 'closed' : 'closed before publishing'),
    );
  }

  close(): void {
    this.#socket.destroy();
  }

  /** `graceful`: what was written is still sent (then the socket is closed; destroyed if not within 1 s). */
  #end(reason: string, graceful = false): void {
    if (this.#ended) return;
    this.#ended = true;
    if (graceful) {
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), 1000).unref();
    } else this.#socket.destroy();
    this.events.onEnd?.(reason);
  }

  #send(msg: RtmpMessage): void {
    if (this.#socket.destroyed) return;
    // a peer that sends commands and never reads the answers would make them pile up here
    if (this.#socket.writableLength > MAX_UNREAD_BYTES) return this.#end('the publisher does not read what it is sent');
    this.#socket.write(writeChunks(msg, this.#outChunk));
    if (msg.typeId === MSG.SetChunkSize) this.#outChunk = msg.payload.readUInt32BE(0);
  }

  /** A refusal: answered, then the connection is ended (no second try on it: a key is not guessed in a loop). */
  #refuse(description: string): void {
    this.#send({
      ...command(1, 'onStatus', 0, null, { level: 'error', code: 'NetStream.Publish.BadName', description }),
      streamId: 1,
    });
    this.#end('refused', true);
  }

  #onData(data: Buffer): void {
    if (this.#ended) return;
    let chunks: Buffer | undefined = data;
    if (!this.#handshake.done) {
      const step = this.#handshake.receive(data);
      if (step.reply) this.#socket.write(step.reply);
      chunks = step.rest;
      if (!chunks || chunks.length === 0) return;
    }
    this.#received += chunks.length;
    let messages: RtmpMessage[];
    try {
      messages = this.#reader.push(chunks);
    } catch (error) {
      return this.#end(
        error instanceof RtmpProtocolError
          ? `the publisher broke the RTMP protocol: ${error.message}`
          : 'the publisher sent data that is not RTMP',
      );
    }
    for (const msg of messages) {
      if (this.#ended) return;
      if (msg.typeId === MSG.WindowAckSize && msg.payload.length >= 4) this.#ackWindow = msg.payload.readUInt32BE(0);
      else if (msg.typeId === MSG.CommandAmf0) this.#onCommand(msg);
      else if (
        this.#publishing &&
        (msg.typeId === MSG.Audio || msg.typeId === MSG.Video || msg.typeId === MSG.DataAmf0)
      )
        this.events.onMedia?.(msg);
    }
    if (this.#ackWindow > 0 && this.#received - this.#lastAck >= this.#ackWindow) {
      this.#lastAck = this.#received;
      this.#send({ csid: 2, typeId: MSG.Acknowledgement, streamId: 0, timestamp: 0, payload: u32(this.#received) });
    }
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = parseCommand(msg);
    if (!cmd) return;
    const { name, txn, args } = cmd;
    // a publisher needs a handful of commands before it publishes; one that sends more is not publishing
    if (!this.#publishing && ++this.#commands > MAX_COMMANDS_BEFORE_PUBLISH)
      return this.#end('the publisher sent too many commands without publishing');
    switch (name) {
      case 'connect': {
        if (this.#connected) return this.#end('the publisher sent connect twice');
        this.#connected = true;
        const app = (args[0] as { app?: unknown } | null)?.app;
        this.#app = typeof app === 'string' ? app : '';
        this.#send(windowAckSize(5_000_000));
        this.#send(setPeerBandwidth(5_000_000));
        this.#send(setChunkSize(CHUNK_SIZE));
        const info = {
          level: 'status',
          code: 'NetConnection.Connect.Success',
          description: 'Connection succeeded.',
          objectEncoding: 0,
        };
        return this.#send(command(0, '_result', txn, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, info));
      }
      case 'createStream':
        return this.#send(command(0, '_result', txn, null, 1));
      case 'publish': {
        const stream = typeof args[1] === 'string' ? args[1] : '';
        const verdict = this.opts.authorize(this.#app, stream);
        if (!verdict.ok || this.#publishing)
          return this.#refuse(verdict.ok ? 'already publishing on this connection' : verdict.reason);
        this.#publishing = true;
        this.#send({
          ...command(1, 'onStatus', 0, null, {
            level: 'status',
            code: 'NetStream.Publish.Start',
            description: 'Start publishing',
          }),
          streamId: 1,
        });
        return this.events.onPublish?.(this.#app, stream);
      }
      case 'FCUnpublish':
      case 'deleteStream':
        this.#unpublished = this.#publishing;
        return;
      default:
        return;
    }
  }
}
