/** One RTMP message, de-chunked. */
export interface RtmpMessage {
  csid: number;
  typeId: number;
  streamId: number;
  /** Absolute timestamp in ms (32-bit, wraps). */
  timestamp: number;
  payload: Buffer;
}

export const MSG = {
  SetChunkSize: 1,
  Abort: 2,
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf0: 18,
  CommandAmf0: 20,
} as const;

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

/**
 * Reassembles RTMP messages from chunks as bytes arrive. Follows the peer's Set Chunk Size itself.
 * Feed it only the bytes after the handshake.
 */
export class ChunkReader {
  chunkSize = 128;
  #buf: Buffer = Buffer.alloc(0);
  readonly #streams = new Map<number, ChunkStreamState>();

  push(data: Buffer): RtmpMessage[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, data]) : data;
    const out: RtmpMessage[] = [];
    let at = 0;
    for (;;) {
      const parsed = this.#parseChunk(at);
      if (!parsed) break;
      at = parsed.next;
      if (parsed.message) {
        if (parsed.message.typeId === MSG.SetChunkSize && parsed.message.payload.length >= 4) {
          this.chunkSize = parsed.message.payload.readUInt32BE(0) & 0x7fffffff;
        }
        out.push(parsed.message);
      }
    }
    this.#buf = this.#buf.subarray(at);
    return out;
  }

  #parseChunk(start: number): { next: number; message?: RtmpMessage } | undefined {
    const buf = this.#buf;
    let at = start;
    if (at >= buf.length) return undefined;
    const b0 = buf[at]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    at += 1;
    if (csid === 0) {
      if (at + 1 > buf.length) return undefined;
      csid = 64 + buf[at]!;
      at += 1;
    } else if (csid === 1) {
      if (at + 2 > buf.length) return undefined;
      csid = 64 + buf[at]! + buf[at + 1]! * 256;
      at += 2;
    }
    const hsize = HEADER_SIZE[fmt]!;
    if (at + hsize > buf.length) return undefined;
    const prev = this.#streams.get(csid);
    const st: ChunkStreamState = prev ?? { timestamp: 0, delta: 0, length: 0, typeId: 0, streamId: 0, extended: false, parts: [], received: 0 };
    const starting = st.received === 0;
    let tsField = 0;
    let length = st.length;
    let typeId = st.typeId;
    let streamId = st.streamId;
    if (fmt <= 2) tsField = buf.readUIntBE(at, 3);
    if (fmt <= 1) {
      length = buf.readUIntBE(at + 3, 3);
      typeId = buf[at + 6]!;
    }
    if (fmt === 0) streamId = buf.readUInt32LE(at + 7);
    at += hsize;
    const extended = fmt <= 2 ? tsField === 0xffffff : st.extended;
    let ts = tsField;
    if (extended) {
      if (at + 4 > buf.length) return undefined;
      ts = buf.readUInt32BE(at);
      at += 4;
    }
    const remaining = length - (starting ? 0 : st.received);
    const take = Math.min(this.chunkSize, remaining);
    if (at + take > buf.length) return undefined;

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
    st.parts.push(buf.subarray(at, at + take));
    st.received += take;
    this.#streams.set(csid, st);
    at += take;
    if (st.received < st.length) return { next: at };
    const payload = Buffer.concat(st.parts);
    st.parts = [];
    st.received = 0;
    return { next: at, message: { csid, typeId: st.typeId, streamId: st.streamId, timestamp: st.timestamp, payload } };
  }
}

/** Chunks one message: a full type-0 header, then type-3 continuation chunks. */
export function writeChunks(msg: RtmpMessage, chunkSize: number): Buffer {
  const basic = (fmt: number): Buffer => {
    if (msg.csid < 64) return Buffer.from([(fmt << 6) | msg.csid]);
    if (msg.csid < 320) return Buffer.from([fmt << 6, msg.csid - 64]);
    return Buffer.from([(fmt << 6) | 1, (msg.csid - 64) & 0xff, (msg.csid - 64) >> 8]);
  };
  const extended = msg.timestamp >= 0xffffff;
  const ext = Buffer.alloc(4);
  ext.writeUInt32BE(msg.timestamp >>> 0);
  const header = Buffer.alloc(11);
  header.writeUIntBE(extended ? 0xffffff : msg.timestamp, 0, 3);
  header.writeUIntBE(msg.payload.length, 3, 3);
  header[6] = msg.typeId;
  header.writeUInt32LE(msg.streamId, 7);
  const parts: Buffer[] = [basic(0), header];
  if (extended) parts.push(ext);
  for (let off = 0; off < msg.payload.length || off === 0; off += chunkSize) {
    if (off > 0) {
      parts.push(basic(3));
      if (extended) parts.push(ext);
    }
    parts.push(msg.payload.subarray(off, off + chunkSize));
    if (msg.payload.length === 0) break;
  }
  return Buffer.concat(parts);
}

export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
