import type { Plan } from '../plan/plan.js';
import { sourceInputArgs, sourceListFile } from './source-args.js';

/** One output of the tee muxer. */
export interface SlaveTarget {
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
export function slaveTargets(plan: Plan): SlaveTarget[] {
  // One leg for every destination: rtmpush reads it once and feeds each relay, so destinations can come and go
  // without touching the encoder.
  const targets: SlaveTarget[] = [{ label: 'destinations', format: 'flv', url: `pipe:${FIRST_LEG_FD}`, options: [] }];
  if (plan.record)
    targets.push({ label: 'record', format: 'matroska', url: `pipe:${FIRST_LEG_FD + targets.length}`, options: [] });
  return targets;
}

const escapeOnce = (value: string): string => value.replace(/[\\'|[\]:=]/g, (c) => `\\${c}`);

/** A slave option value is unescaped twice (slave list, then option list), so it is escaped twice. */
export function escapeTee(value: string): string {
  return escapeOnce(escapeOnce(value));
}

export function teeSpec(targets: SlaveTarget[]): string {
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
export function buildFfmpegArgv(plan: Plan, targets: SlaveTarget[] = slaveTargets(plan)): string[] {
  const { video, audio } = plan;
  // A private source URL's list, or an ingest's FLV, comes on the pipe after the legs'.
  const inputFd = FIRST_LEG_FD + targets.length;
  const input = sourceInputArgs(plan.source, {
    width: video.width,
    height: video.height,
    fps: video.fps,
    sampleRate: audio.sampleRate,
    inputFd,
  });
  const vf = [
    `scale=${video.width}:${video.height}:force_original_aspect_ratio=decrease`,
    `pad=${video.width}:${video.height}:(ow-iw)/2:(oh-ih)/2`,
    'setsar=1',
    `fps=${video.fps}`,
    'format=yuv420p',
  ].join(',');
  const kbps = (n: number): string => `${n}k`;
  return [
    '-hide_banner',
    '-loglevel',
    'level+info',
    '-nostats',
    '-progress',
    'pipe:1',
    '-stats_period',
    '1',
    ...input.args,
    '-map',
    input.videoMap,
    '-map',
    input.audioMap,
    '-vf',
    vf,
    '-c:v',
    'libx264',
    '-preset',
    video.x264Preset,
    ...(video.tune ? ['-tune', video.tune] : []),
    '-profile:v',
    video.profile,
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    kbps(video.kbps),
    '-maxrate',
    kbps(video.kbps),
    '-bufsize',
    kbps(video.bufsizeKbps),
    '-g',
    String(video.keyintFrames),
    '-keyint_min',
    String(video.keyintFrames),
    '-sc_threshold',
    '0',
    '-x264-params',
    'nal-hrd=cbr:force-cfr=1',
    '-c:a',
    'aac',
    '-b:a',
    kbps(audio.kbps),
    '-ar',
    String(audio.sampleRate),
    '-ac',
    String(audio.channels),
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
