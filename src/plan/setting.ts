import type { Destination } from '../platforms/destinations.js';
import type { Preset } from '../presets/schema.js';
import type { EncoderChoice, Fit } from './choices.js';

/** What set a video bitrate: the preset, the user's flag, the destination's own, a platform's cap, the uplink. */
export interface BitrateBound {
  by: 'preset' | 'flag' | 'destination' | 'platform' | 'uplink';
  destination?: string;
  text: string;
}

export interface VideoSetting {
  width: number;
  height: number;
  fps: number;
  kbps: number;
  bufsizeKbps: number;
  keyintSeconds: number;
  keyintFrames: number;
  x264Preset: string;
  tune: string | null;
  profile: 'baseline' | 'main' | 'high';
  /** How a source of another shape fills the frame. */
  fit: Fit;
  /** The H.264 encoder asked for (`auto`: the shell resolves it before starting). */
  encoder: EncoderChoice;
  /**
   * Its first frame out as soon as it can (the slate, on air within a second of a loss): x264 without lookahead,
   * its threads on slices. Unlike another tune, this changes nothing in the parameter sets.
   */
  lowDelay?: boolean;
  /** No B-frames (`--copy`'s slate, for an encoder that sends none: both then reorder alike at a swap). */
  noBFrames?: boolean;
}

export interface AudioSetting {
  kbps: number;
  sampleRate: number;
  channels: number;
}

/** The stream-wide choices: flags over the default preset. */
export interface StreamChoices {
  preset: Preset;
  /** The presets a destination may name (`--to NAME@PRESET`, a config destination's preset), by name. */
  presets?: ReadonlyMap<string, Preset>;
  overrides?: {
    videoKbps?: number;
    audioKbps?: number;
    keyintSeconds?: number;
    sampleRate?: number;
    allowOverCap?: boolean;
    fit?: Fit;
    encoder?: EncoderChoice;
  };
}

/** One destination's effective setting: its preset (or the stream's), capped by its own platform only. */
export interface DestinationSetting {
  preset: Preset;
  video: VideoSetting;
  audio: AudioSetting;
  bitrate: BitrateBound;
  /** What lowered something for this destination (resolution, frame rate, bitrates), in the user's words. */
  notes: string[];
}

const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

/**
 * A platform's published size limit is for a landscape picture (1920×1080): a portrait one is held to it turned
 * (its long side to the longer limit, its short side to the shorter).
 */
function sizeScale(width: number, height: number, maxWidth?: number, maxHeight?: number): number {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  return Math.min(1, maxWidth ? maxWidth / long : 1, maxHeight ? maxHeight / short : 1);
}

/** Pure: the setting `dest` gets, from its own preset / bitrate / encoder, the stream's choices and its platform. */
export function settingFor(dest: Destination, choices: StreamChoices): DestinationSetting {
  const { overrides = {} } = choices;
  const own = dest.own ?? {};
  const label = dest.label;
  const preset = own.preset ? choices.presets?.get(own.preset) : choices.preset;
  if (!preset) {
    const known = [...(choices.presets?.keys() ?? [])].join(', ');
    throw new Error(`unknown preset "${own.preset}" for ${label}: use one of ${known}`);
  }
  const notes: string[] = [];
  const platform = dest.platform;

  let width = preset.width;
  let height = preset.height;
  let fps = preset.fps;
  if (platform) {
    const scale = sizeScale(width, height, platform.maxWidth, platform.maxHeight);
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

  // its own bitrate, else its own preset's, else the flag, else the stream's preset
  let videoKbps: number;
  let bitrate: BitrateBound;
  if (own.videoKbps) {
    videoKbps = own.videoKbps;
    bitrate = { by: 'destination', destination: label, text: `${label}'s own videoBitrate ${videoKbps}k` };
  } else if (own.preset || overrides.videoKbps === undefined) {
    videoKbps = preset.videoKbps;
    bitrate = { by: 'preset', text: `preset ${preset.name}` };
  } else {
    videoKbps = overrides.videoKbps;
    bitrate = { by: 'flag', text: `--video-bitrate ${videoKbps}k` };
  }
  const cap = platform?.maxVideoKbps;
  if (platform && cap && cap < videoKbps) {
    if (overrides.allowOverCap) {
      notes.push(
        `video ${videoKbps} kbps is above ${label}'s published cap ` +
          `(${platform.name}: ${cap} kbps), kept by --allow-over-cap`,
      );
    } else {
      videoKbps = cap;
      bitrate = { by: 'platform', destination: label, text: `${label}: ${platform.name} caps video at ${cap} kbps` };
      notes.push(`video bitrate capped at ${videoKbps} kbps (${bitrate.text})`);
    }
  }

  let audioKbps = overrides.audioKbps ?? preset.audio.kbps;
  if (platform?.maxAudioKbps && platform.maxAudioKbps < audioKbps) {
    audioKbps = platform.maxAudioKbps;
    notes.push(`audio bitrate capped at ${audioKbps} kbps for ${label} (${platform.name}'s limit)`);
  }

  const keyintSeconds = overrides.keyintSeconds ?? 2;
  const maxKey = platform?.maxKeyframeSeconds;
  if (platform && maxKey && keyintSeconds > maxKey) {
    notes.push(
      `keyframe every ${keyintSeconds} s: ${label} (${platform.name}) needs at most ${maxKey} s ` +
        `— use --keyint ${maxKey} or drop the flag`,
    );
  }

  return {
    preset,
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
      fit: overrides.fit ?? preset.fit ?? 'pad',
      encoder: own.encoder ?? overrides.encoder ?? preset.encoder ?? 'auto',
    },
    audio: {
      kbps: audioKbps,
      sampleRate: overrides.sampleRate ?? preset.audio.sampleRate,
      channels: preset.audio.channels,
    },
    bitrate,
    notes,
  };
}

/** Two destinations with equal settings share one encode. */
export function settingKey(s: Pick<DestinationSetting, 'video' | 'audio'>): string {
  return JSON.stringify([s.video, s.audio]);
}
