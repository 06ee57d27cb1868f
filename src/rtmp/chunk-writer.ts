import { type RtmpMessage, payloadLength, payloadParts } from './message.js';

/** Messages into chunks: what rtmpush sends, the relay's batches and the embedded server's answers. */

const basicHeaderLength = (csid: number): number => (csid < 64 ? 1 : csid < 320 ? 2 : 3);

function putBasicHeader(out: Buffer, at: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[at] = (fmt << 6) | csid;
    return at + 1;
  }
  if (csid < 320) {
    out[at] = fmt << 6;
    out[at + 1] = csid - 64;
    return at + 2;
  }
  out[at] = (fmt << 6) | 1;
  out[at + 1] = (csid - 64) & 0xff;
  out[at + 2] = (csid - 64) >> 8;
  return at + 3;
}

/** How many bytes a message takes once chunked (what chunkInto writes). */
export function chunkedLength(msg: RtmpMessage, chunkSize: number, timestamp = msg.timestamp): number {
  const length = payloadLength(msg);
  const extended = timestamp >>> 0 >= 0xffffff ? 4 : 0;
  const continuations = length > 0 ? Math.ceil(length / chunkSize) - 1 : 0;
  return (
    basicHeaderLength(msg.csid) + 11 + extended + length + continuations * (basicHeaderLength(msg.csid) + extended)
  );
}

/**
 * Writes one message into `out` at `at`, chunked: a full type-0 header, then the payload cut at the chunk size with
 * type-3 headers between (the payload is copied from its pieces). Returns the offset after it; `out` must have
 * chunkedLength bytes free. `header` overrides the message's stream id and timestamp. The relay gathers a batch of
 * messages this way in one buffer it reuses.
 */
export function chunkInto(
  msg: RtmpMessage,
  chunkSize: number,
  header: { streamId?: number; timestamp?: number },
  out: Buffer,
  at: number,
): number {
  const timestamp = (header.timestamp ?? msg.timestamp) >>> 0;
  const streamId = header.streamId ?? msg.streamId;
  const length = payloadLength(msg);
  const extended = timestamp >= 0xffffff;
  at = putBasicHeader(out, at, 0, msg.csid);
  out.writeUIntBE(extended ? 0xffffff : timestamp, at, 3);
  out.writeUIntBE(length, at + 3, 3);
  out[at + 6] = msg.typeId;
  out.writeUInt32LE(streamId, at + 7);
  at += 11;
  if (extended) at = out.writeUInt32BE(timestamp, at);
  let inChunk = 0;
  for (const part of payloadParts(msg)) {
    let off = 0;
    while (off < part.length) {
      if (inChunk === chunkSize) {
        at = putBasicHeader(out, at, 3, msg.csid);
        if (extended) at = out.writeUInt32BE(timestamp, at);
        inChunk = 0;
      }
      const n = Math.min(part.length - off, chunkSize - inChunk);
      at += part.copy(out, at, off, off + n);
      off += n;
      inChunk += n;
    }
  }
  return at;
}

/** Chunks one message into a buffer of its own (see chunkInto). */
export function writeChunks(msg: RtmpMessage, chunkSize: number): Buffer {
  const out = Buffer.allocUnsafe(chunkedLength(msg, chunkSize));
  chunkInto(msg, chunkSize, {}, out, 0);
  return out;
}
