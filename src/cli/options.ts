import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { resolveDestinations } from '../platforms/destinations.js';
import { buildPlan, type Plan } from '../plan/plan.js';
import { parseSource, type HostOs } from '../plan/source.js';
import { resolveIngest, resolveSlate } from './source-options.js';
import { findPreset, loadPresets } from '../presets/load.js';
import { HOUR, SECOND, parseDuration, parseKbps } from '../util/duration.js';
import { tlsPolicy, type TlsPolicy } from '../net/tls-policy.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../state/backoff.js';
import type { CheckedUplink } from '../uplink/check.js';

/** The flags `start` and `plan` share, as commander gives them (unchecked). */
export interface RawStreamFlags {
  to: string[];
  /** start: the stream's name on this machine (its control socket). */
  name?: string;
  /** start: HOST:PORT to serve Prometheus metrics on. */
  metrics?: string;
  source?: string;
  preset?: string;
  loop?: boolean;
  videoDevice?: string;
  audioDevice?: string;
  videoBitrate?: string;
  audioBitrate?: string;
  keyint?: string;
  duration?: string;
  record?: string;
  config?: string;
  ffmpeg?: string;
  ffprobe?: string;
  json?: boolean;
  verbose?: boolean;
  retryMaxDelay?: string;
  maxRetries?: string;
  insecureTls?: boolean;
  onState?: string;
  watchdog?: string;
  audioRate?: string;
  allowOverCap?: boolean;
  rehearse?: boolean;
  uplink?: string;
  strict?: boolean;
  remeasure?: boolean;
  listen?: string;
  slate?: string;
  slateTimeout?: string;
  copy?: boolean;
  /** commander's --no-adaptive-bitrate: false when given. */
  adaptiveBitrate?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addStreamOptions(cmd: Command): Command {
  return cmd
    .option(
      '-t, --to <list>',
      'destinations: platform ids, config names, local, ' +
        'or [label=]rtmp(s)://host/app/key (comma-separated, repeatable)',
      collect,
      [],
    )
    .option(
      '-s, --source <source>',
      'testsrc (default), camera, screen, - (stdin), a file, a URL to restream, or listen (OBS publishes to rtmpush)',
    )
    .option('--listen <host:port>', 'with --source listen: where encoders publish (default 127.0.0.1:1935)')
    .option(
      '--copy',
      "with --source listen: send the encoder's stream as it is (no re-encoding), if the platforms take it",
    )
    .option('--slate <file>', 'an image or video the destinations get while the source is lost (default: a card)')
    .option('--slate-timeout <time>', 'end the stream after the slate has played this long (default 10m; 0: at once)')
    .option('--no-adaptive-bitrate', 'keep the video bitrate when the uplink sags (default: lower it, then back up)')
    .option('-p, --preset <name>', 'encoding preset (see rtmpush presets); default 720p30')
    .option('--loop', 'repeat a file source forever')
    .option('--video-device <device>', 'camera/screen device (e.g. /dev/video0, :0.0, an avfoundation index)')
    .option('--audio-device <device>', 'audio device (e.g. pulse:default, alsa:hw:0)')
    .option('--video-bitrate <rate>', 'video bitrate, e.g. 2500k or 4M (still capped by each platform)')
    .option('--audio-bitrate <rate>', 'audio bitrate, e.g. 128k')
    .option('--keyint <seconds>', 'keyframe interval in seconds (default 2)')
    .option('--audio-rate <hz>', 'audio sample rate: 48000 (default), 44100, 32000, 22050')
    .option(
      '--allow-over-cap',
      "keep --video-bitrate even above a platform's published cap (caps are disputed; partners get more)",
    )
    .option(
      '--uplink <auto|rate|off>',
      'cap the bitrate to 70 % of the uplink shared by all destinations: ' +
        'auto (the last `rtmpush uplink` measurement, default), a rate like 8M, or off',
    )
    .option(
      '--remeasure',
      'measure the uplink again now (with a twitch or restream destination), even if a measurement from today exists',
    )
    .option('--strict', 'stop (exit 2) when the capped bitrate is below what the preset needs')
    .option(
      '--rehearse',
      'run the planned pipeline into the embedded server instead of the platforms ' +
        'and check what arrived against every chosen platform',
    )
    .option('-d, --duration <time>', 'stop after this long, e.g. 90s, 5m, 1h')
    .option('--record <file>', 'also record locally to this file (Matroska)')
    .option('-c, --config <file>', 'config file (default ./rtmpush.config.json, then ~/.config/rtmpush/config.json)')
    .option('--ffmpeg <path>', 'ffmpeg binary to use (or RTMPUSH_FFMPEG)')
    .option('--ffprobe <path>', 'ffprobe binary to use (or RTMPUSH_FFPROBE)')
    .option('--retry-max-delay <time>', 'longest wait between reconnection tries (default 30s)')
    .option(
      '--max-retries <n>',
      'give a destination up as failed after this many failed tries in a row (default: never)',
    )
    .option('--insecure-tls', 'do not check rtmps:// server certificates (a private CA is better: RTMPUSH_CA_FILE)')
    .option('--watchdog <time>', 'restart the encoder when it makes no progress for this long (default 15s)')
    .option('--on-state <cmd>', 'run this shell command on every state change, the event as JSON on its stdin')
    .option('--json', 'print NDJSON events on stdout')
    .option('-v, --verbose', "also show ffmpeg's own log lines (keys redacted)");
}

export interface ResolvedStream {
  plan: Plan;
  config: LoadedConfig;
  retry: RetryPolicy;
  tls: TlsPolicy;
  watchdogMs: number;
}

/** The least video bitrate rtmpush will encode: below it x264 makes mush, and 0 would mean no cap at all. */
export const MIN_VIDEO_KBPS = 100;
const VIDEO_KBPS = { min: MIN_VIDEO_KBPS, max: 1_000_000, text: 'from 100k to 1000M' };
const AUDIO_KBPS = { min: 16, max: 512, text: 'from 16k to 512k' };

export interface ResolveEnv {
  env: Record<string, string | undefined>;
  cwd: string;
  os: HostOs;
  /** --uplink auto: the cached measurement, checked against this network (checkCachedUplink); none if not given. */
  cachedUplink?: CheckedUplink;
}

/** Flags + environment + config file + presets → a checked plan. Throws UsageError on any bad input. */
export function resolveStream(flags: RawStreamFlags, ctx: ResolveEnv): ResolvedStream {
  const config = loadConfig({ explicit: flags.config, cwd: ctx.cwd, env: ctx.env });
  const defaults = config.config.defaults ?? {};
  const presetName = flags.preset ?? ctx.env.RTMPUSH_PRESET ?? defaults.preset ?? '720p30';
  const preset = findPreset(loadPresets(config.file), presetName);

  const envTo = ctx.env.RTMPUSH_TO ? [ctx.env.RTMPUSH_TO] : undefined;
  const to = flags.to.length > 0 ? flags.to : (envTo ?? defaults.to ?? []);
  if (to.length === 0) {
    throw new UsageError('no destination: add --to, e.g. --to local, --to youtube,twitch or --to rtmp://host/app/key');
  }
  // A rehearsal sends nothing to the platforms: their keys are not needed.
  const destinations = resolveDestinations(to, {
    env: ctx.env,
    config: config.config,
    lenientKeys: Boolean(flags.rehearse),
  });
  const inClear = destinations.filter((d) => d.kind === 'url' && flags.to.some((t) => t.includes('://')));
  if (inClear.length > 0) {
    const why =
      'a key typed in --to is visible to other local users in the process list; ' +
      "put it in an environment variable named by the config file's keyEnv instead";
    config.warnings.push(`${inClear.map((d) => d.label).join(', ')}: ${why}`);
  }

  const source = parseSource({
    source: flags.source ?? ctx.env.RTMPUSH_SOURCE ?? defaults.source ?? 'testsrc',
    loop: flags.loop,
    videoDevice: flags.videoDevice,
    audioDevice: flags.audioDevice,
    os: ctx.os,
  });
  if (source.kind === 'file') {
    const file = path.resolve(ctx.cwd, source.path);
    if (!existsSync(file))
      throw new UsageError(
        `--source ${source.path}: no such file (use testsrc, camera, screen, - or a URL for other sources)`,
      );
    if (!statSync(file).isFile()) throw new UsageError(`--source ${source.path}: not a file`);
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new UsageError(`--source ${source.path}: cannot be read (check its permissions)`);
    }
    source.path = file;
  }

