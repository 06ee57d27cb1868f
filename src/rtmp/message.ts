import { decodeAmf0, encodeAmf0, type Amf0Value } from './amf0.js';

/**
 * What an audio, video or script message is to a stream: its metadata, a codec's sequence header, a video keyframe
 * or other frame, an audio frame, or the H.264 end of sequence (what ffmpeg's FLV muxer writes as it ends); `other`
 * for anything else (control, commands).
 */
export type MediaKind = 'meta' | 'video-header' | 'audio-header' | 'keyframe' | 'frame' | 'audio' | 'end' | 'other';

/** One RTMP message, de-chunked. */
export interface RtmpMessage {
  csid: number;
  typeId: number;
  streamId: number;
  /** Absolute timestamp in ms (32-bit, wraps). */
  timestamp: number;
  payload: Buffer;
}

/** The chunk size rtmpush sends with, after the first message (ffmpeg copies the server's: 4096 for nginx). */
export const CHUNK_SIZE = 4096;
/**
 * The Window Acknowledgement Size rtmpush asks of a server (nginx-rtmp sends no Acknowledgement otherwise):
 * unacknowledged data up to it is normal. 16 KiB: a 450 kbit/s flow is acknowledged three times a second, enough to
 * read a sagging link within a second or two (64 KiB gave one acknowledgement a second or less); the cost is a few
 * more 16-byte messages from the server.
 */
export const ACK_WINDOW = 16_384;

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

/**
 * A message as read off the wire: its payload stays in the pieces it arrived in (slices of the socket's reads,
 * nothing copied) and is joined only if someone asks for `payload`. chunkInto copies the pieces straight into the
 * relay's outgoing batch.
 */
export class ReceivedMessage implements RtmpMessage {
  #payload: Buffer | undefined;
  /** What it is as media, worked out once (see mediaKind). */
  kind: MediaKind | undefined;
  constructor(
    readonly csid: number,
    readonly typeId: number,
    readonly streamId: number,
    /** Set again once, by the feed that places it on the stream's timeline (its reader's own message). */
    public timestamp: number,
    readonly parts: readonly Buffer[],
    readonly length: number,
  ) {}

  get payload(): Buffer {
    this.#payload ??= this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts as Buffer[], this.length);
    return this.#payload;
  }
}

/** The payload's pieces, without joining them. */
export const payloadParts = (msg: RtmpMessage): readonly Buffer[] =>
  msg instanceof ReceivedMessage ? msg.parts : [msg.payload];

/** The first bytes of the payload (enough for FLV tag checks), without joining the pieces. */
export function payloadHead(msg: RtmpMessage): Buffer {
  if (!(msg instanceof ReceivedMessage)) return msg.payload;
  const first = msg.parts[0];
  return first && (first.length >= 2 || msg.parts.length === 1) ? first : msg.payload;
}

export const payloadLength = (msg: RtmpMessage): number =>
  msg instanceof ReceivedMessage ? msg.length : msg.payload.length;

export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

export const control = (typeId: number, payload: Buffer): RtmpMessage => ({
  csid: 2,
  typeId,
  streamId: 0,
  timestamp: 0,
  payload,
});
export const setChunkSize = (n: number): RtmpMessage => control(MSG.SetChunkSize, u32(n));
export const windowAckSize = (n: number): RtmpMessage => control(MSG.WindowAckSize, u32(n));
export const setPeerBandwidth = (n: number): RtmpMessage =>
  control(MSG.SetPeerBandwidth, Buffer.concat([u32(n), Buffer.from([2])]));
export const command = (streamId: number, ...values: Amf0Value[]): RtmpMessage => ({
  csid: streamId === 0 ? 3 : 8,
  typeId: MSG.CommandAmf0,
  streamId,
  timestamp: 0,
  payload: encodeAmf0(...values),
});

/** An AMF0 command message as name, transaction id and the values after them; undefined if it cannot be read. */
export function parseCommand(msg: RtmpMessage): { name: string; txn: number; args: Amf0Value[] } | undefined {
  try {
    const [name, txn, ...args] = decodeAmf0(msg.payload);
    return typeof name === 'string' ? { name, txn: typeof txn === 'number' ? txn : 0, args } : undefined;
  } catch {
    return undefined;
  }
}
