import { decodeAmf0, encodeAmf0, type Amf0Value } from '../rtmp/amf0.js';
import { MSG, u32, type RtmpMessage } from '../rtmp/chunk.js';

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

/** FLV tag helpers on audio/video payloads. */
export const isVideoKeyframe = (payload: Buffer): boolean => payload.length > 0 && payload[0]! >> 4 === 1;
export const isAvcSequenceHeader = (payload: Buffer): boolean =>
  payload.length > 1 && (payload[0]! & 0x0f) === 7 && payload[1] === 0;
export const isAacSequenceHeader = (payload: Buffer): boolean =>
  payload.length > 1 && payload[0]! >> 4 === 10 && payload[1] === 0;

/** An AMF0 command message as name, transaction id and the values after them; undefined if it cannot be read. */
export function parseCommand(msg: RtmpMessage): { name: string; txn: number; args: Amf0Value[] } | undefined {
  try {
    const [name, txn, ...args] = decodeAmf0(msg.payload);
    return typeof name === 'string' ? { name, txn: typeof txn === 'number' ? txn : 0, args } : undefined;
  } catch {
    return undefined;
  }
}
