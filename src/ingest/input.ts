import type { Writable } from 'node:stream';
import { asFlvTag, FLV_FILE_HEADER, headerKind, mediaKind } from '../rtmp/flv.js';
import { MSG, type RtmpMessage } from '../rtmp/message.js';
import { TrackClock } from './track-clock.js';

/** What may wait for ffmpeg to read it: seconds of a high-bitrate stream. Past it, nothing more is written. */
const BACKLOG_BYTES = 16 * 1024 * 1024;
/** Media more than this ahead of real time (a publisher sending faster than live) is dropped. */
const MAX_AHEAD_MS = 2000;

/**
 * The publisher's media as an FLV stream into the encoder's input pipe, made safe to encode live: each track's
 * timestamps only rise, by at most a second a step (a jump of minutes would have ffmpeg make minutes of frames);
 * media more than 2 s ahead of real time is dropped (a publisher sending at 5× would be sent on at 5×); and an
 * encoder that cannot keep up makes the backlog grow only to a bound: past it frames are dropped up to the next
 * keyframe, and headers wait (the latest of each) to go before it. Memory stays bounded whatever is published.
 */
export class IngestInput {
  droppedFrames = 0;
  #waitingKeyframe: boolean;
  readonly #backlogBytes: number;
  readonly #pendingHeaders = new Map<string, RtmpMessage>();
  readonly #clock = new TrackClock();
  #startedAt = 0;

  /** `fromKeyframe`: the publisher is mid-stream (a second encoder for it): frames start at its next keyframe. */
  constructor(
    private readonly pipe: Writable,
    { backlogBytes = BACKLOG_BYTES, fromKeyframe = false } = {},
  ) {
    this.#backlogBytes = backlogBytes;
    this.#waitingKeyframe = fromKeyframe;
    // ffmpeg may exit before reading everything (stopped, failed): a broken pipe then is expected.
    pipe.on('error', () => {});
    pipe.write(FLV_FILE_HEADER);
  }

  write(msg: RtmpMessage): void {
    if (this.pipe.destroyed || this.pipe.writableEnded) return;
    const over = this.pipe.writableLength > this.#backlogBytes;
    const kind = headerKind(msg);
    if (kind) {
      if (over || this.#waitingKeyframe) return void this.#pendingHeaders.set(kind, msg);
      return void this.pipe.write(asFlvTag(msg, this.#clock.latest));
    }
    const video = msg.typeId === MSG.Video;
    if (over) this.#waitingKeyframe = true;
    if (this.#waitingKeyframe) {
      if (over || mediaKind(msg) !== 'keyframe') {
        if (video) this.droppedFrames++;
        return;
      }
      this.#waitingKeyframe = false;
      for (const header of this.#pendingHeaders.values()) this.pipe.write(asFlvTag(header, this.#clock.latest));
      this.#pendingHeaders.clear();
    }
    if (!this.#clock.started) this.#startedAt = performance.now();
    const timestamp = this.#clock.time(msg);
    if (timestamp - (performance.now() - this.#startedAt) > MAX_AHEAD_MS) {
      if (video) {
        this.droppedFrames++;
        this.#waitingKeyframe = true;
      }
      return;
    }
    this.pipe.write(asFlvTag(msg, timestamp));
  }

  /** The publisher has gone: ffmpeg reads to the end, encodes what it has, and exits. */
  end(): void {
    if (!this.pipe.destroyed) this.pipe.end();
  }
}
