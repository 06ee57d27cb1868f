import { compositionOffset, headerKind, mediaKind } from '../rtmp/flv.js';
import type { RtmpMessage } from '../rtmp/message.js';
import { AudioTrack, MAX_STEP_MS } from './audio-track.js';
import { PictureGroups } from './picture-groups.js';

/** Audio of a new leg from before its first keyframe, kept to fill the splice (about a second of AAC frames). */
const HELD_AUDIO = 48;

/**
 * The stream's one timeline across every encoder that feeds it. Each new encoder (a restart, the slate, the source
 * back, a bitrate or speed step) starts its clock at its own zero; its leg is spliced on where the stream is:
 * - its first keyframe goes one frame after the last video frame sent (frames before it are dropped), and
 *   everything after it keeps its own spacing, so audio and video stay in sync as the encoder made them;
 * - its audio goes on from one audio frame after the last sent (see AudioTrack): audio from just before its keyframe
 *   fills what would otherwise be a hole, and frames of AAC silence what is left of one;
 * - its codec headers go on only if they differ from the stream's (the same parameter sets are not announced
 *   twice), and its end of sequence (ffmpeg writes one as it ends) only if the stream ends with it (see `end`).
 * Video goes out in whole picture groups (see PictureGroups), so a leg cut off mid-group ends on frames that can all
 * be shown. The first leg is placed as it comes. Pure: messages in, messages out with their timestamps set.
 */
export class StreamTimeline {
  #placedAny = false;
  #splicing = true;
  #offset = 0;
  /** The last video frame sent: when it is decoded, and the latest any frame sent is shown. */
  #lastVideo = 0;
  #lastShown = 0;
  #videoStep: number;
  #lastVideoIn: number | undefined;
  /** A new leg's headers and recent audio, until its first keyframe. */
  #held: RtmpMessage[] = [];
  /** The headers the stream has had (each kind's latest payload). */
  readonly #headers = new Map<string, Buffer>();
  #ending = false;
  /** The current leg's end of sequence, held: it goes out only if the stream ends with this leg. */
  #endOfSequence: RtmpMessage | undefined;

  readonly #groups = new PictureGroups();
  readonly #audio: AudioTrack;

  /**
   * `fps`: the frame rate a leg's video is expected at, until its own steps say; `out` takes each message placed,
   * its timestamp set to its place on the timeline.
   */
  constructor(
    fps: number,
    private readonly out: (msg: RtmpMessage) => void,
  ) {
    this.#videoStep = 1000 / fps;
    this.#audio = new AudioTrack(out);
  }

  /** A new encoder's leg: from its first keyframe on, it is the stream. */
  beginLeg(): void {
    this.#groups.cut();
    this.#audio.cut();
    this.#endOfSequence = undefined;
    this.#splicing = true;
    this.#held = [];
    this.#lastVideoIn = undefined;
  }

  /** The stream is ending: the last encoder's own end of sequence goes out after its last frame. */
  end(): void {
    this.#ending = true;
    this.#groups.flush(this.#release);
    this.#audio.flush();
    const held = this.#endOfSequence;
    this.#endOfSequence = undefined;
    if (held) this.place(held);
  }

