import { encoderOf, pictureArgs } from '../ffmpeg/argv.js';
import { distinctVideos, type Encode } from '../plan/encodes.js';
import type { Preset } from '../presets/schema.js';
import { runBounded } from '../probe/bounded-run.js';
import { fasterBy } from '../adapt/speed-watch.js';

/** A setting fits this machine when it encodes this much faster than real time (a real source costs more). */
export const FITS_AT = 1.15;
/** Seconds of stream each trial encodes, and the most wall time it may take. */
const TRIAL_SECONDS = 1.5;
const TRIAL_LIMIT_MS = 4000;

export interface SpeedTrial {
  /** What was tried, in the user's words: `1280x720@30 + 720x1280@30, x264 veryfast`. */
  what: string;
  /** Seconds of stream made per second (null: it made none). */
  speed: number | null;
  fits: boolean;
}

export interface SpeedReport {
  /** The stream's encodes as planned. */
  planned: SpeedTrial;
  /** What fits when the plan does not: a faster x264, then a smaller preset; none when nothing tried fits. */
  fits?: SpeedTrial & { advice: string };
  trials: SpeedTrial[];
}

type Video = Encode['video'];

const describe = (videos: Video[]): string =>
  `${videos.map((v) => `${v.width}x${v.height}@${v.fps}`).join(' + ')}, ` +
  `${[...new Set(videos.map((v) => (encoderOf(v) === 'x264' ? `x264 ${v.x264Preset}` : encoderOf(v))))].join(' / ')}`;

/**
 * One trial: the encodes in one ffmpeg as start runs them (a test pattern at the first one's size, split, fitted,
 * each through its encoder) into nothing, as fast as it goes, for 1.5 s of stream (4 s of wall time at most).
 */
export async function trySpeed(ffmpeg: string, videos: Video[]): Promise<SpeedTrial> {
  const main = videos[0]!;
  const pictures = pictureArgs(videos, '0:v:0');
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1'],
    ...pictures.globals,
    ...['-f', 'lavfi', '-i', `testsrc2=size=${main.width}x${main.height}:rate=${main.fps}`],
    ...pictures.maps,
    ...pictures.filters,
    ...pictures.codecs,
    ...['-t', String(TRIAL_SECONDS), '-f', 'null', '-'],
  ];
  const r = await runBounded(ffmpeg, args, TRIAL_LIMIT_MS);
  const outUs = Math.max(0, ...[...r.stdout.matchAll(/^out_time_us=(\d+)$/gm)].map((m) => Number(m[1])));
  const speed = outUs > 0 && r.ms > 0 ? Math.round((outUs / 1000 / r.ms) * 100) / 100 : null;
  return { what: describe(videos), speed, fits: speed !== null && speed >= FITS_AT };
}

/** The next faster x264 speed, or undefined at ultrafast (or for a name x264 does not have). */
const faster = (x264Preset: string): string | undefined => {
  const next = fasterBy(x264Preset, 1);
  return next === x264Preset ? undefined : next;
};

/**
 * Whether this machine can carry the stream's encodes, measured here: the plan as it is, then (when it cannot) each
 * x264 encode one speed faster up to ultrafast, then the main encode as each smaller built-in preset of its shape
 * (at its own x264 speed). Stops at the first that fits, and says how to get it.
 */
export async function measureSpeed(
  ffmpeg: string,
  encodes: readonly Encode[],
  presets: Preset[],
): Promise<SpeedReport> {
  const videos = distinctVideos(encodes);
  const planned = await trySpeed(ffmpeg, videos);
  const trials = [planned];
  if (planned.fits) return { planned, trials };
  let current = videos;
  for (;;) {
    if (!current.some((v) => encoderOf(v) === 'x264' && faster(v.x264Preset))) break;
    current = current.map((v) =>
      encoderOf(v) === 'x264' && faster(v.x264Preset) ? { ...v, x264Preset: faster(v.x264Preset)! } : v,
    );
    const t = await trySpeed(ffmpeg, current);
    trials.push(t);
    if (t.fits) {
      const speed = current[0]!.x264Preset;
      const advice = `x264 ${speed} fits: a preset of your own with "x264": {"preset": "${speed}"} (rtmpush presets)`;
      return { planned, trials, fits: { ...t, advice } };
    }
  }
  const main = videos[0]!;
  const portrait = main.height > main.width;
  const smaller = presets
    .filter((p) => p.height > p.width === portrait && p.width * p.height < main.width * main.height)
    .filter((p) => p.fps <= main.fps)
    .sort((a, b) => b.width * b.height * b.fps - a.width * a.height * a.fps);
  for (const p of smaller) {
    const v: Video = { ...main, width: p.width, height: p.height, fps: p.fps, x264Preset: p.x264.preset };
    const t = await trySpeed(ffmpeg, [v, ...videos.slice(1)]);
    trials.push(t);
    if (t.fits) return { planned, trials, fits: { ...t, advice: `--preset ${p.name} fits` } };
  }
  return { planned, trials };
}

/** The report in a line or two, as doctor and a rehearsal print it. */
export function speedText(r: SpeedReport): string {
  const x = (s: number | null): string => (s === null ? 'no frame' : `${s.toFixed(2)}× real time`);
  if (r.planned.fits) return `encoding here: ${r.planned.what}: ${x(r.planned.speed)} — fits`;
  const slow = `too slow for this machine (needs ${FITS_AT}×)`;
  const head = `encoding here: ${r.planned.what}: ${x(r.planned.speed)} — ${slow}`;
  if (r.fits) return `${head}\n  → ${r.fits.advice} (${r.fits.what}: ${x(r.fits.speed)})`;
  return `${head}\n  → nothing tried fits (down to x264 ultrafast and the smallest preset): use a faster machine`;
}
