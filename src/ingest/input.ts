import type { Writable } from 'node:stream';
import { asFlvTag, FLV_FILE_HEADER, isAacSequenceHeader, isAvcSequenceHeader, isVideoKeyframe } from '../rtmp/flv.js';
import { MSG, payloadHead, type RtmpMessage } from '../rtmp/message.js';

/** What may wait for ffmpeg to read it: seconds of a high-bitrate stream. Past it, frames are dropped. */
const BACKLOG_BYTES = 16 * 1024 * 1024;

/**
 * The publisher's media as an FLV stream into the encoder's input pipe. An encoder that cannot keep up (slower
 * than real time) makes the backlog grow: past a bound the frames are dropped up to the next keyframe, so memory
 * stays bounded and the picture resumes cleanly. Codec headers and metadata always pass.
 */
export class IngestInput {
  droppedFrames = 0;
  #waitingKeyframe: boolean;
  readonly #backlogBytes: number;

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
    const head = payloadHead(msg);
    const video = msg.typeId === MSG.Video;
    const header = (video && isAvcSequenceHeader(head)) || (msg.typeId === MSG.Audio && isAacSequenceHeader(head));
    if (!header && msg.typeId !== MSG.DataAmf0) {
      if (this.pipe.writableLength > this.#backlogBytes) this.#waitingKeyframe = true;
      if (this.#waitingKeyframe) {
        if (!video || !isVideoKeyframe(head)) {
          if (video) this.droppedFrames++;
          return;
        }
        this.#waitingKeyframe = false;
      }
    }
    this.pipe.write(asFlvTag(msg));
  }

  /** The publisher has gone: ffmpeg reads to the end, encodes what it has, and exits. */
  end(): void {
    if (!this.pipe.destroyed) this.pipe.end();
  }
}
