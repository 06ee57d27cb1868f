import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { ChunkReader, MSG, writeChunks, type RtmpMessage } from '../rtmp/chunk.js';
import { command, parseCommand, setChunkSize, setPeerBandwidth, windowAckSize } from './messages.js';
import { restClock } from './rest-clock.js';

const HANDSHAKE = 1536;
const OUT_CHUNK = 4096;
/**
 * Once media flows, the relay rests between reads of ffmpeg's leg: ffmpeg writes every RTMP chunk on its own,
 * and a wake-up per write was most of the relay's CPU. The kernel holds what arrives in between. The wanted rest
 * is at most READ_BATCH_MS, and short enough that about BATCH_BYTES gather. Should a write find the socket full,
 * only that leg's fifo thread in ffmpeg waits; the encoder does not. Rests end on a clock shared by every leg
 * (see rest-clock.ts), so several destinations cost one wake-up per batch, not one each; the clock's grid makes a
 * rest up to half a period longer (at most 384 ms).
 */
export const READ_BATCH_MS = 250;
export const BATCH_BYTES = 96 * 1024;
const MIN_REST_MS = 10;

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
  #publishing = false;
  #resting = false;
  /** Bytes read since the last pause, and when that was: the leg's rate sets the next rest. */
  #batchBytes = 0;
  #pausedAt = 0;

  constructor(
    private readonly socket: net.Socket,
    private readonly onMedia: (msg: RtmpMessage) => void,
    private batchMs = READ_BATCH_MS,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      this.#batchBytes += data.length;
      this.#onData(data);
      if (this.#publishing && this.batchMs > 0 && !this.#resting) {
        // Pause only once libuv has read all that is waiting (pausing inside 'data' would stop at one 64 KiB read).
        this.#resting = true;
        setImmediate(() => {
          if (socket.destroyed || this.batchMs <= 0) return;
          socket.pause();
          const now = performance.now();
          const restMs = nextRestMs(this.#batchBytes, now - this.#pausedAt, this.batchMs);
          this.#batchBytes = 0;
          this.#pausedAt = now;
          // Every leg rests on one shared clock, so legs at the same rate wake, read and pause together.
          restClock.rest(restMs, () => {
            if (!this.#resting || socket.destroyed) return;
            this.#resting = false;
            socket.resume();
          });
        });
      }
    });
    socket.on('error', () => socket.destroy());
  }

  close(): void {
    this.socket.destroy();
  }

  /**
   * Reads what the encoder has left in the socket (up to a batch of stream, held back by the batching) until it
   * closes its end or `timeoutMs` passes, then closes. For a clean stop: the stream's last moments are not lost.
   */
  async drain(timeoutMs = 1000): Promise<void> {
    const socket = this.socket;
    this.batchMs = 0;
    this.#resting = false;
    if (!socket.destroyed) {
      const done = new Promise<void>((resolve) => {
        socket.once('end', resolve);
        socket.once('close', resolve);
        setTimeout(resolve, timeoutMs).unref();
      });
      socket.resume();
      await done;
    }
    this.close();
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
        this.#publishing = true;
        this.#pausedAt = performance.now();
        return this.#send({ ...command(1, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'Start publishing' }), streamId: 1 });
      default:
        return;
    }
  }
}

/** How long to rest before the next read: what gathers at the leg's recent rate stays about BATCH_BYTES. */
export function nextRestMs(bytes: number, sinceMs: number, maxMs = READ_BATCH_MS): number {
  if (bytes <= 0 || sinceMs <= 0) return maxMs;
  const rate = bytes / sinceMs;
  return Math.round(Math.min(maxMs, Math.max(MIN_REST_MS, BATCH_BYTES / rate)));
}
