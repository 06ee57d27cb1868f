import type { Destination } from '../platforms/destinations.js';
import {
  type AudioSetting,
  type BitrateBound,
  type DestinationSetting,
  settingFor,
  settingKey,
  type StreamChoices,
  type VideoSetting,
} from './setting.js';

/** Share of the sustained uplink the whole stream may use, from the field: leave room for everything else. */
export const UPLINK_SHARE = 0.7;

/** One encode in the ffmpeg process: a setting and the destinations that get it. */
export interface Encode {
  /** `e1`, `e2`, … in the order of the destinations that first asked for them. */
  id: string;
  /** Its settings as asked (before the uplink's share, with the encoder as chosen): a destination added later with
   * an equal one joins it. */
  keys: string[];
  preset: string;
  video: VideoSetting;
  audio: AudioSetting;
  /** Which video encoder it carries: encodes that agree on the video share one (their audio differs). */
  videoIndex: number;
  /** Which audio encoder it carries: encodes that agree on the audio share one. */
  audioIndex: number;
  bitrate: BitrateBound;
  destinations: string[];
  /** For each of its destinations, what bound its setting. */
  boundBy: Record<string, string>;
  /** Its video's share of the uplink, when an uplink figure was known and its destinations leave the machine. */
  uplinkShareKbps?: number;
  /** Its video bitrate fell below what its preset needs to look acceptable. */
  belowPresetMinimum: boolean;
  minVideoKbps: number;
}

/** 127.0.0.0/8, ::1, localhost: a destination there does not leave the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1';
}

/** Whether what is sent to `dest` crosses the uplink (`local` and loopback servers do not, unless told). */
export function usesUplink(dest: Destination, loopbackUsesUplink = false): boolean {
  if (dest.kind === 'local') return false;
  return loopbackUsesUplink || !isLoopbackHost(dest.endpoint.host);
}

function boundText(s: DestinationSetting): string {
  return s.bitrate.text;
}

/** Pure: every destination's setting, grouped: equal settings share one encode. */
export function groupEncodes(destinations: Destination[], choices: StreamChoices): Encode[] {
  const encodes = new Map<string, Encode>();
  const videos: string[] = [];
  const audios: string[] = [];
  for (const dest of destinations) {
    const s = settingFor(dest, choices);
    const key = settingKey(s);
    const found = encodes.get(key);
    if (found) {
      found.destinations.push(dest.label);
      found.boundBy[dest.label] = boundText(s);
      continue;
    }
    const audioKey = JSON.stringify(s.audio);
    if (!audios.includes(audioKey)) audios.push(audioKey);
    const videoKey = JSON.stringify(s.video);
    if (!videos.includes(videoKey)) videos.push(videoKey);
    encodes.set(key, {
      id: `e${encodes.size + 1}`,
      keys: [key],
      preset: s.preset.name,
      video: s.video,
      audio: s.audio,
      videoIndex: videos.indexOf(videoKey),
      audioIndex: audios.indexOf(audioKey),
      bitrate: s.bitrate,
      destinations: [dest.label],
      boundBy: { [dest.label]: boundText(s) },
      belowPresetMinimum: s.video.kbps < s.preset.minVideoKbps,
      minVideoKbps: s.preset.minVideoKbps,
    });
  }
  return [...encodes.values()];
}

const mbps = (k: number): string => (k / 1000).toFixed(1);

/**
 * What leaves the machine must fit in 70 % of the uplink: Σ over encodes of (video + audio) × its destinations
 * that use the uplink. When it does not, the video of every encode is lowered in proportion to what it asked for
 * (the audio is kept). Returns the encodes with their shares; `uplinkKbps` undefined leaves them as they are.
 */
