import { compositionOffset } from '../rtmp/flv.js';
import type { RtmpMessage } from '../rtmp/message.js';

/** A group never waits for more than this many frames (a stream whose times never add up goes on regardless). */
const MAX_GROUP = 32;

/**
 * Video frames let out in whole groups: a frame shown later than every one before it (an anchor: a keyframe or a
 * P-frame) waits for the B-frames shown before it, which come after it. Without B-frames every frame is its own
 * group and goes at once; with them an anchor waits ~100 ms. So an encoder cut off mid-stream (a swap, a restart)
 * leaves only frames that can all be shown: what it held is dropped, never an anchor without its B-frames (whose
 * times the next encoder's frames would then collide with). Pure.
 */
export class PictureGroups {
  #group: RtmpMessage[] = [];
  /** The presentation time of the latest anchor, and of the one before it (where the held group starts). */
  #lastAnchor = Number.NEGATIVE_INFINITY;
  #groupFrom = Number.NEGATIVE_INFINITY;
  /** This leg's encoder makes B-frames (frames shown later than decoded): until it does, nothing waits. */
  #reorders = false;

  /** A frame (its timestamp its decoding time); `step`: the frame duration. Lets out what is complete. */
  push(msg: RtmpMessage, step: number, release: (msg: RtmpMessage) => void): void {
    const offset = compositionOffset(msg);
    const pts = msg.timestamp + offset;
    // an encoder that reorders shows its keyframe later than it decodes it: known from its first frame
    if (offset > 0 || pts < this.#lastAnchor) this.#reorders = true;
    if (pts > this.#lastAnchor) {
      // an anchor: the group before it is complete (its frames came before it in decoding order)
      this.flush(release);
      this.#groupFrom = Number.isFinite(this.#lastAnchor) ? this.#lastAnchor : pts - step;
      this.#lastAnchor = pts;
    }
    this.#group.push(msg);
    if (!this.#reorders) return this.flush(release);
    const slots = Math.round((this.#lastAnchor - this.#groupFrom) / step);
    if (this.#group.length >= slots || this.#group.length >= MAX_GROUP) this.flush(release);
  }

  /** What is held goes out (the stream ends: its encoder finished every group). */
  flush(release: (msg: RtmpMessage) => void): void {
    const group = this.#group;
    this.#group = [];
    for (const msg of group) release(msg);
  }

  /** A leg cut off: what it held is dropped, and the next leg starts its own groups. How many frames were dropped. */
  cut(): number {
    const dropped = this.#group.length;
    this.#group = [];
    this.#lastAnchor = this.#groupFrom = Number.NEGATIVE_INFINITY;
    this.#reorders = false;
    return dropped;
  }
}
