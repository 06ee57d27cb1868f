/** What a recording holds, from ffprobe's JSON (streams + packets). */
export interface ReceivedSummary {
  videoCodec?: string;
  videoProfile?: string;
  audioCodec?: string;
  width?: number;
  height?: number;
  fps: number;
  videoFrames: number;
  durationS: number;
  keyframeIntervalS: { min: number; max: number; avg: number } | null;
  /** Longest gap between consecutive video frames: a dropout shows here. */
  maxFrameGapS: number;
  /** Frames missing from the sequence: each gap counted in frame intervals (the median gap), less one. */
  lostFrames: number;
  videoKbps: number;
  audioSampleRate?: number;
  audioChannels?: number;
  /** The busiest whole second of video, in kbps. */
  peak1sKbps: number;
  /** Average video kbps over the whole seconds (the partial first and last left out: start-up is not the rate). */
  steadyKbps: number;
  /** How far the last audio and the last video timestamps are apart, in seconds. */
  avDriftS: number;
}

interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
}

interface ProbePacket {
  stream_index: number;
  pts_time?: string;
  dts_time?: string;
  size?: string;
  flags?: string;
}

export interface ProbeJson {
  streams?: ProbeStream[];
  packets?: ProbePacket[];
}

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

/** Pure: ffprobe JSON → summary. fps and bitrate come from the packets themselves, not from headers. */
export function summarizeProbe(json: ProbeJson): ReceivedSummary {
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  const packets = (json.packets ?? []).filter((p) => video && p.stream_index === video.index);
  const audioTimes = (json.packets ?? [])
    .filter((p) => audio && p.stream_index === audio.index)
    .map((p) => Number(p.pts_time ?? p.dts_time))
    .filter((t) => Number.isFinite(t));
  const times = packets
    .map((p) => Number(p.pts_time ?? p.dts_time))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const frames = packets.length;
  // Duration of the frames: last start − first start + one frame.
  const span = times.length >= 2 ? times[times.length - 1]! - times[0]! : 0;
  const fps = frames >= 2 && span > 0 ? (frames - 1) / span : 0;
  const durationS = fps > 0 ? span + 1 / fps : 0;
  const bytes = packets.reduce((sum, p) => sum + Number(p.size ?? 0), 0);
  const keyTimes = packets
    .filter((p) => p.flags?.startsWith('K'))
    .map((p) => Number(p.pts_time ?? p.dts_time))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const gaps = keyTimes.slice(1).map((t, i) => t - keyTimes[i]!);
  const frameGaps = times.slice(1).map((t, i) => t - times[i]!);
  const rates = secondRates(packets);
  return {
    videoCodec: video?.codec_name,
    videoProfile: video?.profile,
    audioCodec: audio?.codec_name,
    width: video?.width,
    height: video?.height,
    fps: round(fps, 2),
    videoFrames: frames,
    durationS: round(durationS, 2),
    keyframeIntervalS: gaps.length
      ? {
          min: round(lowest(gaps)),
          max: round(highest(gaps)),
          avg: round(gaps.reduce((a, b) => a + b, 0) / gaps.length),
        }
      : null,
    maxFrameGapS: frameGaps.length ? round(highest(frameGaps)) : 0,
    lostFrames: countLost(frameGaps),
    videoKbps: durationS > 0 ? Math.round((bytes * 8) / durationS / 1000) : 0,
    audioSampleRate: audio?.sample_rate ? Number(audio.sample_rate) : undefined,
    audioChannels: audio?.channels,
    peak1sKbps: rates.length ? highest(rates) : 0,
    steadyKbps: rates.length ? Math.round(rates.reduce((a, b) => a + b, 0) / rates.length) : 0,
    avDriftS: times.length && audioTimes.length ? round(Math.abs(highest(audioTimes) - times[times.length - 1]!)) : 0,
  };
}

/** Video kbps of each whole second of timestamps (the first and last, partial seconds left out). */
function secondRates(packets: ProbePacket[]): number[] {
  const buckets = new Map<number, number>();
  for (const p of packets) {
    const t = Number(p.pts_time ?? p.dts_time);
    if (!Number.isFinite(t)) continue;
    const second = Math.floor(t);
    buckets.set(second, (buckets.get(second) ?? 0) + Number(p.size ?? 0));
  }
  const seconds = [...buckets.keys()].sort((a, b) => a - b).slice(1, -1);
  return seconds.map((s) => Math.round((buckets.get(s)! * 8) / 1000));
}

function countLost(gaps: number[]): number {
  if (gaps.length === 0) return 0;
  const nominal = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  if (nominal <= 0) return 0;
  return gaps.reduce((lost, g) => lost + Math.max(0, Math.round(g / nominal) - 1), 0);
}

export interface Check {
  rule: string;
  ok: boolean;
  expected: string;
  actual: string;
}

export interface Expectation {
  width: number;
  height: number;
  fps: number;
  kbps: number;
  keyintSeconds: number;
  sampleRate: number;
  channels: number;
}

/** Does what arrived meet the plan? One check per rule. */
export function checkReceived(r: ReceivedSummary, e: Expectation): Check[] {
  const frame = 1 / e.fps;
  const ki = r.keyframeIntervalS;
  return [
    { rule: 'video codec', ok: r.videoCodec === 'h264', expected: 'h264', actual: r.videoCodec ?? 'none' },
    { rule: 'audio codec', ok: r.audioCodec === 'aac', expected: 'aac', actual: r.audioCodec ?? 'none' },
    {
      rule: 'resolution',
      ok: r.width === e.width && r.height === e.height,
      expected: `${e.width}x${e.height}`,
      actual: `${r.width ?? '?'}x${r.height ?? '?'}`,
    },
    { rule: 'frame rate', ok: Math.abs(r.fps - e.fps) <= e.fps * 0.02, expected: `${e.fps}`, actual: `${r.fps}` },
    {
      rule: 'keyframe interval',
      ok: ki !== null && ki.max <= e.keyintSeconds + frame * 1.01 && ki.min >= e.keyintSeconds - frame * 1.01,
      expected: `${e.keyintSeconds} s`,
      actual: ki ? `${ki.min}–${ki.max} s` : 'fewer than two keyframes',
    },
    {
      rule: 'video bitrate',
      ok: Math.abs(r.videoKbps - e.kbps) <= e.kbps * 0.15,
      expected: `${e.kbps} kbps ±15 %`,
      actual: `${r.videoKbps} kbps`,
    },
    {
      rule: 'audio sample rate',
      ok: r.audioSampleRate === e.sampleRate,
      expected: `${e.sampleRate} Hz`,
      actual: `${r.audioSampleRate ?? '?'} Hz`,
    },
    {
      rule: 'audio channels',
      ok: r.audioChannels === e.channels,
      expected: `${e.channels}`,
      actual: `${r.audioChannels ?? '?'}`,
    },
  ];
}

/** Math.max/min over an array of any length: spreading an hour's packets (100 000s) overflows the call stack. */
function highest(values: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > m) m = v;
  return m;
}

function lowest(values: readonly number[]): number {
  let m = Number.POSITIVE_INFINITY;
  for (const v of values) if (v < m) m = v;
  return m;
}
