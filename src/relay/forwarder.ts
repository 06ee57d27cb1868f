import { ACK_WINDOW, MSG, payloadHead, type RtmpMessage } from '../rtmp/message.js';
import { isAacSequenceHeader, isAvcSequenceHeader, isVideoKeyframe } from '../rtmp/flv.js';
import { GopCache } from './gop.js';

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
 * The media side of a relay, pure: what to send upstream and when. It keeps the encoder's metadata and codec
 * headers and the frames since its latest keyframe; starts every upstream session from them (headers at 0, then
 * that keyframe and what followed, rebased to 0) instead of waiting for the next keyframe; gates on keyframes after
 * a gap; rebases timestamps across encoder restarts so they keep rising; and under congestion (more than two
 * seconds of stream unacknowledged) drops to the next keyframe instead of queueing. Counts the frames it drops.
 */
export class MediaForwarder {
  droppedFrames = 0;
  congested = false;
  #metadata: RtmpMessage | undefined;
  #avcHeader: RtmpMessage | undefined;
  #aacHeader: RtmpMessage | undefined;
  readonly #gop: GopCache;
  #waitingKeyframe = true;
  /** Upstream timestamp = encoder timestamp − base. */
  #base = 0;
  /** After an encoder restart: the upstream timestamp its first keyframe gets. */
  #resumeFrom: number | undefined;
  #lastTs = 0;
  /** Whether this session has sent a frame yet (headers do not count): its first keyframe starts the timeline at 0. */
  #sentFrames = false;
  #restarted = false;

  /** `allowanceBytes`: two seconds of the stream (at least 256 KiB). */
  constructor(private readonly allowanceBytes: number) {
    // A long keyframe interval: a burst that big would look like congestion; wait for the next keyframe instead.
    this.#gop = new GopCache(allowanceBytes);
  }

  /** A new encoder (the watchdog restarted it): its clock starts at 0 again; resume on its next keyframe. */
  encoderStarted(): void {
    if (this.#restarted) {
      this.#resumeFrom = this.#lastTs + 40;
      this.#waitingKeyframe = true;
    }
    this.#restarted = true;
    this.#gop.clear();
  }

  /** A new upstream session is being dialled: it starts on a keyframe, at timestamp 0. */
  sessionReset(): void {
    this.#waitingKeyframe = true;
    this.#resumeFrom = undefined;
    this.#lastTs = 0;
    this.#sentFrames = false;
  }

  /** Publish.Start: metadata and codec headers at 0, then the frames since the encoder's latest keyframe. */
  sessionStarted(): Send[] {
    const out: Send[] = [];
    for (const msg of [this.#metadata, this.#avcHeader, this.#aacHeader]) if (msg) out.push(this.#at(msg, 0));
    const first = this.#gop.messages[0];
    if (!first || !this.#waitingKeyframe || this.#resumeFrom !== undefined) return out;
    this.#base = first.timestamp;
    this.#waitingKeyframe = false;
    this.#sentFrames = true;
    for (const msg of this.#gop.messages)
      if (msg.timestamp >= this.#base) out.push(this.#at(msg, msg.timestamp - this.#base));
    return out;
  }

  /** A message from the encoder. `link` while a session is publishing (else it is only kept). What to send now. */
  media(msg: RtmpMessage, link?: LinkState): Send | undefined {
    const header =
      (msg.typeId === MSG.Video && isAvcSequenceHeader(payloadHead(msg))) ||
      (msg.typeId === MSG.Audio && isAacSequenceHeader(payloadHead(msg)));
    if (msg.typeId === MSG.DataAmf0) this.#metadata = msg;
    else if (header && msg.typeId === MSG.Video) this.#avcHeader = msg;
    else if (header) this.#aacHeader = msg;
    else this.#gop.keep(msg);
    if (!link) return undefined;
    if (msg.typeId === MSG.DataAmf0 || header) {
      // Before its first keyframe a restarted encoder's headers go at the timeline's current point: never back to 0.
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
      if (msg.typeId !== MSG.Video || !isVideoKeyframe(payloadHead(msg))) {
        if (msg.typeId === MSG.Video) this.droppedFrames++;
        return undefined;
      }
      if (this.#resumeFrom !== undefined) {
        this.#base = msg.timestamp - this.#resumeFrom;
        this.#resumeFrom = undefined;
      } else if (!this.#sentFrames) {
        this.#base = msg.timestamp;
      }
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
