import { encodeAmf0 } from './amf0.js';
import {
  type MediaKind,
  MSG,
  payloadHead,
  payloadLength,
  payloadParts,
  ReceivedMessage,
  type RtmpMessage,
} from './message.js';

export type { MediaKind };

/** FLV's codec ids: H.264 (AVC) video, AAC audio. */
const AVC = 7;
const AAC = 10;

/**
 * What an FLV audio, video or script payload is, from its first bytes. An H.264 keyframe is frame type 1 with AVC
 * packet type 1: the end of sequence is marked a keyframe too (packet type 2), and is not one.
 */
export function classifyMedia(typeId: number, head: Buffer): MediaKind {
  if (typeId === MSG.DataAmf0) return 'meta';
  if (typeId === MSG.Audio) return head.length > 1 && head[0]! >> 4 === AAC && head[1] === 0 ? 'audio-header' : 'audio';
  if (typeId !== MSG.Video || head.length === 0) return 'other';
  const frameType = head[0]! >> 4;
  if ((head[0]! & 0x0f) !== AVC) return frameType === 1 ? 'keyframe' : 'frame';
  const packetType = head[1];
  if (packetType === 0) return 'video-header';
  if (packetType === 2) return 'end';
  return frameType === 1 ? 'keyframe' : 'frame';
}

/** A message's kind, worked out once where it was read (a message of the reader's own keeps it). */
export function mediaKind(msg: RtmpMessage): MediaKind {
  if (!(msg instanceof ReceivedMessage)) return classifyMedia(msg.typeId, msg.payload);
  msg.kind ??= classifyMedia(msg.typeId, payloadHead(msg));
  return msg.kind;
}

/** Metadata and codec headers: what a stream needs before its frames (kept for whoever joins later). */
export function headerKind(msg: RtmpMessage): 'meta' | 'video' | 'audio' | undefined {
  switch (mediaKind(msg)) {
    case 'meta':
      return 'meta';
    case 'video-header':
      return 'video';
    case 'audio-header':
      return 'audio';
    default:
      return undefined;
  }
}

/** A reorder delay is a few frames: an offset past a second is not one (a publisher's garbage), and reads as 0. */
const MAX_COMPOSITION_MS = 1000;

/**
 * An H.264 frame's composition time offset (its presentation time minus its decoding time, ms): bytes 2–4 of the
 * payload, signed; 0 for anything else, or for an offset past a second. B-frames make it differ frame to frame.
 */
export function compositionOffset(msg: RtmpMessage): number {
  const kind = mediaKind(msg);
  if (kind !== 'keyframe' && kind !== 'frame') return 0;
  let head = payloadHead(msg);
  if (head.length < 5) head = msg.payload;
  if (head.length < 5 || (head[0]! & 0x0f) !== AVC) return 0;
  const offset = head.readIntBE(2, 3);
  return Math.abs(offset) > MAX_COMPOSITION_MS ? 0 : offset;
}

/** A video keyframe (not a codec header, not the end of sequence). */
export const isKeyframe = (msg: RtmpMessage): boolean => mediaKind(msg) === 'keyframe';

/** FLV header (9 bytes) and the first PreviousTagSize (4). */
const HEADER = 13;
/** Tag header: type, size (3), timestamp (3), timestamp extension, stream id (3). */
const TAG_HEADER = 11;
const EMPTY = Buffer.alloc(0);

export class FlvError extends Error {}

/** Chunk stream ids the relay uses upstream, as ffmpeg does: audio and metadata on 4, video on 6. */
const CSID: Record<number, number> = { [MSG.Audio]: 4, [MSG.Video]: 6, [MSG.DataAmf0]: 4 };

/**
 * Reads an FLV byte stream (what ffmpeg's flv muxer writes to a pipe) into messages as RTMP carries them: audio,
 * video and script data. ffmpeg writes 31-bit timestamps (they go back to 0 after 24.8 days): the reader unwraps
 * them, so they keep rising for as long as the stream runs. Payloads stay slices of the buffers pushed in. A
 * stream that is not FLV, or a tag of another type, throws FlvError: the input is ffmpeg's own, so anything else is
 * a fault.
 * What it holds is bounded by one tag (at most 16 MiB, the format's limit).
 */
export class FlvReader {
  #header: Buffer = Buffer.alloc(0);
  #headerDone = false;
  /** The tag being read: its header, and the payload pieces gathered so far. */
  #tag: { typeId: number; size: number; timestamp: number } | undefined;
  #tagHead: Buffer = Buffer.alloc(0);
  #parts: Buffer[] = [];
  #got = 0;
  /** Bytes of the PreviousTagSize after a payload still to skip. */
  #skip = 0;
  /** 2^31 for each time the timestamps went back to 0, and the latest unwrapped timestamp. */
  #epoch = 0;
  #latest = 0;

