import type { Destination } from '../platforms/destinations.js';
import type { Secret } from '../secret.js';
import type { Source } from './source.js';
import { type Encode, groupEncodes, regroup, shareUplink, UPLINK_SHARE, usesUplink } from './encodes.js';
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
  /** Where the uplink figure came from (`measured to … at …`, `given with --uplink`), said when it bounds. */
  uplinkFrom?: string;
  /** Said first when a destination leaves the machine: why a cached figure was not applied. */
  uplinkNotice?: string;
  ingest?: IngestAddress;
  slate?: SlateChoice;
  copy?: boolean;
  adaptiveBitrate?: boolean;
  bitrateUpAfterMs?: number;
}

export { UPLINK_SHARE };
export type { BitrateBound, Encode };

/** What a stream does, built whole by buildPlan and never changed after: a variant is a new plan. */
export interface Plan {
  /** The main encode's preset (the first destination's). */
  readonly preset: string;
  readonly source: Source;
  /** What the settings were made from (a destination added later is matched to an encode with them). */
  readonly choices: StreamChoices;
  /** One per distinct setting, in one ffmpeg process; the first is the main one (`video`, `audio` below). */
  readonly encodes: readonly Encode[];
  /** The main encode's video, audio and what bound its bitrate (the stream's, when there is one encode). */
  readonly video: VideoSetting;
  readonly audio: AudioSetting;
  readonly bitrate: BitrateBound;
  readonly destinations: readonly Destination[];
  readonly durationMs?: number;
  readonly record?: string;
  /** Things the user should know before going live (caps applied, rules a setting breaks). */
  readonly notes: readonly string[];
  /** The main encode's video share of the uplink, when an uplink figure was known. */
  readonly uplinkBudgetKbps?: number;
  /** Some encode's video bitrate fell below what its preset needs to look acceptable. */
  readonly belowPresetMinimum: boolean;
  /** `--source listen`: where encoders publish, and the key they must give. */
  readonly ingest?: IngestAddress;
  /** What plays while the source is lost, and for how long at most (0: the stream ends at once). */
  readonly slate?: SlateChoice;
  /** `--copy`: an ingest goes out as the encoder sends it (no re-encoding); the plan's encode is the slate's. */
  readonly copy?: boolean;
  /** The video bitrate follows the uplink (not with --no-adaptive-bitrate). */
  readonly adaptiveBitrate?: boolean;
  /** How long with no destination struggling before it steps back up (RTMPUSH_BITRATE_UP_AFTER; default 60 s). */
  readonly bitrateUpAfterMs?: number;
}

/** `--source listen`: where encoders publish to rtmpush, and the key they must give. */
export interface IngestAddress {
  host: string;
  port: number;
  /** RTMPUSH_INGEST_KEY: the stream key a publish must give; any key when unset. */
  key?: Secret;
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
  const leaves = destinations.some((d) => usesUplink(d, input.loopbackUsesUplink));
  if (input.uplinkKbps !== undefined && !leaves && destinations.some((d) => d.kind !== 'local'))
    notes.push(
      'the uplink caps nothing here: every destination is on this machine (local or a loopback address); ' +
        'a local relay or tunnel that forwards over the uplink counts with RTMPUSH_UPLINK_LOOPBACK=count',
    );
  if (input.record && encodes.length > 1)
    notes.push(`--record records ${encodeText(encodes[0]!)} (the first destination's encode)`);
  if (input.uplinkFrom && encodes[0]!.bitrate.by === 'uplink')
    notes.unshift(`${encodes[0]!.bitrate.text} — uplink ${input.uplinkFrom}`);
  // a cached figure that is not applied here is said once, where the bitrate is explained (not when nothing leaves)
  if (input.uplinkNotice && leaves) notes.unshift(input.uplinkNotice);
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
      ...(input.ingest ? { ingest: input.ingest } : {}),
      ...(input.slate ? { slate: input.slate } : {}),
      ...(input.copy ? { copy: true } : {}),
      ...(input.adaptiveBitrate !== undefined ? { adaptiveBitrate: input.adaptiveBitrate } : {}),
      ...(input.bitrateUpAfterMs !== undefined ? { bitrateUpAfterMs: input.bitrateUpAfterMs } : {}),
    },
    encodes,
  );
}

/** An encode in a few words: `e2 720x1280@30 1500k → tiktok`. */
export function encodeText(e: Encode): string {
  const v = e.video;
  return `${e.id} ${v.width}x${v.height}@${v.fps} ${v.kbps}k → ${e.destinations.join(', ')}`;
}

/** The plan with these notes first (advice found once it was built: a bitrate under its preset's needs). */
export function withNotesFirst(plan: Plan, notes: readonly string[]): Plan {
  return notes.length === 0 ? plan : { ...plan, notes: [...notes, ...plan.notes] };
}

/** The plan with its encodes replaced (each changed by `fn`): the main encode's figures follow the first. */
export function mapEncodes(plan: Plan, fn: (e: Encode, index: number) => Encode): Plan {
  return withEncodes(plan, plan.encodes.map(fn));
}

/** Before a stream starts: encodes that came out equal (the encoder resolved) are merged, encoders renumbered. */
export function regroupEncodes(plan: Plan): Plan {
  return withEncodes(plan, regroup(plan.encodes));
}

function withEncodes(plan: Plan, encodes: readonly Encode[]): Plan {
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
