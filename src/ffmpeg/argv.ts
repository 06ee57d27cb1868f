import { distinctAudios, distinctVideos, type Encode } from '../plan/encodes.js';
import type { Plan } from '../plan/plan.js';
import type { AudioSetting, VideoSetting } from '../plan/setting.js';
import { type EncoderName, hardwareSetup, videoEncoderArgs } from './encoders.js';
import { fitChain, splitGraph } from './filters.js';
import { sourceInputArgs, sourceListFile } from './source-args.js';

/** One output of the tee muxer. */
export interface TeeLeg {
  /** Destination label, or "record" for the archive leg. */
  label: string;
  format: 'flv' | 'matroska';
  url: string;
  options: [string, string][];
}

/**
 * fifo settings for every leg: retry each second, on any error, without blocking the encoder. A relay reads its
 * pipe in batches, so while it rests the pipe (~240 KB) can fill; the queue (600 packets, ~8 s of stream; ffmpeg's
 * default is 60) holds a burst (a source read faster than real time, the encoder's start) instead of dropping it.
 */
export const FIFO_OPTIONS =
  'attempt_recovery=1:recovery_wait_time=1:recover_any_error=1:' +
  'drop_pkts_on_overflow=1:restart_with_keyframe=1:queue_size=600';

/** ffmpeg's fds 0–2 are its stdin, progress and log; each tee leg writes to the pipe after them. */
export const FIRST_LEG_FD = 3;

/**
 * Each tee leg writes to a pipe rtmpush handed ffmpeg: the destinations' FLV goes to their relays, which hold the
 * URLs and keys (never in ffmpeg's command line); the recording goes to rtmpush, which writes the file. Nothing
 * but this ffmpeg can write to those pipes: there is no port or path for another local user to reach.
 */
export function teeLegs(plan: Plan): TeeLeg[] {
  // One leg per encode: rtmpush reads it once and feeds each of its destinations' relays, so destinations can come
  // and go without touching the encoder. With several encodes each leg selects its own streams.
  const many = plan.encodes.length > 1;
  const select = (e: Encode): [string, string][] => (many ? [['select', `v:${e.videoIndex},a:${e.audioIndex}`]] : []);
  const targets: TeeLeg[] = plan.encodes.map((e, i) => ({
    label: many ? e.id : 'destinations',
    format: 'flv',
    url: `pipe:${FIRST_LEG_FD + i}`,
    options: select(e),
  }));
  if (plan.record) {
    const url = `pipe:${FIRST_LEG_FD + targets.length}`;
    targets.push({ label: 'record', format: 'matroska', url, options: select(plan.encodes[0]!) });
  }
  return targets;
}

