import type { Plan } from '../plan/plan.js';
import { sourceInputArgs } from '../plan/source.js';
import type { Destination } from '../platforms/destinations.js';

/** One output of the tee muxer. */
export interface SlaveTarget {
  /** Destination label, or "record" for the archive leg. */
  label: string;
  format: 'flv' | 'matroska';
  url: string;
  options: [string, string][];
}

/** Write timeout for each RTMP leg, so a server that stops reading cannot hold up shutdown. */
export const RTMP_RW_TIMEOUT_US = 5_000_000;

/** fifo settings for every leg: retry each second, on any error, without blocking the encoder. */
export const FIFO_OPTIONS = 'attempt_recovery=1:recovery_wait_time=1:recover_any_error=1:drop_pkts_on_overflow=1:restart_with_keyframe=1';

/**
 * Where the tee slave for a destination sends its stream: that destination's loopback relay, under a
 * placeholder name. The real URL and key stay in rtmpush, out of ffmpeg's command line. The one place that decides it.
 */
export function slaveTarget(dest: Destination, relayPort: number): SlaveTarget {
  return { label: dest.label, format: 'flv', url: `rtmp://127.0.0.1:${relayPort}/rtmpush/${dest.label}`, options: [['rw_timeout', String(RTMP_RW_TIMEOUT_US)]] };
}

export function recordTarget(file: string): SlaveTarget {
  return { label: 'record', format: 'matroska', url: file, options: [] };
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

/** Relay ports by destination label; 0 (not started yet) where unknown, as in `rtmpush plan`. */
export function slaveTargets(plan: Plan, relayPorts: ReadonlyMap<string, number> = new Map()): SlaveTarget[] {
  const targets = plan.destinations.map((d) => slaveTarget(d, relayPorts.get(d.label) ?? 0));
  if (plan.record) targets.push(recordTarget(plan.record));
  return targets;
}

/** The whole ffmpeg command, one token per element. Contains keys in clear: print only through redact(). */
export function buildFfmpegArgv(plan: Plan, targets: SlaveTarget[] = slaveTargets(plan)): string[] {
  const { video, audio } = plan;
  const input = sourceInputArgs(plan.source, { width: video.width, height: video.height, fps: video.fps, sampleRate: audio.sampleRate });
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
    '-loglevel', 'level+info',
    '-nostats',
    '-progress', 'pipe:1',
    '-stats_period', '1',
    ...input.args,
    '-map', input.videoMap,
    '-map', input.audioMap,
    '-vf', vf,
    '-c:v', 'libx264',
    '-preset', video.x264Preset,
    ...(video.tune ? ['-tune', video.tune] : []),
    '-profile:v', video.profile,
    '-pix_fmt', 'yuv420p',
    '-b:v', kbps(video.kbps),
    '-maxrate', kbps(video.kbps),
    '-bufsize', kbps(video.bufsizeKbps),
    '-g', String(video.keyintFrames),
    '-keyint_min', String(video.keyintFrames),
    '-sc_threshold', '0',
    '-x264-params', 'nal-hrd=cbr:force-cfr=1',
    '-c:a', 'aac',
    '-b:a', kbps(audio.kbps),
    '-ar', String(audio.sampleRate),
    '-ac', String(audio.channels),
    '-flags', '+global_header',
    ...(input.outputArgs ?? []),
    ...(plan.durationMs ? ['-t', (plan.durationMs / 1000).toFixed(3)] : []),
    '-f', 'tee',
    '-use_fifo', '1',
    '-fifo_options', FIFO_OPTIONS,
    teeSpec(targets),
  ];
}

/** Whether the source is read from ffmpeg's stdin (then `q` cannot be sent to stop it). */
export function readsStdin(plan: Plan): boolean {
  return plan.source.kind === 'stdin';
}