  /** Passes `msg` on, its timestamp its place on the timeline; or holds it (the splice, its group); or drops it. */
  place(msg: RtmpMessage): void {
    const kind = mediaKind(msg);
    if (kind === 'other') return;
    if (kind === 'end') {
      if (this.#splicing) return;
      if (!this.#ending) {
        this.#endOfSequence = msg;
        return;
      }
      msg.timestamp = this.#lastVideo;
      return this.out(msg);
    }
    if (this.#splicing) {
      if (kind === 'keyframe') return this.#splice(msg);
      if (headerKind(msg) || kind === 'audio') this.#hold(msg);
      return;
    }
    const header = headerKind(msg);
    if (header) return this.#header(header, msg, this.#lastVideo);
    if (kind === 'audio') return this.#audio.arrive(msg, msg.timestamp + this.#offset);
    this.#observeVideo(msg.timestamp);
    msg.timestamp = Math.max(0, msg.timestamp + this.#offset);
    this.#groups.push(msg, this.#videoStep, this.#release);
  }

  /** A video frame let out (its group complete): the stream's pictures are there now, and the audio up to them. */
  readonly #release = (msg: RtmpMessage): void => {
    this.#lastVideo = Math.max(this.#lastVideo, msg.timestamp);
    this.#lastShown = Math.max(this.#lastShown, msg.timestamp + compositionOffset(msg));
    this.out(msg);
    this.#audio.release(this.#lastShown + this.#videoStep);
  };

  /**
   * The new leg's first keyframe: decoded a frame after the last one decoded, and shown no sooner than a frame after
   * the last one shown. Encoders that reorder alike (the same settings) keep both a frame apart; into one that
   * reorders less (x264 without B-frames after x264 with them) it is decoded later, so no picture goes back; into
   * one that reorders more it is shown later by the difference. The leg goes on from it.
   */
  #splice(key: RtmpMessage): void {
    const first = !this.#placedAny;
    this.#offset = first ? 0 : this.#lastVideo + this.#decodingStep(compositionOffset(key)) - key.timestamp;
    this.#placedAny = true;
    this.#splicing = false;
    const at = Math.max(0, key.timestamp + this.#offset);
    const held = this.#held;
    this.#held = [];
    for (const msg of held) {
      const header = headerKind(msg);
      if (header) this.#header(header, msg, first ? msg.timestamp : at);
    }
    for (const msg of held) if (!headerKind(msg)) this.#audio.arrive(msg, msg.timestamp + this.#offset);
    this.#observeVideo(key.timestamp);
    key.timestamp = at;
    this.#groups.push(key, this.#videoStep, this.#release);
  }

  /**
   * How long after the last frame decoded the new keyframe is decoded: a frame's length rounded down or up,
   * whichever shows it nearer a frame after the last picture; longer if it would be shown before that.
   */
  #decodingStep(offset: number): number {
    const step = this.#videoStep;
    // how much later than the old leg's last frames the new keyframe is shown for being decoded (its reordering)
    const later = offset - (this.#lastShown - this.#lastVideo);
    const [down, up] = [Math.floor(step), Math.ceil(step)];
    const best = Math.abs(down + later - step) <= Math.abs(up + later - step) ? down : up;
    return Math.max(best, Math.floor(step) - later);
  }

  #hold(msg: RtmpMessage): void {
    // a header held once per kind (the latest), so what a leg sends before its keyframe stays bounded
    const kind = headerKind(msg);
    if (kind) {
      const same = this.#held.findIndex((m) => headerKind(m) === kind);
      if (same >= 0) this.#held.splice(same, 1);
    }
    this.#held.push(msg);
    let audio = 0;
    for (const m of this.#held) if (!headerKind(m)) audio++;
    if (audio > HELD_AUDIO)
      this.#held.splice(
        this.#held.findIndex((m) => !headerKind(m)),
        1,
      );
  }

  /** A header the stream already has is not sent again; a new one goes at `at`. */
  #header(kind: string, msg: RtmpMessage, at: number): void {
    const payload = msg.payload;
    if (this.#headers.get(kind)?.equals(payload)) return;
    this.#headers.set(kind, payload);
    if (kind === 'audio') this.#audio.header(payload);
    msg.timestamp = Math.max(0, at);
    this.out(msg);
  }

  /** A running figure of the video's frame duration, from the leg's own steps (ms timestamps: 33, 34, 33, …). */
  #observeVideo(raw: number): void {
    if (this.#lastVideoIn !== undefined) {
      const step = raw - this.#lastVideoIn;
      if (step > 0 && step < MAX_STEP_MS) this.#videoStep += (step - this.#videoStep) / 8;
    }
    this.#lastVideoIn = raw;
  }
}
