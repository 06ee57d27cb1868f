import { type RtmpMessage, MSG, ReceivedMessage } from './message.js';

/** The peer broke the protocol (or a bound set for it): the session cannot go on. */
export class RtmpProtocolError extends Error {}

export interface ChunkReaderLimits {
  /** The largest message accepted (its declared length). */
  maxMessageBytes: number;
  /** How many chunk streams may be in use at once. */
  maxChunkStreams: number;
  /** The largest chunk size the peer may set. */
  maxChunkSize?: number;
}

/** The RTMP spec's bounds: a message length is 24 bits, chunk stream ids go to 65599. */
const SPEC_LIMITS: ChunkReaderLimits = { maxMessageBytes: 0xffffff, maxChunkStreams: 65600 };
/** Chunk sizes are 31 bits; 0 is not a size. */
const MAX_CHUNK_SIZE = 0x7fffffff;

interface ChunkStreamState {
  timestamp: number;
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  extended: boolean;
  parts: Buffer[];
  received: number;
}

const HEADER_SIZE = [11, 7, 3, 0];
/** Basic header (3) + message header (11) + extended timestamp (4). */
const MAX_CHUNK_HEADER = 18;
const EMPTY = Buffer.alloc(0);

/**
 * Reassembles RTMP messages from chunks as bytes arrive. Follows the peer's Set Chunk Size itself.
 * Feed it only the bytes after the handshake. Payloads are slices of the buffers pushed in: only a chunk split
 * across two reads is copied.
 */
export class ChunkReader {
  chunkSize = 128;
  /** The unfinished chunk's bytes so far (#filled of them), and the size it needs (0 while its header is short). */
  #split: Buffer = EMPTY;
  #filled = 0;
  #need = 0;
  readonly #streams = new Map<number, ChunkStreamState>();
  readonly #limits: ChunkReaderLimits;
  /** Bytes held in messages not complete yet, over every chunk stream: at most two messages' worth. */
  #pending = 0;

  /**
   * `limits` bound what a peer can make the reader hold: messages longer than maxMessageBytes, more chunk streams
   * than maxChunkStreams, or more than two maximal messages pending at once throw RtmpProtocolError, as does a
   * chunk size of 0 or above 2^31 − 1.
   */
  constructor(limits: Partial<ChunkReaderLimits> = {}) {
    this.#limits = { ...SPEC_LIMITS, ...limits };
  }

