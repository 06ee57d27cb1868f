import type { Destination } from '../platforms/destinations.js';
import type { IngestAddress } from '../ingest/server.js';
import type { Source } from './source.js';
import { type Encode, groupEncodes, regroup, shareUplink, UPLINK_SHARE } from './encodes.js';
import { type AudioSetting, type BitrateBound, settingFor, type StreamChoices, type VideoSetting } from './setting.js';

export interface PlanInput extends StreamChoices {
  source: Source;
  destinations: Destination[];
  durationMs?: number;
  record?: string;
  /** Sustained upload capacity (measured or given); each destination that leaves the machine needs its own copy. */
  uplinkKbps?: number;
  /** Loopback servers count as using the uplink (RTMPUSH_UPLINK_LOOPBACK=count: tests behind a shaped loopback). */
  loopbackUsesUplink?: boolean;
}

export { UPLINK_SHARE };
export type { BitrateBound, Encode };

export interface Plan {
  /** The main encode's preset (the first destination's). */
  preset: string;
  source: Source;
  /** What the settings were made from (a destination added later is matched to an encode with them). */
  choices: StreamChoices;
  /** One per distinct setting, in one ffmpeg process; the first is the main one (`video`, `audio` below). */
  encodes: Encode[];
  /** The main encode's video, audio and what bound its bitrate (the stream's, when there is one encode). */
  video: VideoSetting;
  audio: AudioSetting;
  bitrate: BitrateBound;
  destinations: Destination[];
  durationMs?: number;
  record?: string;
  /** Things the user should know before going live (caps applied, rules a setting breaks). */
  notes: string[];
  /** The main encode's video share of the uplink, when an uplink figure was known. */
  uplinkBudgetKbps?: number;
  /** Some encode's video bitrate fell below what its preset needs to look acceptable. */
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

/** Options → plan. Pure: each destination gets its own setting; equal settings share one encode. */
export function buildPlan(input: PlanInput): Plan {
  const { destinations } = input;
  const grouped = groupEncodes(destinations, input);
  const encodes = regroup(shareUplink(grouped, destinations, input.uplinkKbps, input.loopbackUsesUplink));
  const notes = [...new Set(destinations.flatMap((d) => settingFor(d, input).notes))];
  const videoEncoders = new Set(encodes.map((e) => e.videoIndex)).size;
  if (videoEncoders > 1) {
    notes.push(
      `${videoEncoders} video encodes in one ffmpeg process (${encodes.map(encodeText).join('; ')}): ` +
        'each costs its own CPU',
    );
  }
  return withEncodes(
    {
      preset: encodes[0]!.preset,
      source: input.source,
      choices: { preset: input.preset, presets: input.presets, overrides: input.overrides },
      encodes,
      video: encodes[0]!.video,
      audio: encodes[0]!.audio,
      bitrate: encodes[0]!.bitrate,
      destinations,
      durationMs: input.durationMs,
      record: input.record,
      notes,
      belowPresetMinimum: false,
    },
    encodes,
  );
}

/** An encode in a few words: `e2 720x1280@30 1500k → tiktok`. */
export function encodeText(e: Encode): string {
  const v = e.video;
  return `${e.id} ${v.width}x${v.height}@${v.fps} ${v.kbps}k → ${e.destinations.join(', ')}`;
}

/** The plan with its encodes replaced (each changed by `fn`): the main encode's figures follow the first. */
export function mapEncodes(plan: Plan, fn: (e: Encode, index: number) => Encode): Plan {
  return withEncodes(plan, plan.encodes.map(fn));
}

/** Before a stream starts: encodes that came out equal (the encoder resolved) are merged, encoders renumbered. */
export function regroupEncodes(plan: Plan): Plan {
  return withEncodes(plan, regroup(plan.encodes));
}

function withEncodes(plan: Plan, encodes: Encode[]): Plan {
  const main = encodes[0]!;
  return {
    ...plan,
    encodes,
    preset: main.preset,
    video: main.video,
    audio: main.audio,
    bitrate: main.bitrate,
    uplinkBudgetKbps: main.uplinkShareKbps,
    belowPresetMinimum: encodes.some((e) => e.belowPresetMinimum),
  };
}
