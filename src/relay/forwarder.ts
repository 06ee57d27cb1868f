import { headerKind, mediaKind } from '../rtmp/flv.js';
import { ACK_WINDOW, MSG, type RtmpMessage } from '../rtmp/message.js';
import type { StreamStart } from './stream-start.js';

/** One message to send upstream, at this (rebased) timestamp. */
export interface Send {
  msg: RtmpMessage;
  timestamp: number;
}

/** What the upstream connection is doing, as the forwarder needs it for one message. */
export interface LinkState {
  /** Bytes sent that the server has not taken yet (unacknowledged, or still queued where it never acks). */
  queued: number;
  /** Bytes of a new session's first burst the server has not acknowledged yet: not congestion. */
  burstPending: number;
}

export { ACK_WINDOW };

/**
 * The media side of a relay, pure: what to send upstream and when. The feed has made the encoders' media one
 * stream (one timeline, headers sent once) and keeps its start; the forwarder starts every upstream session from
 * that start (headers at 0, then the latest keyframe and what followed, rebased to 0) instead of waiting for the next
 * keyframe, and under congestion (more than two seconds of stream unacknowledged) drops to the next keyframe instead
 * of queueing. Counts the frames it drops.
 */
export class MediaForwarder {
  droppedFrames = 0;
  congested = false;
  #waitingKeyframe = true;
  /** Upstream timestamp = stream timestamp − base. */
  #base = 0;
  #lastTs = 0;
  /** Whether this session has sent a frame yet (headers do not count): its first keyframe starts the timeline at 0. */
  #sentFrames = false;

  /** `allowanceBytes`: two seconds of the stream (at least 256 KiB). */
  constructor(private readonly allowanceBytes: number) {}

  /** A new upstream session is being dialled: it starts on a keyframe, at timestamp 0. */
  sessionReset(): void {
    this.#waitingKeyframe = true;
    this.#lastTs = 0;
    this.#sentFrames = false;
  }

  /**
   * Publish.Start: the stream's metadata and codec headers at 0, then the frames since its latest keyframe (unless
   * they are more than the allowance: a long keyframe interval would look like congestion; it waits for the next).
   */
  sessionStarted(start: StreamStart | undefined): Send[] {
    const out: Send[] = [];
    if (!start) return out;
    for (const kind of ['meta', 'video', 'audio'] as const) {
      const msg = start.headers.get(kind);
      if (msg) out.push(this.#at(msg, 0));
    }
    const gop = start.gop;
    if (gop.length === 0 || !this.#waitingKeyframe || start.gopBytes > this.allowanceBytes) return out;
    this.#base = gop[0]!.timestamp;
    this.#waitingKeyframe = false;
    this.#sentFrames = true;
    for (const msg of gop) if (msg.timestamp >= this.#base) out.push(this.#at(msg, msg.timestamp - this.#base));
    return out;
  }

  /** A message of the stream. `link` while a session is publishing (else nothing is sent). What to send now. */
  media(msg: RtmpMessage, link?: LinkState): Send | undefined {
    if (!link) return undefined;
    if (headerKind(msg)) {
      // a header that changed (the feed sends one only then) goes at the timeline's current point
      return this.#at(
        msg,
        this.#waitingKeyframe || msg.timestamp < this.#base ? this.#lastTs : msg.timestamp - this.#base,
      );
    }
    const limit = ACK_WINDOW + this.allowanceBytes + link.burstPending;
    if (link.queued > limit) {
      // The destination cannot keep up: drop to the next keyframe rather than let the queue grow.
      if (msg.typeId === MSG.Video) this.droppedFrames++;
      this.#waitingKeyframe = true;
      this.congested = true;
      return undefined;
    }
    // the queue has drained (the rate fell, the link came back): no longer congested, keyframe or not
    if (this.congested && !this.#waitingKeyframe && link.queued < limit / 2) this.congested = false;
    if (this.#waitingKeyframe) {
      if (mediaKind(msg) !== 'keyframe') {
        if (msg.typeId === MSG.Video) this.droppedFrames++;
        return undefined;
      }
      // the session's first frame starts its timeline at 0; after a drop the timeline goes on
      if (!this.#sentFrames) this.#base = msg.timestamp;
      this.#sentFrames = true;
      this.#waitingKeyframe = false;
      if (link.queued < limit / 2) this.congested = false;
    }
    if (msg.timestamp < this.#base) return undefined;
    return this.#at(msg, msg.timestamp - this.#base);
  }

  #at(msg: RtmpMessage, timestamp: number): Send {
    if (timestamp > this.#lastTs) this.#lastTs = timestamp;
    return { msg, timestamp };
  }
}