export function shareUplink(
  encodes: Encode[],
  destinations: Destination[],
  uplinkKbps: number | undefined,
  loopbackUsesUplink = false,
): Encode[] {
  if (!uplinkKbps) return encodes;
  const remote = new Set(destinations.filter((d) => usesUplink(d, loopbackUsesUplink)).map((d) => d.label));
  const counts = encodes.map((e) => e.destinations.filter((l) => remote.has(l)).length);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return encodes;
  const audio = encodes.reduce((sum, e, i) => sum + e.audio.kbps * counts[i]!, 0);
  const video = encodes.reduce((sum, e, i) => sum + e.video.kbps * counts[i]!, 0);
  const factor = (UPLINK_SHARE * uplinkKbps - audio) / video;
  const many = encodes.filter((_, i) => counts[i]! > 0).length > 1;
  return encodes.map((e, i) => {
    if (counts[i] === 0) return e;
    const share = Math.max(0, Math.floor(e.video.kbps * factor));
    if (share >= e.video.kbps) return { ...e, uplinkShareKbps: share };
    const what = many ? 'for this encode (70 % rule, shared in proportion to what each asked)' : 'each (70 % rule)';
    const bitrate: BitrateBound = {
      by: 'uplink',
      text:
        `${total} destination${total === 1 ? '' : 's'} on a ${mbps(uplinkKbps)} Mbps uplink: ` +
        `${mbps(share)} Mbps video ${what}`,
    };
    const boundBy = Object.fromEntries(e.destinations.map((l) => [l, bitrate.text]));
    return {
      ...e,
      video: { ...e.video, kbps: share, bufsizeKbps: share },
      bitrate,
      boundBy,
      uplinkShareKbps: share,
      belowPresetMinimum: share < e.minVideoKbps,
    };
  });
}

/**
 * The encode a destination added while streaming joins: the one with its setting. A setting the stream does not
 * encode cannot be added without a restart (a new encode means a new ffmpeg process): the error says so.
 */
export function matchEncode(encodes: readonly Encode[], dest: Destination, choices: StreamChoices): Encode {
  const s = settingFor(dest, choices);
  const found = encodes.find((e) => e.keys.includes(settingKey(s)));
  if (found) return found;
  const v = s.video;
  const have = encodes.map((e) => `${e.id} ${e.video.width}x${e.video.height}@${e.video.fps} ${e.video.kbps}k`);
  throw new Error(
    `${dest.label} needs an encode this stream does not make (${v.width}x${v.height}@${v.fps} ${v.kbps}k, ` +
      `${s.preset.name}${s.bitrate.by === 'platform' ? `, ${s.bitrate.text}` : ''}; it makes ${have.join(', ')}): ` +
      'give it a preset and videoBitrate that match one of those, or restart the stream with it',
  );
}

/** Each distinct video setting once, in the order of the encodes' videoIndex: one video encoder each. */
export function distinctVideos(encodes: readonly Encode[]): Encode['video'][] {
  const out: Encode['video'][] = [];
  for (const e of encodes) out[e.videoIndex] ??= e.video;
  return out;
}

/** Each distinct audio setting once, in the order of the encodes' audioIndex: one audio encoder each. */
export function distinctAudios(encodes: readonly Encode[]): Encode['audio'][] {
  const out: Encode['audio'][] = [];
  for (const e of encodes) out[e.audioIndex] ??= e.audio;
  return out;
}

/**
 * The encodes as they will run: those whose final settings are equal (after the uplink's share, with the encoder
 * resolved) are one, their destinations together; the video and audio encoders are numbered by the final settings
 * (a shared video encoder for encodes whose pictures agree). Ids follow the order: e1, e2, …
 */
export function regroup(encodes: readonly Encode[]): Encode[] {
  const merged: Encode[] = [];
  for (const e of encodes) {
    const same = merged.find((m) => settingKey(m) === settingKey(e));
    if (!same) {
      merged.push({ ...e, destinations: [...e.destinations], boundBy: { ...e.boundBy }, keys: [...e.keys] });
      continue;
    }
    same.destinations.push(...e.destinations);
    Object.assign(same.boundBy, e.boundBy);
    same.keys.push(...e.keys.filter((k) => !same.keys.includes(k)));
    same.belowPresetMinimum ||= e.belowPresetMinimum;
  }
  const videos: string[] = [];
  const audios: string[] = [];
  const index = (list: string[], key: string): number => {
    if (!list.includes(key)) list.push(key);
    return list.indexOf(key);
  };
  return merged.map((e, i) => ({
    ...e,
    id: `e${i + 1}`,
    videoIndex: index(videos, JSON.stringify(e.video)),
    audioIndex: index(audios, JSON.stringify(e.audio)),
  }));
}
