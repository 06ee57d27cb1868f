import { aacSilence } from '../rtmp/aac.js';
import { MSG, type RtmpMessage } from '../rtmp/message.js';

/** Steps outside this are not a frame's duration (a gap, a reordering): they do not move the running figure. */
export const MAX_STEP_MS = 200;
/** Audio waiting for its video: never more than this (a source whose pictures stall while its sound goes on). */
const MAX_QUEUED = 48;
/** The most silence put into a splice's hole (a new encoder whose sound starts seconds late is its own). */
const MAX_FILL_FRAMES = 100;

/**
 * A stream's audio on its timeline, for StreamTimeline: each frame waits until the video at its time has gone
 * (so the audio never runs ahead of the pictures, and an encoder cut off leaves no sound past its last picture);
 * a frame that would overlap the last one sent is dropped; after a splice, a hole before the next encoder's sound
 * is filled with frames of AAC silence, each one frame on. Pure.
 */
export class AudioTrack {
  #queue: RtmpMessage[] = [];
  /** The last frame sent (its time kept exact, not rounded to the ms, while silence is made). */
  #last = Number.NEGATIVE_INFINITY;
  #step = 1024 / 48;
  #lastIn: number | undefined;
  #silence: Buffer | undefined;
  #fillHole = false;

  constructor(private readonly out: (msg: RtmpMessage) => void) {}

  /** The stream's AAC header: what a frame of silence is for it. */
  header(payload: Buffer): void {
    this.#silence = aacSilence(payload);
  }

  /** A frame of the current leg at `at` on the timeline (its own time `msg.timestamp`): queued for its video. */
  arrive(msg: RtmpMessage, at: number): void {
    const raw = msg.timestamp;
    if (this.#lastIn !== undefined) {
      const step = raw - this.#lastIn;
      if (step > 0 && step < MAX_STEP_MS) this.#step += (step - this.#step) / 8;
    }
    this.#lastIn = raw;
    if (at < 0) return;
    msg.timestamp = at;
    this.#queue.push(msg);
    if (this.#queue.length > MAX_QUEUED) this.#send(this.#queue.shift()!);
  }

  /** The video is there up to `until`: the audio up to it goes too. */
  release(until: number): void {
    while (this.#queue.length > 0 && this.#queue[0]!.timestamp <= until) this.#send(this.#queue.shift()!);
  }

  /** Everything queued goes (the stream ends). */
  flush(): void {
    this.release(Number.POSITIVE_INFINITY);
  }

  /** A leg cut off: its sound past its last picture is dropped; the next leg's first frame closes the hole. */
  cut(): void {
    this.#queue = [];
    this.#lastIn = undefined;
    this.#fillHole = true;
  }

  #send(msg: RtmpMessage): void {
    const at = msg.timestamp;
    if (at < this.#last + this.#step / 2) return;
    if (this.#fillHole) this.#fill(at, msg);
    this.#last = at;
    this.out(msg);
  }

  /** The first frame after a splice: the hole before it (more than half a frame) is filled with silent frames. */
  #fill(at: number, like: RtmpMessage): void {
    this.#fillHole = false;
    const silence = this.#silence;
    if (!silence || !Number.isFinite(this.#last)) return;
    for (let n = 0; n < MAX_FILL_FRAMES && at - (this.#last + this.#step) >= this.#step / 2; n++) {
      this.#last += this.#step;
      const timestamp = Math.round(this.#last);
      this.out({ csid: like.csid, typeId: MSG.Audio, streamId: like.streamId, timestamp, payload: silence });
    }
  }
}