  push(input: Buffer): RtmpMessage[] {
    const out: RtmpMessage[] = [];
    let data = input;
    if (!this.#headerDone) {
      const need = HEADER - this.#header.length;
      this.#header = Buffer.concat([this.#header, data.subarray(0, need)]);
      data = data.subarray(need);
      if (this.#header.length < HEADER) return out;
      if (this.#header.toString('latin1', 0, 3) !== 'FLV') throw new FlvError('the encoder leg is not FLV');
      const dataOffset = this.#header.readUInt32BE(5);
      if (dataOffset !== 9) throw new FlvError(`unexpected FLV header size ${dataOffset}`);
      this.#headerDone = true;
    }
    while (data.length > 0) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, data.length);
        this.#skip -= n;
        data = data.subarray(n);
        continue;
      }
      if (!this.#tag) {
        const need = TAG_HEADER - this.#tagHead.length;
        const head =
          this.#tagHead.length === 0 && data.length >= TAG_HEADER
            ? data.subarray(0, TAG_HEADER)
            : Buffer.concat([this.#tagHead, data.subarray(0, need)]);
        data = data.subarray(head.length - this.#tagHead.length);
        if (head.length < TAG_HEADER) {
          this.#tagHead = head;
          break;
        }
        this.#tagHead = EMPTY;
        const typeId = head[0]! & 0x1f;
        if (typeId !== MSG.Audio && typeId !== MSG.Video && typeId !== MSG.DataAmf0)
          throw new FlvError(`unexpected FLV tag type ${typeId}`);
        const timestamp = this.#unwrap((head.readUIntBE(4, 3) | ((head[7]! & 0x7f) << 24)) >>> 0);
        this.#tag = { typeId, size: head.readUIntBE(1, 3), timestamp };
        this.#parts = [];
        this.#got = 0;
      }
      const tag = this.#tag;
      const n = Math.min(tag.size - this.#got, data.length);
      if (n > 0) this.#parts.push(data.subarray(0, n));
      this.#got += n;
      data = data.subarray(n);
      if (this.#got < tag.size) break;
      out.push(
        new ReceivedMessage(
          CSID[tag.typeId]!,
          tag.typeId,
          1,
          tag.timestamp,
          this.#parts.length ? this.#parts : [EMPTY],
          tag.size,
        ),
      );
      this.#tag = undefined;
      this.#skip = 4;
    }
    return out;
  }

  /** A timestamp more than 2^30 ms (12 days) before the latest one is the 31-bit clock going round. */
  #unwrap(raw: number): number {
    let timestamp = raw + this.#epoch;
    if (timestamp + 2 ** 30 < this.#latest) {
      this.#epoch += 2 ** 31;
      timestamp += 2 ** 31;
    }
    this.#latest = Math.max(this.#latest, timestamp);
    return timestamp;
  }
}

/** An FLV file's header (audio and video) and the first PreviousTagSize. */
export const FLV_FILE_HEADER = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);

/** One message as an FLV tag and its PreviousTagSize (stream id 0, as the format wants). */
export function encodeFlvTag(typeId: number, timestamp: number, payload: Buffer | readonly Buffer[]): Buffer {
  const parts = Buffer.isBuffer(payload) ? [payload] : payload;
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = Buffer.allocUnsafe(TAG_HEADER + length + 4);
  out[0] = typeId;
  out.writeUIntBE(length, 1, 3);
  out.writeUIntBE(timestamp & 0xffffff, 4, 3);
  out[7] = (timestamp >>> 24) & 0xff;
  out.writeUIntBE(0, 8, 3);
  let at = TAG_HEADER;
  for (const p of parts) at += p.copy(out, at);
  out.writeUInt32BE(TAG_HEADER + length, TAG_HEADER + length);
  return out;
}

/** What an RTMP publisher puts before the metadata; ffmpeg's flv muxer writes `onMetaData` and the object alone. */
const SET_DATA_FRAME = encodeAmf0('@setDataFrame');
const ON_METADATA = encodeAmf0('onMetaData');

/** A tag as an RTMP publisher sends it: `onMetaData` gets `@setDataFrame` before it; anything else is as it is. */
export function asPublished(msg: RtmpMessage): RtmpMessage {
  const head = payloadHead(msg).length >= ON_METADATA.length ? payloadHead(msg) : msg.payload;
  if (msg.typeId !== MSG.DataAmf0 || !head.subarray(0, ON_METADATA.length).equals(ON_METADATA)) return msg;
  const parts = [SET_DATA_FRAME, ...payloadParts(msg)];
  return new ReceivedMessage(
    msg.csid,
    msg.typeId,
    msg.streamId,
    msg.timestamp,
    parts,
    SET_DATA_FRAME.length + payloadLength(msg),
  );
}

/** A published message as an FLV tag (what a recording holds): metadata without the `@setDataFrame` before it. */
export function asFlvTag(msg: RtmpMessage, timestamp = msg.timestamp): Buffer {
  // audio and video: the chunks' pieces go straight into the tag (copied once, not joined first)
  if (msg.typeId !== MSG.DataAmf0) return encodeFlvTag(msg.typeId, timestamp, payloadParts(msg));
  let payload = msg.payload;
  if (payload.subarray(0, SET_DATA_FRAME.length).equals(SET_DATA_FRAME))
    payload = payload.subarray(SET_DATA_FRAME.length);
  return encodeFlvTag(msg.typeId, timestamp, payload);
}
