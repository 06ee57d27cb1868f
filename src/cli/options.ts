import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { resolveDestinations } from '../platforms/destinations.js';
import { buildPlan, withNotesFirst, encodeText, type Plan } from '../plan/plan.js';
import { ENCODER_CHOICES, FITS } from '../plan/choices.js';
import { checkBitrates, choice, ownPresets } from './plan-checks.js';
import { parseSource, type HostOs } from '../plan/source.js';
import { resolveIngest, resolveSlate } from './source-options.js';
import { findPreset, loadPresets } from '../presets/load.js';
import { HOUR, MIN_VIDEO_KBPS, SECOND, VIDEO_KBPS, parseDuration, parseKbps } from '../util/duration.js';
import { tlsPolicy, type TlsPolicy } from '../net/tls-policy.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../state/backoff.js';
import type { CheckedUplink } from '../uplink/check.js';

export { addStreamOptions, type RawStreamFlags } from './stream-flags.js';
import type { RawStreamFlags } from './stream-flags.js';

export interface ResolvedStream {
  plan: Plan;
  config: LoadedConfig;
  retry: RetryPolicy;
  tls: TlsPolicy;
  watchdogMs: number;
}

/** The least video bitrate rtmpush will encode: below it x264 makes mush, and 0 would mean no cap at all. */
export { MIN_VIDEO_KBPS };
/** Video encoders one ffmpeg process runs at most (each is a full encode's CPU). */
const MAX_VIDEO_ENCODES = 4;
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
  const presetEntries = loadPresets(config.file);
  const preset = findPreset(presetEntries, presetName);

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

  let source = parseSource({
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
    source = { ...source, path: file };
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
  const loopbackCounts = ctx.env.RTMPUSH_UPLINK_LOOPBACK === 'count';
  const built = buildPlan({
    uplinkKbps: uplink?.kbps,
    loopbackUsesUplink: loopbackCounts,
    ...(uplink ? { uplinkFrom: uplink.from } : {}),
    ...(ctx.cachedUplink?.notice ? { uplinkNotice: ctx.cachedUplink.notice } : {}),
    preset,
    presets: ownPresets(destinations, presetEntries),
    source,
    destinations,
    overrides: {
      fit: choice(flags.fit, '--fit', FITS),
      encoder: choice(flags.encoder, '--encoder', ENCODER_CHOICES),
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
    ...(ingest ? { ingest } : {}),
    slate,
    copy: Boolean(flags.copy),
    adaptiveBitrate: flags.adaptiveBitrate !== false && !flags.copy,
    ...(ctx.env.RTMPUSH_BITRATE_UP_AFTER
      ? {
          bitrateUpAfterMs: parseDuration(ctx.env.RTMPUSH_BITRATE_UP_AFTER, 'RTMPUSH_BITRATE_UP_AFTER', {
            min: 5 * SECOND,
            max: HOUR,
            text: 'from 5s to 1h',
          }),
        }
      : {}),
  });
  if (flags.copy && destinations.some((d) => d.own))
    throw new UsageError(
      `--copy sends the encoder's stream as it is: ${destinations.find((d) => d.own)!.label} asks for its own ` +
        'preset, videoBitrate or encoder — drop --copy, or that setting',
    );
  const videoEncodes = new Set(built.encodes.map((e) => e.videoIndex)).size;
  if (videoEncodes > MAX_VIDEO_ENCODES)
    throw new UsageError(
      `these destinations need ${videoEncodes} video encodes (${built.encodes.map(encodeText).join('; ')}): ` +
        `rtmpush runs at most ${MAX_VIDEO_ENCODES} in one process — give destinations the same preset and bitrate`,
    );
  if (flags.copy && built.encodes.length > 1)
    throw new UsageError(
      `--copy sends the encoder's one stream, but these destinations need ${built.encodes.length} encodes ` +
        `(${built.encodes.map(encodeText).join('; ')}): drop --copy, or give every destination the same preset`,
    );
  // advice found once it is built (a bitrate under its preset's needs) goes first; --strict makes it exit 2
  const plan = withNotesFirst(
    built,
    checkBitrates(built, uplink, presetEntries, Boolean(flags.strict), loopbackCounts),
  );
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
