import { chunkedLength, chunkInto } from '../rtmp/chunk-writer.js';
import type { RtmpMessage } from '../rtmp/message.js';

/** Where batches go: a publisher session (it counts what it writes). `done` once the socket has taken them. */
export interface BatchSink {
  write(bytes: Buffer, done: () => void): boolean;
}

/** Room for a read batch of ffmpeg's leg (~96 KiB): one buffer serves a whole session. */
const OUT_BUFFER = 256 * 1024;

/**
 * Gathers the messages of one read of the encoder's leg, chunked into one buffer it reuses, and writes them in
 * one write after the read (a write per message was most of the relays' CPU). A new batch starts at the buffer's
 * beginning once every earlier write from it has completed: a TLS socket completes them later, not on return.
 */
export class BatchWriter {
  #out = Buffer.allocUnsafe(OUT_BUFFER);
  #start = 0;
  #length = 0;
  /** Writes from #out the socket has not completed yet. */
  #inFlight = 0;
  #flushQueued = false;
  #sink: BatchSink | undefined;

  constructor(
    private readonly chunkSize: number,
    private readonly streamId: () => number,
  ) {}

  /** A new session: what was gathered for the last one is dropped; writes it still holds keep their buffer. */
  reset(sink: BatchSink | undefined): void {
    this.#sink = sink;
    if (this.#inFlight > 0) this.#fresh();
    else this.#start = this.#length = 0;
  }

  /** Adds a message at this timestamp; it goes out with the rest of the batch after the current read. */
  add(msg: RtmpMessage, timestamp: number): void {
    if (!this.#sink) return;
    if (this.#length === this.#start && this.#inFlight === 0) this.#start = this.#length = 0;
    const need = chunkedLength(msg, this.chunkSize, timestamp);
    if (this.#length + need > this.#out.length) {
      this.flush();
      this.#fresh(need);
    }
    this.#length = chunkInto(msg, this.chunkSize, { streamId: this.streamId(), timestamp }, this.#out, this.#length);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => {
        this.#flushQueued = false;
        this.flush();
      });
    }
  }

  /** Writes what is gathered now (before a command, or to count a burst at once). */
  flush(): void {
    if (this.#length === this.#start || !this.#sink) return;
    const data = this.#out.subarray(this.#start, this.#length);
    this.#start = this.#length;
    const buffer = this.#out;
    this.#inFlight++;
    this.#sink.write(data, () => {
      if (this.#out === buffer) this.#inFlight--;
    });
  }

  #fresh(atLeast = 0): void {
    this.#out = Buffer.allocUnsafe(Math.max(OUT_BUFFER, atLeast));
    this.#start = this.#length = 0;
    this.#inFlight = 0;
  }
}
