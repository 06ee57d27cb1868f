import type { CopiedStream } from '../ingest/copy-check.js';
import { mapEncodes, type Plan } from '../plan/plan.js';
import { fasterBy, sizeBy } from './speed-watch.js';
import { encoderOf } from '../ffmpeg/argv.js';
import type { Source } from '../plan/source.js';
import type { CopyRun } from '../ingest/copy-run.js';
import type { EncoderRun } from './encoder-run.js';
import type { FfmpegExit } from './ffmpeg-process.js';

/**
 * The plan with its main encode at another video bitrate (the buffer scaled with it); other encodes are scaled in
 * the same proportion (they share the uplink that asked for it).
 */
export function withVideoKbps(plan: Plan, kbps: number): Plan {
  if (kbps === plan.video.kbps) return plan;
  const ratio = kbps / plan.video.kbps;
  return mapEncodes(plan, (e, i) => {
    const to = i === 0 ? kbps : Math.max(1, Math.round(e.video.kbps * ratio));
    return { ...e, video: { ...e.video, kbps: to, bufsizeKbps: Math.round(e.video.bufsizeKbps * ratio) } };
  });
}

/**
 * The plan with every x264 encode `steps` speeds faster than its own (the machine could not carry the plan); steps
 * past the main encode's ultrafast make every picture smaller (×2/3 a side each).
 */
export function withX264Steps(plan: Plan, steps: number): Plan {
  const size = sizeBy(plan.video.x264Preset, steps);
  const even = (n: number): number => Math.max(2, Math.round((n * size) / 2) * 2);
  return mapEncodes(plan, (e) =>
    encoderOf(e.video) === 'x264'
      ? {
          ...e,
          video: {
            ...e.video,
            x264Preset: fasterBy(e.video.x264Preset, steps),
            width: even(e.video.width),
            height: even(e.video.height),
          },
        }
      : e,
  );
}

/** The plan with every encode's x264 tuned so (the slate: its first frame out at once). */
export function withTune(plan: Plan, tune: string): Plan {
  return mapEncodes(plan, (e) => ({ ...e, video: { ...e.video, tune } }));
}

/** Why a source's encoder ended, as the user reads it: ffmpeg's last error (keys redacted), else how it exited. */
export function lossReason(run: EncoderRun | CopyRun, exit: FfmpegExit): string {
  if (run.lastError) return run.lastError.replace(/^(\[[^\]]*\]\s*)+/, '');
  return exit.signal ? `the encoder was stopped (${exit.signal})` : `the encoder ended (exit ${exit.exitCode})`;
}

/** `--copy`: the slate encoded as the encoder's stream is (size, frame rate, keyframes, bitrate, audio rate). */
export function slatePlanFor(plan: Plan, stream: CopiedStream): Plan {
  const fps = stream.fps ? Math.round(stream.fps) : plan.video.fps;
  const keyintSeconds = stream.keyintS > 0 ? Math.round(stream.keyintS * 2) / 2 : plan.video.keyintSeconds;
  const kbps = stream.videoKbps > 0 ? Math.max(300, stream.videoKbps) : plan.video.kbps;
  const even = (n: number | undefined, fallback: number): number => (n ? Math.round(n / 2) * 2 : fallback);
  // --copy has one encode (refused with per-destination settings): the slate is that one, as the stream is
  return mapEncodes(plan, (e) => ({
    ...e,
    video: {
      ...e.video,
      width: even(stream.width, plan.video.width),
      height: even(stream.height, plan.video.height),
      fps,
      kbps,
      bufsizeKbps: kbps,
      keyintSeconds,
      keyintFrames: Math.round(fps * keyintSeconds),
    },
    audio: {
      ...e.audio,
      sampleRate: stream.audioSampleRate === 44100 ? 44100 : 48000,
      channels: stream.audioChannels ?? 2,
    },
  }));
}

/** A source silent this long is lost, at the least; never judged on more than the longest. */
const SILENCE_FLOOR_MS = 1000;
const SILENCE_LONGEST_MS = 8000;

/**
 * When a URL, camera or screen that gives no frames counts as lost: after 1 s for a steady source (its leg is read
 * at least every ~0.4 s while frames flow), or 2.5 times the longest pause it has made and come back from (HLS
 * and other bursty sources deliver a segment at a time), up to 8 s; an http(s) source starts at 8 s.
 */
export class SilenceJudge {
  readonly #floorMs: number;
  #lastFedAt = 0;
  #longestGapMs = 0;

  constructor(source: Source) {
    this.#floorMs = source.kind === 'url' && /^https?:/i.test(source.url) ? SILENCE_LONGEST_MS : SILENCE_FLOOR_MS;
  }

  /** `fedAt`: when the feed last got a frame; `now`: the same clock. Seconds of silence once lost, else 0. */
  judge(fedAt: number, now: number): number {
    if (fedAt !== this.#lastFedAt) {
      const gap = fedAt - this.#lastFedAt;
      if (this.#lastFedAt > 0 && gap < SILENCE_LONGEST_MS) this.#longestGapMs = Math.max(this.#longestGapMs, gap);
      this.#lastFedAt = fedAt;
    }
    const limit = Math.min(SILENCE_LONGEST_MS, Math.max(this.#floorMs, 2.5 * this.#longestGapMs));
    return now - fedAt > limit ? Math.round(limit / 100) / 10 : 0;
  }
}
