import type { RtmpMessage } from '../rtmp/message.js';

/** A track's timestamp may step forward at most this much: a jump (a publisher's clock reset) becomes this. */
const MAX_STEP_MS = 1000;

/**
 * A publisher's timestamps made safe to pass on: each track's only rise, by at most a second a step, from 0 at its
 * first message (a jump of minutes would be minutes of frames to an encoder, or a hole at the platform; a step back
 * would be frames out of order).
 */
export class TrackClock {
  /** Per track (type id): the last timestamp in, and the one it was written as. */
  readonly #tracks = new Map<number, { in: number; out: number }>();
  #base: number | undefined;

  /** Whether a message was timed yet (the first sets the clock's 0). */
  get started(): boolean {
    return this.#base !== undefined;
  }

  /** The timestamp to write a message at: its track's last, plus its step clamped to [0, 1 s]. */
  time(msg: RtmpMessage): number {
    this.#base ??= msg.timestamp;
    const track = this.#tracks.get(msg.typeId);
    const out = track
      ? track.out + Math.min(MAX_STEP_MS, Math.max(0, msg.timestamp - track.in))
      : Math.min(this.latest + MAX_STEP_MS, Math.max(0, msg.timestamp - this.#base));
    this.#tracks.set(msg.typeId, { in: msg.timestamp, out });
    return out;
  }

  /** The latest timestamp written on any track (where a header goes). */
  get latest(): number {
    let latest = 0;
    for (const t of this.#tracks.values()) latest = Math.max(latest, t.out);
    return latest;
  }
}
