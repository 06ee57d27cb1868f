import type { Platform } from '../platforms/table.js';
import { decodeAmf0 } from '../rtmp/amf0.js';
import { compositionOffset, headerKind, mediaKind } from '../rtmp/flv.js';
import { MSG, payloadHead, payloadLength, type RtmpMessage } from '../rtmp/message.js';

/** What the encoder sends, as far as `--copy` needs it: from its metadata, headers and first two keyframes. */
export interface CopiedStream {
  width?: number;
  height?: number;
  fps?: number;
  /** Seconds between its first two keyframes. */
  keyintS: number;
  /** Video kbps over that first GOP. */
  videoKbps: number;
  audioSampleRate?: number;
  audioChannels?: number;
  /** It sends B-frames (frames shown later than decoded), as its first GOP showed. */
  reorders: boolean;
}

export type CopyVerdict =
  | {
      ok: true;
      stream: CopiedStream /** From the first keyframe on: what the destinations start with. */;
      held: RtmpMessage[];
    }
  | { ok: false; problems: string[] };

const H264 = 7;
/** Destinations that are not platforms (any RTMP server) have no rule; a GOP longer than this is still refused. */
const ANY_SERVER_KEYINT_S = 10;
const AAC = 10;
/** What is held while judging: a few seconds of a high-bitrate stream; a publisher past it is refused. */
const HOLD_BYTES = 32 * 1024 * 1024;

/**
 * `--copy`: the publisher's stream goes to the platforms as it is, so it must already meet their rules. Judged from
 * its headers and first keyframes (H.264 + AAC, the keyframe interval, resolution, frame rate, bitrate); each
 * problem comes with the fix in the encoder's words (OBS's settings). Holds what it saw from the first keyframe
 * on, so nothing is lost while judging.
 */
export class CopyCheck {
  readonly #held: RtmpMessage[] = [];
  #heldBytes = 0;
  #meta: Record<string, unknown> = {};
  #videoCodec: number | undefined;
  #audioFormat: number | undefined;
  #firstKey: number | undefined;
  #gopBytes = 0;
  #reorders = false;
  #verdict: CopyVerdict | undefined;

  constructor(private readonly platforms: Platform[]) {}

  /** The strictest keyframe interval the chosen platforms accept, in seconds. */
  get maxKeyintS(): number {
    if (this.platforms.length === 0) return ANY_SERVER_KEYINT_S;
    return Math.min(...this.platforms.map((p) => p.maxKeyframeSeconds ?? p.keyframeSeconds ?? 2));
  }

  /** One message from the publisher; the verdict once there is one. */
  push(msg: RtmpMessage): CopyVerdict | undefined {
    if (this.#verdict) return this.#verdict;
    const kind = headerKind(msg);
    if (kind === 'meta') this.#meta = metadata(msg.payload);
    const head = payloadHead(msg);
    if (msg.typeId === MSG.Video && head.length > 0) this.#videoCodec ??= head[0]! & 0x0f;
    if (msg.typeId === MSG.Audio && head.length > 0) this.#audioFormat ??= head[0]! >> 4;
    const key = mediaKind(msg) === 'keyframe';
    if (this.#videoCodec !== undefined && this.#videoCodec !== H264) return this.#judge(undefined);
    if (this.#firstKey === undefined && !key && !kind) return undefined;
    const bytes = payloadLength(msg);
    this.#held.push(msg);
    if (compositionOffset(msg) !== 0) this.#reorders = true;
    this.#heldBytes += bytes;
    if (key && this.#firstKey === undefined) {
      this.#firstKey = msg.timestamp;
      this.#gopBytes = bytes;
      return undefined;
    }
    if (this.#firstKey === undefined) return undefined;
    const since = (msg.timestamp - this.#firstKey) / 1000;
    if (key) return this.#judge(since);
    if (msg.typeId === MSG.Video) this.#gopBytes += bytes;
    // no second keyframe within what the platforms accept (and a frame's slack): judged as that long
    if (since > this.maxKeyintS + 0.5 || this.#heldBytes > HOLD_BYTES) return this.#judge(since);
    return undefined;
  }

  #judge(keyintS: number | undefined): CopyVerdict {
    const problems: string[] = [];
    const m = this.#meta;
    const num = (k: string): number | undefined =>
      typeof m[k] === 'number' && (m[k] as number) > 0 ? (m[k] as number) : undefined;
    if (this.#videoCodec !== H264)
      problems.push(
        'the video is not H.264: set OBS → Settings → Output → Video Encoder to x264 (or another H.264 encoder)',
      );
    if (this.#audioFormat !== undefined && this.#audioFormat !== AAC)
      problems.push('the audio is not AAC: set OBS → Settings → Output → Audio Encoder to AAC');
    const stream: CopiedStream = {
      width: num('width'),
      height: num('height'),
      fps: num('framerate'),
      keyintS: keyintS ?? 0,
      videoKbps: keyintS ? Math.round((this.#gopBytes * 8) / keyintS / 1000) : 0,
      reorders: this.#reorders,
      audioSampleRate: num('audiosamplerate'),
      audioChannels: m.stereo === false ? 1 : 2,
    };
    if (keyintS !== undefined && keyintS > this.maxKeyintS + 0.05)
      problems.push(
        `a keyframe every ${keyintS.toFixed(1)} s or more: set OBS → Settings → Output → Keyframe Interval to ` +
          `${this.maxKeyintS} s`,
      );
    for (const p of this.platforms) {
      if ((p.maxWidth && (stream.width ?? 0) > p.maxWidth) || (p.maxHeight && (stream.height ?? 0) > p.maxHeight))
        problems.push(
          `${stream.width}x${stream.height} is over ${p.name}'s ${p.maxWidth ?? '∞'}x${p.maxHeight ?? '∞'}: ` +
            'set OBS → Settings → Video → Output (Scaled) Resolution to at most that',
        );
      if (p.maxFps && (stream.fps ?? 0) > p.maxFps * 1.01)
        problems.push(
          `${stream.fps} fps is over ${p.name}'s ${p.maxFps}: set OBS → Settings → Video → FPS to ${p.maxFps}`,
        );
      if (p.maxVideoKbps && stream.videoKbps > p.maxVideoKbps * 1.25)
        problems.push(
          `about ${stream.videoKbps} kbps of video is over ${p.name}'s ${p.maxVideoKbps}: set OBS → Settings → ` +
            `Output → Video Bitrate to at most ${p.maxVideoKbps} Kbps (CBR)`,
        );
    }
    const unique = [...new Set(problems)];
    this.#verdict =
      unique.length === 0 ? { ok: true, stream, held: this.#held.splice(0) } : { ok: false, problems: unique };
    return this.#verdict;
  }
}

/** onMetaData's object (after `@setDataFrame`, if there), or nothing. */
function metadata(payload: Buffer): Record<string, unknown> {
  try {
    const values = decodeAmf0(payload);
    const object = values.find((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date));
    return (object as Record<string, unknown>) ?? {};
  } catch {
    return {};
  }
}