  const keyint = flags.keyint === undefined ? undefined : decimal(flags.keyint);
  if (keyint !== undefined && !(keyint >= 0.5 && keyint <= 20)) {
    throw new UsageError(`--keyint ${flags.keyint}: give seconds between 0.5 and 20 (platforms want 2)`);
  }
  const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration);
  let record: string | undefined;
  if (flags.record !== undefined) {
    if (flags.record.trim() === '') throw new UsageError('--record needs a file name, e.g. --record show.mkv');
    record = path.resolve(ctx.cwd, flags.record);
    if (existsSync(record))
      throw new UsageError(`--record ${flags.record}: the file exists: choose a new name or delete it`);
    if (!existsSync(path.dirname(record)))
      throw new UsageError(`--record ${flags.record}: the folder ${path.dirname(record)} does not exist`);
  }

  const ingest = resolveIngest(flags, source, ctx.env);
  if (ingest && record)
    throw new UsageError('--record does not work with --source listen yet: record in the encoder (OBS) instead');
  const slate = resolveSlate(flags, ctx.cwd);
  const uplink = resolveUplink(flags.uplink, ctx.cachedUplink);
  const plan = buildPlan({
    uplinkKbps: uplink?.kbps,
    preset,
    source,
    destinations,
    overrides: {
      videoKbps:
        flags.videoBitrate === undefined ? undefined : parseKbps(flags.videoBitrate, '--video-bitrate', VIDEO_KBPS),
      audioKbps:
        flags.audioBitrate === undefined ? undefined : parseKbps(flags.audioBitrate, '--audio-bitrate', AUDIO_KBPS),
      keyintSeconds: keyint,
      sampleRate: parseSampleRate(flags.audioRate),
      allowOverCap: Boolean(flags.allowOverCap),
    },
    durationMs,
    record,
  });
  if (ingest) plan.ingest = ingest;
  plan.slate = slate;
  plan.adaptiveBitrate = flags.adaptiveBitrate !== false && !flags.copy;
  if (flags.copy) plan.copy = true;
  if (ctx.env.RTMPUSH_BITRATE_UP_AFTER)
    plan.bitrateUpAfterMs = parseDuration(ctx.env.RTMPUSH_BITRATE_UP_AFTER, 'RTMPUSH_BITRATE_UP_AFTER', {
      min: 5 * SECOND,
      max: HOUR,
      text: 'from 5s to 1h',
    });
  if (uplink && plan.bitrate.by === 'uplink') plan.notes.unshift(`${plan.bitrate.text} — uplink ${uplink.from}`);
  // a cached figure that is not applied here is said once, where the bitrate is explained (not when nothing leaves)
  if (ctx.cachedUplink?.notice && destinations.some((d) => d.kind !== 'local'))
    plan.notes.unshift(ctx.cachedUplink.notice);
  if (uplink && plan.video.kbps < MIN_VIDEO_KBPS) {
    const fix = uplink.from.startsWith('given') ? 'give your real upload rate' : 'measure again (--remeasure)';
    throw new UsageError(
      `--uplink: ${uplink.kbps} kbps (${uplink.from}) leaves ${plan.video.kbps} kbps of video ` +
        `for each of ${plan.destinations.filter((d) => d.kind !== 'local').length} destinations, ` +
        `below the ${MIN_VIDEO_KBPS} kbps rtmpush needs: ${fix}, stream to fewer destinations, or pass --uplink off`,
    );
  }
  if (plan.belowPresetMinimum) {
    const fits = loadPresets(config.file)
      .map((e) => e.preset)
      .filter((p) => p.minVideoKbps <= plan.video.kbps)
      .sort((a, b) => b.width * b.height * b.fps - a.width * a.height * a.fps)[0];
    const advice =
      `${plan.video.kbps} kbps is below what ${preset.name} needs (${preset.minVideoKbps} kbps): ` +
      `${fits ? `use --preset ${fits.name}` : 'no preset fits'}, or stream to fewer destinations`;
    if (flags.strict) throw new UsageError(`--strict: ${advice}`);
    plan.notes.unshift(advice);
  }
  const retry: RetryPolicy = { ...DEFAULT_RETRY };
  if (flags.retryMaxDelay !== undefined)
    retry.maxMs = parseDuration(flags.retryMaxDelay, '--retry-max-delay', {
      min: SECOND,
      max: HOUR,
      text: 'from 1s to 1h',
    });
  if (flags.maxRetries !== undefined) {
    const n = /^\d+$/.test(flags.maxRetries.trim()) ? Number(flags.maxRetries) : Number.NaN;
    if (!Number.isSafeInteger(n))
      throw new UsageError(`--max-retries ${flags.maxRetries}: give a whole number (0 = no retries)`);
    retry.maxRetries = n;
  }
  const tls = tlsPolicy(ctx.env, ctx.cwd, Boolean(flags.insecureTls));
  const watchdogMs =
    flags.watchdog === undefined
      ? 15_000
      : parseDuration(flags.watchdog, '--watchdog', { min: 2 * SECOND, max: HOUR, text: 'from 2s to 1h' });
  return { plan, config, retry, tls, watchdogMs };
}

/** --uplink: a rate the user gives, the cached measurement made on this network (auto), or nothing (off / none). */
function resolveUplink(
  raw: string | undefined,
  cached: CheckedUplink | undefined,
): { kbps: number; from: string } | undefined {
  const value = raw ?? 'auto';
  if (value === 'off') return undefined;
  if (value === 'auto') {
    const m = cached?.measurement;
    return m ? { kbps: m.kbps, from: `measured to ${m.target} at ${m.measuredAt}` } : undefined;
  }
  return { kbps: parseKbps(value, '--uplink'), from: 'given with --uplink' };
}

/** A plain decimal number as typed ("2", "0.5"); anything else (empty, "0x1", "1e1") is NaN. */
const decimal = (raw: string): number => (/^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN);

const SAMPLE_RATES = [48000, 44100, 32000, 22050];

function parseSampleRate(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const hz = Number(raw.replace(/hz$/i, '').replace(/k$/i, '000'));
  if (!SAMPLE_RATES.includes(hz)) throw new UsageError(`--audio-rate ${raw}: use one of ${SAMPLE_RATES.join(', ')}`);
  return hz;
}

export function hostOs(): HostOs {
  return process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux';
}
