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
 * keyframe. A link that sags is absorbed first: up to the allowance (four seconds of stream) waits unacknowledged
 * while the bitrate comes down. Past it, the video drops to the next keyframe (the last resort), and it drops the
 * least it can: the audio goes on (up to a quarter of the allowance more), so the viewers lose pictures, not sound.
 * Counts the video frames it drops.
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

  /** `allowanceBytes`: four seconds of the stream (see `allowanceFor`). */
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
    const isAudio = msg.typeId === MSG.Audio;
    if (link.queued > limit) {
      // The destination cannot keep up: the video drops to the next keyframe rather than let the queue grow; the
      // audio (a tenth of the stream) goes on while it still fits
      this.congested = true;
      if (this.#sentFrames && isAudio && link.queued <= limit + this.allowanceBytes / 4) return this.#timed(msg);
      if (msg.typeId === MSG.Video) this.droppedFrames++;
      this.#waitingKeyframe = true;
      return undefined;
    }
    // the queue has drained (the rate fell, the link came back): no longer congested, keyframe or not
    if (this.congested && !this.#waitingKeyframe && link.queued < limit / 2) this.congested = false;
    if (this.#waitingKeyframe) {
      // after a drop the sound goes on while the pictures wait; before a session's first frame, nothing goes
      if (isAudio && this.#sentFrames) return this.#timed(msg);
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
    return this.#timed(msg);
  }

  /** A frame on the session's timeline (none before its base). */
  #timed(msg: RtmpMessage): Send | undefined {
    if (msg.timestamp < this.#base) return undefined;
    return this.#at(msg, msg.timestamp - this.#base);
  }

  #at(msg: RtmpMessage, timestamp: number): Send {
    if (timestamp > this.#lastTs) this.#lastTs = timestamp;
    return { msg, timestamp };
  }
}
