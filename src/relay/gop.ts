import { isVideoKeyframe } from '../rtmp/flv.js';
import { MSG, payloadHead, payloadLength, type RtmpMessage } from '../rtmp/message.js';

/**
 * The media since the latest video keyframe (a group of pictures), so a destination that starts late starts on a
 * picture. Past `maxBytes` it is dropped until the next keyframe: a long keyframe interval does not grow it.
 */
export class GopCache {
  #messages: RtmpMessage[] = [];
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get messages(): readonly RtmpMessage[] {
    return this.#messages;
  }

  /** A media message (not a codec header): kept from a keyframe on. */
  keep(msg: RtmpMessage): void {
    if (msg.typeId === MSG.Video && isVideoKeyframe(payloadHead(msg))) this.clear();
    else if (this.#messages.length === 0) return;
    this.#messages.push(msg);
    this.#bytes += payloadLength(msg);
    if (this.#bytes > this.maxBytes) this.clear();
  }

  clear(): void {
    this.#messages = [];
    this.#bytes = 0;
  }
}
