import { PassThrough } from 'node:stream';
import { MediaFeed } from '../../src/relay/feed.js';
import { MSG } from '../../src/rtmp/message.js';
import type { DestinationRelay } from '../../src/relay/relay.js';

/** An AVC sequence header as an FLV video payload (keyframe, AVC packet type 0). */
export const AVC_SEQUENCE_HEADER = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0]);

/** The FLV file header (audio and video) and the first PreviousTagSize, as ffmpeg's flv muxer writes them. */
export const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);

/** One FLV tag and its PreviousTagSize, written from the spec. */
export function flvTag(type: number, timestamp: number, data: Buffer): Buffer {
  const head = Buffer.alloc(11);
  head[0] = type;
  head.writeUIntBE(data.length, 1, 3);
  head.writeUIntBE(timestamp & 0xffffff, 4, 3);
  head[7] = (timestamp >>> 24) & 0xff;
  const size = Buffer.alloc(4);
  size.writeUInt32BE(11 + data.length);
  return Buffer.concat([head, data, size]);
}

/** An encoder's leg into this relay, through a media feed as the run makes one: write FLV to it. */
export function legInto(relay: DestinationRelay): PassThrough {
  const leg = new PassThrough();
  const feed = new MediaFeed(30, (reason) => {
    throw new Error(`the leg cannot be read: ${reason}`);
  });
  feed.subscribe(relay);
  feed.attach(leg);
  return leg;
}

/**
 * Plays ffmpeg's part for a relay in this process: an FLV stream on the relay's leg, as the tee writes it to the
 * relay's pipe. Returns `video(timestamp, payload)` to send FLV video payloads, and `end()` to close the leg. A
 * frame's composition offset (bytes 2–4) is set to 0, as ffmpeg writes it for a stream without B-frames.
 */
export function feedRelay(relay: DestinationRelay): {
  video: (timestamp: number, payload: Buffer) => void;
  end: () => void;
} {
  const leg = legInto(relay);
  leg.write(FLV_HEADER);
  return {
    video: (timestamp, payload) => {
      if (payload[1] === 1 && payload.length >= 5) payload.fill(0, 2, 5);
      leg.write(flvTag(MSG.Video, timestamp, payload));
    },
    end: () => void leg.end(),
  };
}

/** Waits until frame `i` of a stream at `fps` that started at `started` (ms) is due: real-time pacing. */
export function frameDue(started: number, i: number, fps: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (i * 1000) / fps - Date.now())));
}
