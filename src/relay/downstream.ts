import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { ChunkReader, MSG, writeChunks, type RtmpMessage } from '../rtmp/chunk.js';
import { command, parseCommand, setChunkSize, setPeerBandwidth, windowAckSize } from './messages.js';

const HANDSHAKE = 1536;
const OUT_CHUNK = 4096;

/**
 * The relay's server side: ffmpeg's tee leg publishes here, to a placeholder name. It answers like an RTMP
 * server and hands every media and metadata message to `onMedia`. It always reads, so a slow or dead
 * destination can never push back on ffmpeg.
 */
export class DownstreamSession {
  #phase: 'c0c1' | 'c2' | 'chunks' = 'c0c1';
  #buf = Buffer.alloc(0);
  readonly #reader = new ChunkReader();
  #outChunk = 128;

  constructor(
    private readonly socket: net.Socket,
    private readonly onMedia: (msg: RtmpMessage) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('error', () => socket.destroy());
  }

  close(): void {
    this.socket.destroy();
  }

  #send(msg: RtmpMessage): void {
    if (!this.socket.destroyed) this.socket.write(writeChunks(msg, this.#outChunk));
    if (msg.typeId === MSG.SetChunkSize) this.#outChunk = msg.payload.readUInt32BE(0);
  }

  #onData(data: Buffer): void {
    if (this.#phase === 'chunks') return this.#onChunks(data);
    this.#buf = Buffer.concat([this.#buf, data]);
    if (this.#phase === 'c0c1' && this.#buf.length >= 1 + HANDSHAKE) {
      const c1 = this.#buf.subarray(1, 1 + HANDSHAKE);
      const s1 = Buffer.concat([Buffer.alloc(8), randomBytes(HANDSHAKE - 8)]);
      this.socket.write(Buffer.concat([Buffer.from([3]), s1, c1]));
      this.#buf = this.#buf.subarray(1 + HANDSHAKE);
      this.#phase = 'c2';
    }
    if (this.#phase === 'c2' && this.#buf.length >= HANDSHAKE) {
      const rest = this.#buf.subarray(HANDSHAKE);
      this.#buf = Buffer.alloc(0);
      this.#phase = 'chunks';
      if (rest.length) this.#onChunks(rest);
    }
  }

  #onChunks(data: Buffer): void {
    let messages: RtmpMessage[];
    try {
      messages = this.#reader.push(data);
    } catch {
      return this.close();
    }
    for (const msg of messages) {
      if (msg.typeId === MSG.CommandAmf0) this.#onCommand(msg);
      else if (msg.typeId === MSG.Audio || msg.typeId === MSG.Video || msg.typeId === MSG.DataAmf0) this.onMedia(msg);
    }
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = parseCommand(msg);
    if (!cmd) return;
    const { name, txn } = cmd;
    switch (name) {
      case 'connect':
        this.#send(windowAckSize(5_000_000));
        this.#send(setPeerBandwidth(5_000_000));
        this.#send(setChunkSize(OUT_CHUNK));
        this.#send(
          command(0, '_result', txn, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, {
            level: 'status',
            code: 'NetConnection.Connect.Success',
            description: 'Connection succeeded.',
            objectEncoding: 0,
          }),
        );
        return;
      case 'createStream':
        return this.#send(command(0, '_result', txn, null, 1));
      case 'publish':
        return this.#send({ ...command(1, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'Start publishing' }), streamId: 1 });
      default:
        return;
    }
  }
}