  push(input: Buffer): RtmpMessage[] {
    const out: RtmpMessage[] = [];
    let data = input;
    // A chunk split across reads: finish it first.
    while (this.#filled) {
      // its size known: up to its end; only part of its header here: enough for any header
      const fromData = Math.min(data.length, this.#need ? this.#need - this.#filled : MAX_CHUNK_HEADER);
      this.#append(data.subarray(0, fromData));
      if (this.#filled < this.#need) return out;
      const held = this.#filled - fromData;
      const step = this.#parseChunk(this.#split.subarray(0, this.#filled), 0);
      if ('next' in step) {
        if (step.message) this.#emit(step.message, out);
        data = data.subarray(step.next - held);
        // the message holds this buffer now: the next split chunk gets another
        this.#split = EMPTY;
        this.#filled = 0;
        this.#need = 0;
        break;
      }
      this.#need = step.need;
      data = data.subarray(fromData);
      if (!data.length) return out;
    }
    let at = 0;
    for (;;) {
      const step = this.#parseChunk(data, at);
      if (!('next' in step)) {
        this.#need = step.need;
        if (at < data.length) this.#append(data.subarray(at));
        return out;
      }
      at = step.next;
      if (step.message) this.#emit(step.message, out);
    }
  }

  /**
   * Adds bytes of the unfinished chunk, copied (a read's buffer is not held on to for a few bytes). The buffer
   * doubles as bytes come, up to the chunk's size: each byte is copied a few times at most, however small the
   * reads, and nothing is set aside for what a header only promises.
   */
  #append(bytes: Buffer): void {
    const end = this.#filled + bytes.length;
    if (end > this.#split.length) {
      const grown = Buffer.allocUnsafe(Math.max(end, Math.min(this.#need, 2 * this.#split.length)));
      this.#split.copy(grown, 0, 0, this.#filled);
      this.#split = grown;
    }
    bytes.copy(this.#split, this.#filled);
    this.#filled = end;
  }

  #emit(message: RtmpMessage, out: RtmpMessage[]): void {
    if (message.typeId === MSG.SetChunkSize) {
      const size = message.payload.length >= 4 ? message.payload.readUInt32BE(0) : 0;
      if (size < 1 || size > MAX_CHUNK_SIZE)
        throw new RtmpProtocolError(`Set Chunk Size ${size} is not a valid chunk size`);
      if (size > (this.#limits.maxChunkSize ?? MAX_CHUNK_SIZE))
        throw new RtmpProtocolError(`Set Chunk Size ${size} is above the ${this.#limits.maxChunkSize} allowed`);
      this.chunkSize = size;
    }
    out.push(message);
  }

  /**
   * The chunk at `start`: its end and the message it completes, or, when `buf` ends before it does, how many bytes
   * it needs from `start` (0 when its header is not all here yet). Nothing is committed for a chunk not all here.
   */
  #parseChunk(buf: Buffer, start: number): { next: number; message?: RtmpMessage } | { need: number } {
    const short = { need: 0 };
    let at = start;
    if (at >= buf.length) return short;
    const b0 = buf[at]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    at += 1;
    if (csid === 0) {
      if (at + 1 > buf.length) return short;
      csid = 64 + buf[at]!;
      at += 1;
    } else if (csid === 1) {
      if (at + 2 > buf.length) return short;
      csid = 64 + buf[at]! + buf[at + 1]! * 256;
      at += 2;
    }
    const hsize = HEADER_SIZE[fmt]!;
    if (at + hsize > buf.length) return short;
    const prev = this.#streams.get(csid);
    if (!prev && fmt !== 0)
      throw new RtmpProtocolError(`a type-${fmt} chunk on chunk stream ${csid}, which has no message to continue`);
    if (!prev && this.#streams.size >= this.#limits.maxChunkStreams) {
      throw new RtmpProtocolError(`more than ${this.#limits.maxChunkStreams} chunk streams`);
    }
    const st: ChunkStreamState = prev ?? {
      timestamp: 0,
      delta: 0,
      length: 0,
      typeId: 0,
      streamId: 0,
      extended: false,
      parts: [],
      received: 0,
    };
    const starting = st.received === 0;
    let tsField = 0;
    let length = st.length;
    let typeId = st.typeId;
    let streamId = st.streamId;
    if (fmt <= 2) tsField = buf.readUIntBE(at, 3);
    if (fmt <= 1) {
      length = buf.readUIntBE(at + 3, 3);
      typeId = buf[at + 6]!;
      if (length > this.#limits.maxMessageBytes)
        throw new RtmpProtocolError(`a message of ${length} bytes (at most ${this.#limits.maxMessageBytes} accepted)`);
    }
    if (fmt === 0) streamId = buf.readUInt32LE(at + 7);
    at += hsize;
    const extended = fmt <= 2 ? tsField === 0xffffff : st.extended;
    let ts = tsField;
    if (extended) {
      if (at + 4 > buf.length) return short;
      ts = buf.readUInt32BE(at);
      at += 4;
    }
    const remaining = length - (starting ? 0 : st.received);
    if (remaining < 0)
      throw new RtmpProtocolError(
        `a header on chunk stream ${csid} shortens a message already ${st.received} bytes long`,
      );
    const take = Math.min(this.chunkSize, remaining);
    if (at + take > buf.length) return { need: at + take - start };

    // Commit the header only now that the whole chunk is here.
    if (fmt === 0) {
      st.timestamp = ts;
      st.delta = 0;
    } else if (fmt === 1 || fmt === 2) {
      st.delta = ts;
      if (starting) st.timestamp = (st.timestamp + ts) >>> 0;
    } else if (starting && prev) {
      st.timestamp = (st.timestamp + st.delta) >>> 0;
    }
    st.length = length;
    st.typeId = typeId;
    st.streamId = streamId;
    st.extended = extended;
    if (take > 0) {
      st.parts.push(buf.subarray(at, at + take));
      this.#pending += take;
      if (this.#pending > 2 * this.#limits.maxMessageBytes)
        throw new RtmpProtocolError('too many unfinished messages at once');
    }
    st.received += take;
    if (!prev) this.#streams.set(csid, st);
    at += take;
    if (st.received < st.length) return { next: at };
    const parts = st.parts.length ? st.parts : [EMPTY];
    this.#pending -= st.received;
    st.parts = [];
    st.received = 0;
    return { next: at, message: new ReceivedMessage(csid, st.typeId, st.streamId, st.timestamp, parts, st.length) };
  }
}
