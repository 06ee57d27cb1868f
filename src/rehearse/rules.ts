import type { Platform } from '../platforms/table.js';
import type { ReceivedSummary } from '../probe/summary.js';

export interface RuleCheck {
  rule: string;
  ok: boolean;
  expected: string;
  actual: string;
  /** What to change, when the rule fails. */
  fix?: string;
}

/** What the user set, so a fix can name the flag to change. */
export interface RehearsalFlags {
  keyintSeconds?: number;
  videoKbps?: number;
  allowOverCap?: boolean;
  sampleRate?: number;
  /** Times the encoder was swapped while rehearsing (a bitrate or speed step): each may end a group early. */
  swaps?: number;
}

const s1 = (n: number): string => n.toFixed(1);

/** Checks what arrived against one platform's published rules. Pure. */
export function platformChecks(r: ReceivedSummary, p: Platform, flags: RehearsalFlags): RuleCheck[] {
  const checks: RuleCheck[] = [];
  const frame = r.fps > 0 ? 1 / r.fps : 0.04;
  const add = (c: RuleCheck): void => void checks.push(c.ok ? { ...c, fix: undefined } : c);

  const codecs = p.videoCodecs ?? ['h264'];
  add({
    rule: 'video codec',
    ok: codecs.includes(r.videoCodec ?? ''),
    expected: codecs.join(' or '),
    actual: r.videoCodec ?? 'none',
    fix: 'rtmpush encodes H.264: check the source',
  });
  if (p.maxWidth || p.maxHeight) {
    // a size limit is for a landscape picture: a portrait one is held to it turned (its long side to the longer)
    const [long, short] = [Math.max(r.width ?? 0, r.height ?? 0), Math.min(r.width ?? 0, r.height ?? 0)];
    const ok = (!p.maxWidth || long <= p.maxWidth) && (!p.maxHeight || short <= p.maxHeight);
    add({
      rule: 'resolution',
      ok,
      expected: `at most ${p.maxWidth ?? '∞'}x${p.maxHeight ?? '∞'}`,
      actual: `${r.width}x${r.height}`,
      fix: 'choose a smaller --preset',
    });
  }
  if (p.maxFps)
    add({
      rule: 'frame rate',
      ok: r.fps <= p.maxFps * 1.01,
      expected: `at most ${p.maxFps}`,
      actual: `${r.fps}`,
      fix: 'choose a preset at 30 or 60 fps',
    });

  const want = p.keyframeSeconds ?? 2;
  const allowed = p.maxKeyframeSeconds ?? want;
  const ki = r.keyframeIntervalS;
  const flagFix = flags.keyintSeconds !== undefined ? `remove --keyint ${flags.keyintSeconds}` : `use --keyint ${want}`;
  add({
    rule: 'keyframe interval',
    ok: ki !== null && ki.max <= allowed + frame * 1.01,
    expected: `every ${want} s (at most ${allowed} s)`,
    actual: ki ? `every ${s1(ki.max)} s` : 'fewer than two keyframes',
    fix: ki
      ? `keyframe every ${s1(ki.max)} s: ${p.name} needs ` +
        `${allowed === want ? `${want} s` : `at most ${allowed} s (${want} s recommended)`} — ${flagFix}`
      : 'stream longer, or check the source',
  });
  if (ki) {
    // a swap starts its encoder on a keyframe: the group it ends is shorter, never longer (its jitter is that)
    const swaps = flags.swaps ?? 0;
    const jitter = Math.round((ki.max - ki.min) * 1000);
    add({
      rule: 'keyframe regularity',
      ok: swaps > 0 ? ki.max <= want + frame * 1.01 : ki.max - ki.min <= frame * 1.01,
      expected: `jitter at most one frame (${Math.round(frame * 1000)} ms)${swaps > 0 ? ', but at a swap' : ''}`,
      actual: `${jitter} ms${swaps > 0 ? ` (the encoder was swapped ${swaps}× for this machine's pace)` : ''}`,
      fix: 'scene-cut keyframes are on: use a built-in preset',
    });
  }
  if (p.maxVideoKbps) {
    const fix = flags.allowOverCap
      ? `drop --allow-over-cap (or lower --video-bitrate to ${p.maxVideoKbps}k)`
      : `lower --video-bitrate to ${p.maxVideoKbps}k`;
    add({
      rule: 'average video bitrate',
      ok: r.steadyKbps <= p.maxVideoKbps * 1.05,
      expected: `at most ${p.maxVideoKbps} kbps`,
      actual: `${r.steadyKbps} kbps`,
      fix: `average ${r.steadyKbps} kbps: ${p.name} caps video at ${p.maxVideoKbps} kbps — ${fix}`,
    });
    add({
      rule: 'peak video bitrate (1 s)',
      ok: r.peak1sKbps <= p.maxVideoKbps * 1.1,
      expected: `at most ${Math.round(p.maxVideoKbps * 1.1)} kbps`,
      actual: `${r.peak1sKbps} kbps`,
      fix: `peaks of ${r.peak1sKbps} kbps: ${fix}`,
    });
  }
  add({
    rule: 'audio codec',
    ok: r.audioCodec === 'aac',
    expected: 'aac',
    actual: r.audioCodec ?? 'none',
    fix: 'the stream must carry AAC audio',
  });
  if (p.audioSampleRates) {
    const rates = p.audioSampleRates;
    add({
      rule: 'audio sample rate',
      ok: rates.includes(r.audioSampleRate ?? 0),
      expected: `${rates.join(' or ')} Hz`,
      actual: `${r.audioSampleRate ?? '?'} Hz`,
      fix:
        `audio at ${r.audioSampleRate ?? '?'} Hz: ${p.name} accepts ${rates.join(' or ')} Hz — ` +
        `${flags.sampleRate ? `remove --audio-rate ${flags.sampleRate}` : 'use --audio-rate 48000'}`,
    });
  }
  add({
    rule: 'audio channels',
    ok: (r.audioChannels ?? 0) >= 1 && (r.audioChannels ?? 0) <= 2,
    expected: 'mono or stereo',
    actual: `${r.audioChannels ?? 0}`,
    fix: 'use a stereo or mono source',
  });
  add({
    rule: 'A/V drift',
    ok: r.avDriftS <= 0.2,
    expected: 'at most 0.2 s',
    actual: `${r.avDriftS} s`,
    fix: 'the source’s audio and video clocks disagree: try another source',
  });
  return checks;
}
