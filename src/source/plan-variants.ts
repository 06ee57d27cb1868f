import { encoderOf } from '../ffmpeg/argv.js';
import type { CopiedStream } from '../ingest/copy-check.js';
import { mapEncodes, type Plan } from '../plan/plan.js';
import { fasterBy, sizeBy } from '../adapt/speed-watch.js';

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

/**
 * `--copy`: the slate encoded as the encoder's stream is (size, frame rate, keyframes, bitrate, audio rate, B-frames
 * or none).
 */
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
      // an encoder that sends no B-frames gets a slate without them: at a swap both reorder alike
      ...(stream.reorders ? {} : { noBFrames: true }),
    },
    audio: {
      ...e.audio,
      sampleRate: stream.audioSampleRate === 44100 ? 44100 : 48000,
      channels: stream.audioChannels ?? 2,
    },
  }));
}