const escapeOnce = (value: string): string => value.replace(/[\\'|[\]:=]/g, (c) => `\\${c}`);

/** A slave option value is unescaped twice (slave list, then option list), so it is escaped twice. */
export function escapeTee(value: string): string {
  return escapeOnce(escapeOnce(value));
}

export function teeSpec(targets: TeeLeg[]): string {
  return targets
    .map((t) => {
      const opts = [`f=${t.format}`, 'onfail=ignore', ...t.options.map(([k, v]) => `${k}=${escapeTee(v)}`)].join(':');
      return `[${opts}]${escapeTeeUrl(t.url)}`;
    })
    .join('|');
}

// In the file name only the list separator and escapes need protecting; ':' is part of every URL.
function escapeTeeUrl(url: string): string {
  return url.replace(/[\\'|[\]]/g, (c) => `\\${c}`);
}

/** The whole ffmpeg command, one token per element. Contains keys in clear: print only through redact(). */
export function buildFfmpegArgv(plan: Plan, targets: TeeLeg[] = teeLegs(plan)): string[] {
  const { audio, encodes } = plan;
  // A private source URL's list, or an ingest's FLV, comes on the pipe after the legs'.
  const inputFd = FIRST_LEG_FD + targets.length;
  // a camera, screen or test pattern is opened to suit every encode: landscape, the largest size, the highest rate
  const long = Math.max(...encodes.map((e) => Math.max(e.video.width, e.video.height)));
  const short = Math.max(...encodes.map((e) => Math.min(e.video.width, e.video.height)));
  const input = sourceInputArgs(plan.source, {
    width: long,
    height: short,
    fps: Math.max(...encodes.map((e) => e.video.fps)),
    sampleRate: audio.sampleRate,
    inputFd,
  });
  const pictures = pictureArgs(distinctVideos(encodes), input.videoMap);
  const audios = distinctAudios(encodes);
  return [
    '-hide_banner',
    '-loglevel',
    'level+info',
    '-nostats',
    '-progress',
    'pipe:1',
    '-stats_period',
    '1',
    ...pictures.globals,
    ...input.args,
    ...pictures.maps,
    ...audios.flatMap(() => ['-map', input.audioMap]),
    ...pictures.filters,
    ...pictures.codecs,
    ...audios.flatMap((a, i) => audioCodecArgs(a, i)),
    '-flags',
    '+global_header',
    ...(input.outputArgs ?? []),
    ...(plan.durationMs ? ['-t', (plan.durationMs / 1000).toFixed(3)] : []),
    '-f',
    'tee',
    '-use_fifo',
    '1',
    '-fifo_options',
    FIFO_OPTIONS,
    teeSpec(targets),
  ];
}

/**
 * The video side of a command, from the source's decoded video (`input`, e.g. `0:v:0`): one encoder, a simple
 * chain; several, the source split once and one fitted branch per encoder (`[v0]`, `[v1]`, …). A hardware encoder
 * may need its frames in its own format or memory (the chain's tail) and a device opened before the inputs.
 */
export function pictureArgs(
  videos: VideoSetting[],
  input: string,
): { globals: string[]; maps: string[]; filters: string[]; codecs: string[] } {
  const setups = videos.map((v) => hardwareSetup(encoderOf(v)));
  const one = videos.length === 1;
  return {
    // (only VA-API opens one: the same device for every encode that uses it)
    globals: setups.find((h) => h.globalArgs.length > 0)?.globalArgs ?? [],
    maps: one ? ['-map', input] : videos.flatMap((_, i) => ['-map', `[v${i}]`]),
    filters: one
      ? ['-vf', fitChain(videos[0]!) + setups[0]!.filterTail]
      : [
          '-filter_complex',
          splitGraph(
            input,
            videos,
            setups.map((h) => h.filterTail),
          ),
        ],
    codecs: videos.flatMap((v, i) => videoEncoderArgs(encoderOf(v), v, i)),
  };
}

const kbps = (n: number): string => `${n}k`;

/** The encoder an encode runs: `auto` is resolved before a stream starts (chooseEncoder); unresolved, it is x264. */
export function encoderOf(v: VideoSetting): EncoderName {
  return v.encoder === 'auto' ? 'x264' : v.encoder;
}

/** AAC for output audio stream `i`. */
function audioCodecArgs(a: AudioSetting, i: number): string[] {
  return [
    `-c:a:${i}`,
    'aac',
    `-b:a:${i}`,
    kbps(a.kbps),
    `-ar:a:${i}`,
    String(a.sampleRate),
    `-ac:a:${i}`,
    String(a.channels),
  ];
}

/** The list naming a private source URL, for the pipe after the legs' (see sourceInputArgs); else undefined. */
export function sourceList(plan: Plan): string | undefined {
  return plan.source.kind === 'url' && plan.source.private ? sourceListFile(plan.source.url) : undefined;
}

/** Whether rtmpush writes the source into the pipe after the legs' (a private URL's list, an ingest's FLV). */
export function hasInputPipe(plan: Plan): boolean {
  return plan.source.kind === 'listen' || sourceList(plan) !== undefined;
}

/** Whether the source is read from ffmpeg's stdin (then `q` cannot be sent to stop it). */
export function readsStdin(plan: Plan): boolean {
  return plan.source.kind === 'stdin';
}
