import type { Destination } from '../platforms/destinations.js';
import type { Preset } from '../presets/schema.js';
import type { IngestAddress } from '../ingest/server.js';
import type { Source } from './source.js';

export interface PlanInput {
  preset: Preset;
  source: Source;
  destinations: Destination[];
  overrides?: {
    videoKbps?: number;
    audioKbps?: number;
    keyintSeconds?: number;
    sampleRate?: number;
    allowOverCap?: boolean;
  };
  durationMs?: number;
  record?: string;
  /** Sustained upload capacity (measured or given); each destination needs its own copy of the stream. */
  uplinkKbps?: number;
}

/** Share of the sustained uplink the whole stream may use, from the field: leave room for everything else. */
export const UPLINK_SHARE = 0.7;

/** What set the video bitrate: the preset, the user's flag, or a destination's cap. */
export interface BitrateBound {
  by: 'preset' | 'flag' | 'platform' | 'uplink';
  destination?: string;
  text: string;
}

export interface Plan {
  preset: string;
  source: Source;
  video: {
    width: number;
    height: number;
    fps: number;
    kbps: number;
    bufsizeKbps: number;
    keyintSeconds: number;
    keyintFrames: number;
    x264Preset: string;
    tune: string | null;
    profile: string;
  };
  audio: { kbps: number; sampleRate: number; channels: number };
  bitrate: BitrateBound;
  destinations: Destination[];
  durationMs?: number;
  record?: string;
  /** Things the user should know before going live (caps applied, rules a setting breaks). */
  notes: string[];
  /** The uplink's share per destination (video), when an uplink figure was known. */
  uplinkBudgetKbps?: number;
  /** The video bitrate fell below what the preset needs to look acceptable. */
  belowPresetMinimum: boolean;
  /** `--source listen`: where encoders publish, and the key they must give. */
  ingest?: IngestAddress;
  /** What plays while the source is lost, and for how long at most (0: the stream ends at once). */
  slate?: SlateChoice;
  /** `--copy`: an ingest goes out as the encoder sends it (no re-encoding); the plan's encode is the slate's. */
  copy?: boolean;
  /** The video bitrate follows the uplink (not with --no-adaptive-bitrate). */
  adaptiveBitrate?: boolean;
  /** How long with no destination struggling before it steps back up (RTMPUSH_BITRATE_UP_AFTER; default 60 s). */
  bitrateUpAfterMs?: number;
}

export interface SlateChoice {
  /** `--slate FILE` (absolute); else rtmpush's own card. */
  path?: string;
  /** Whether that file is a still image (held) rather than a video (looped). */
  image: boolean;
  timeoutMs: number;
}

const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

/** Options → plan. Pure: the encode is chosen to satisfy every destination at once. */
export function buildPlan(input: PlanInput): Plan {
  const { preset, destinations } = input;
  const notes: string[] = [];
  const limits = destinations.flatMap((d) => {
    return d.platform ? [{ label: d.label, platform: d.platform }] : [];
  });

  let width = preset.width;
  let height = preset.height;
  let fps = preset.fps;
  for (const { label, platform } of limits) {
    const scale = Math.min(
      1,
      platform.maxHeight ? platform.maxHeight / height : 1,
      platform.maxWidth ? platform.maxWidth / width : 1,
    );
    if (scale < 1) {
      width = even(width * scale);
      height = even(height * scale);
      notes.push(
        `resolution lowered to ${width}x${height} for ${label} ` +
          `(${platform.name} accepts at most ${platform.maxWidth ?? '?'}x${platform.maxHeight ?? '?'})`,
      );
    }
    if (platform.maxFps && fps > platform.maxFps) {
      fps = platform.maxFps;
      notes.push(`frame rate lowered to ${fps} for ${label} (${platform.name} accepts at most ${platform.maxFps} fps)`);
    }
  }

  const wanted = input.overrides?.videoKbps ?? preset.videoKbps;
  let bitrate: BitrateBound = input.overrides?.videoKbps
    ? { by: 'flag', text: `--video-bitrate ${wanted}k` }
    : { by: 'preset', text: `preset ${preset.name}` };
  let videoKbps = wanted;
  for (const { label, platform } of limits) {
    if (!platform.maxVideoKbps || platform.maxVideoKbps >= videoKbps) continue;
    if (input.overrides?.allowOverCap) {
      notes.push(
        `video ${videoKbps} kbps is above ${label}'s published cap ` +
          `(${platform.name}: ${platform.maxVideoKbps} kbps), kept by --allow-over-cap`,
      );
      continue;
    }
    videoKbps = platform.maxVideoKbps;
    bitrate = {
      by: 'platform',
      destination: label,
      text: `${label}: ${platform.name} caps video at ${platform.maxVideoKbps} kbps`,
    };
  }
  if (bitrate.by === 'platform') notes.push(`video bitrate capped at ${videoKbps} kbps (${bitrate.text})`);

  let audioKbps = input.overrides?.audioKbps ?? preset.audio.kbps;
  for (const { label, platform } of limits) {
    if (platform.maxAudioKbps && platform.maxAudioKbps < audioKbps) {
      audioKbps = platform.maxAudioKbps;
      notes.push(`audio bitrate capped at ${audioKbps} kbps for ${label} (${platform.name}'s limit)`);
    }
  }

  // Every destination that leaves the machine gets its own copy: N copies must fit in 70 % of the uplink.
  const remote = destinations.filter((d) => d.kind !== 'local').length;
  let uplinkBudgetKbps: number | undefined;
  if (input.uplinkKbps && remote > 0) {
    uplinkBudgetKbps = Math.floor((UPLINK_SHARE * input.uplinkKbps) / remote - audioKbps);
    if (uplinkBudgetKbps < videoKbps) {
      videoKbps = Math.max(0, uplinkBudgetKbps);
      const mbps = (k: number): string => (k / 1000).toFixed(1);
      bitrate = {
        by: 'uplink',
        text:
          `${remote} destination${remote === 1 ? '' : 's'} on a ${mbps(input.uplinkKbps)} Mbps uplink: ` +
          `${mbps(videoKbps)} Mbps video each (70 % rule)`,
      };
    }
  }

  const keyintSeconds = input.overrides?.keyintSeconds ?? 2;
  for (const { label, platform } of limits) {
    const max = platform.maxKeyframeSeconds;
    if (max && keyintSeconds > max) {
      notes.push(
        `keyframe every ${keyintSeconds} s: ${label} (${platform.name}) needs at most ${max} s ` +
          `— use --keyint ${max} or drop the flag`,
      );
    }
  }

  return {
    preset: preset.name,
    source: input.source,
    video: {
      width,
      height,
      fps,
      kbps: videoKbps,
      bufsizeKbps: videoKbps,
      keyintSeconds,
      keyintFrames: Math.max(1, Math.round(keyintSeconds * fps)),
      x264Preset: preset.x264.preset,
      tune: preset.x264.tune,
      profile: preset.x264.profile,
    },
    audio: {
      kbps: audioKbps,
      sampleRate: input.overrides?.sampleRate ?? preset.audio.sampleRate,
      channels: preset.audio.channels,
    },
    bitrate,
    destinations,
    durationMs: input.durationMs,
    record: input.record,
    notes,
    uplinkBudgetKbps,
    belowPresetMinimum: videoKbps < preset.minVideoKbps,
  };
}
