import type { Readable } from 'node:stream';
import { asPublished, FlvReader } from '../rtmp/flv.js';
import type { RtmpMessage } from '../rtmp/message.js';
import { restClock } from './rest-clock.js';

/**
 * Once media flows, the relay rests between reads of ffmpeg's leg: ffmpeg writes every packet on its own,
 * and a wake-up per write was most of the relay's CPU. The kernel holds what arrives in between. The wanted rest
 * is at most READ_BATCH_MS, and short enough that about BATCH_BYTES gather. Should a write find the pipe full,
 * only that leg's fifo thread in ffmpeg waits; the encoder does not. Rests end on a clock shared by every leg
 * (see rest-clock.ts), so several destinations cost one wake-up per batch, not one each; the clock's grid makes a
 * rest up to half a period longer (at most 384 ms).
 */
export const READ_BATCH_MS = 250;
export const BATCH_BYTES = 96 * 1024;
const MIN_REST_MS = 10;

/**
 * One tee leg of the encoder: an FLV stream on a pipe that rtmpush handed to ffmpeg, so nothing but that ffmpeg
 * can write to it (no port, no path). Each audio, video and metadata tag goes to `onMedia` as an RTMP message.
 * It always reads, so a slow or dead destination can never push back on ffmpeg.
 */
export class EncoderLeg {
  readonly #reader = new FlvReader();
  #resting = false;
  /** Bytes read since the last pause, and when that was: the leg's rate sets the next rest. */
  #batchBytes = 0;
  #pausedAt = performance.now();
  #ended = false;

  constructor(
    private readonly stream: Readable,
    private readonly onMedia: (msg: RtmpMessage) => void,
    private readonly onFault: (reason: string) => void,
    private batchMs = READ_BATCH_MS,
  ) {
    stream.on('data', (data: Buffer) => {
      this.#batchBytes += data.length;
      this.#onData(data);
      if (this.batchMs > 0 && !this.#resting) this.#rest();
    });
    stream.once('end', () => (this.#ended = true));
    stream.once('close', () => (this.#ended = true));
    stream.on('error', () => stream.destroy());
  }

  #rest(): void {
    // Pause only once libuv has read all that is waiting (pausing inside 'data' would stop at one read).
    this.#resting = true;
    setImmediate(() => {
      if (this.stream.destroyed || this.batchMs <= 0) return;
      this.stream.pause();
      const now = performance.now();
      const restMs = nextRestMs(this.#batchBytes, now - this.#pausedAt, this.batchMs);
      this.#batchBytes = 0;
      this.#pausedAt = now;
      // Every leg rests on one shared clock, so legs at the same rate wake, read and pause together.
      restClock.rest(restMs, () => {
        if (!this.#resting || this.stream.destroyed) return;
        this.#resting = false;
        this.stream.resume();
      });
    });
  }

  close(): void {
    this.stream.destroy();
  }

  get closed(): boolean {
    return this.stream.destroyed;
  }

  /** Reads in batches from now on (a staged leg reads every write until it takes over: no rest delays it). */
  batch(ms = READ_BATCH_MS): void {
    this.batchMs = ms;
  }

  /**
   * Reads what the encoder has left in the pipe (up to a batch of stream, held back by the batching) until it
   * closes its end or `timeoutMs` passes, then closes. For a clean stop: the stream's last moments are not lost.
   */
  async drain(timeoutMs = 1000): Promise<void> {
    await this.readOut(timeoutMs);
    this.close();
  }

  /**
   * Reads every write at once until the encoder closes its end or `timeoutMs` passes, leaving the leg open (a leg
   * being taken over from: should the one taking over be given up meanwhile, it goes on, batching again).
   */
  async readOut(timeoutMs: number): Promise<void> {
    const stream = this.stream;
    this.batchMs = 0;
    this.#resting = false;
    if (stream.destroyed || this.#ended) return;
    const done = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      setTimeout(resolve, timeoutMs).unref();
    });
    stream.resume();
    await done;
  }

  #onData(data: Buffer): void {
    let messages: RtmpMessage[];
    try {
      messages = this.#reader.push(data);
    } catch (error) {
      this.onFault(error instanceof Error ? error.message : String(error));
      return this.close();
    }
    for (const msg of messages) this.onMedia(asPublished(msg));
  }
}

/** How long to rest before the next read: what gathers at the leg's recent rate stays about BATCH_BYTES. */
export function nextRestMs(bytes: number, sinceMs: number, maxMs = READ_BATCH_MS): number {
  if (bytes <= 0 || sinceMs <= 0) return maxMs;
  const rate = bytes / sinceMs;
  return Math.round(Math.min(maxMs, Math.max(MIN_REST_MS, BATCH_BYTES / rate)));
}
