import { UsageError } from '../errors.js';
import {
  ENCODER_NAMES,
  type EncoderName,
  FFMPEG_CODEC,
  HARDWARE_ENCODERS,
  type HardwareEncoderName,
  hardwareSetup,
  type VideoSetting,
  videoEncoderArgs,
} from '../ffmpeg/encoders.js';
import { runBounded } from './bounded-run.js';
import { ffmpegKey, type ProbeResult, readEncoderCache, writeEncoderCache } from './encoder-cache.js';

export type { ProbeResult } from './encoder-cache.js';

/** A working encoder answers in well under a second; a stuck driver is not waited on longer than this. */
export const PROBE_TIMEOUT_MS = 8000;

/** The test encode's setting: small, so it is quick on any encoder, with the options a stream gets. */
const PROBE_SETTING: VideoSetting = {
  kbps: 1000,
  bufsizeKbps: 1000,
  keyintFrames: 30,
  fps: 30,
  x264Preset: 'veryfast',
  tune: null,
  profile: 'main',
};

/** The encoders of ENCODER_NAMES in `ffmpeg -encoders` output (` V....D h264_nvenc  NVIDIA NVENC …`). */
export function parseEncoderList(text: string): EncoderName[] {
  const codecs = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*V[A-Z.]{5}\s+(\S+)/.exec(line);
    if (m) codecs.add(m[1]!);
  }
  return ENCODER_NAMES.filter((name) => codecs.has(FFMPEG_CODEC[name]));
}

/** Which of ENCODER_NAMES (x264 included) this ffmpeg was built with; undefined if it could not be asked. */
async function readEncoderList(ffmpeg: string, timeoutMs: number): Promise<EncoderName[] | undefined> {
  const r = await runBounded(ffmpeg, ['-hide_banner', '-nostdin', '-encoders'], timeoutMs);
  return r.exitCode === 0 ? parseEncoderList(r.stdout) : undefined;
}

/** Which of ENCODER_NAMES (x264 included) this ffmpeg was built with (none if it cannot be run). */
export async function listedEncoders(ffmpeg: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<EncoderName[]> {
  return (await readEncoderList(ffmpeg, timeoutMs)) ?? [];
}

/** The hardware H.264 encoders this ffmpeg lists, best first. */
export async function listedHardwareEncoders(
  ffmpeg: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<HardwareEncoderName[]> {
  const listed = await listedEncoders(ffmpeg, timeoutMs);
  return HARDWARE_ENCODERS.filter((name) => listed.includes(name));
}

/** ffmpeg's summary lines, which say that something failed but not what. */
const GENERIC = new RegExp(
  '^(Conversion failed|Error initializing output stream|Error while opening encoder|Error parsing global options|' +
    'Failed to set value .* for option|Device creation failed|Error opening output file)',
);

/**
 * The line that says why an encode failed, short: the first error an encoder or device logged under its own
 * name (`[h264_nvenc @ 0x…] Cannot load libcuda.so.1`), else the last specific line, else ffmpeg's summary
 * without its boilerplate ("Error while opening encoder for output stream #0:0").
 */
export function failureReason(log: string): string | undefined {
  const lines = log
    .split('\n')
    .map((l) => /^(?:\[([^\]]+?) @ 0x[0-9a-f]+\]\s*)?(?:\[(?:panic|fatal|error|warning)\]\s*)?(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null && m[2]!.trim() !== '')
    .map((m) => ({ context: m[1], text: m[2]!.trim() }));
  const specific = lines.filter((l) => !GENERIC.test(l.text));
  const chosen = specific.find((l) => l.context)?.text ?? specific.at(-1)?.text ?? lines.at(-1)?.text;
  if (!chosen) return undefined;
  const trimmed = chosen
    .replace(/^Error initializing output stream [\d:]+ -- /, '')
    .replace(/ - maybe incorrect parameters.*$/, '')
    .replace(/\.$/, '');
  return trimmed.length > 160 ? `${trimmed.slice(0, 157)}...` : trimmed;
}

/** A real test encode: 15 frames of a test pattern through the encoder with its setup, into nothing. */
export async function probeEncoder(
  ffmpeg: string,
  name: EncoderName,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ProbeResult> {
  const setup = hardwareSetup(name);
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'level+error',
    '-nostats',
    '-progress',
    'pipe:1',
    ...setup.globalArgs,
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=30',
    '-frames:v',
    '15',
    '-vf',
    `format=yuv420p${setup.filterTail}`,
    '-map',
    '0:v',
    ...videoEncoderArgs(name, PROBE_SETTING, 0),
    '-f',
    'null',
    '-',
  ];
  const r = await runBounded(ffmpeg, args, timeoutMs);
  if (r.timedOut) return { name, ok: false, reason: `no result within ${timeoutMs / 1000} s`, ms: r.ms };
  if (r.spawnError) return { name, ok: false, reason: `could not run ${ffmpeg}: ${r.spawnError}`, ms: r.ms };
  // frames out, not only exit 0: a wrapper script (--ffmpeg) may hide ffmpeg's exit code
  const frames = Math.max(0, ...[...r.stdout.matchAll(/^frame=(\d+)$/gm)].map((m) => Number(m[1])));
  if (r.exitCode === 0 && frames > 0) return { name, ok: true, ms: r.ms };
  if (r.exitCode === 0)
    return { name, ok: false, reason: failureReason(r.stderr) ?? 'no frame came out of the encoder', ms: r.ms };
  return { name, ok: false, reason: failureReason(r.stderr) ?? `ffmpeg exited with code ${r.exitCode}`, ms: r.ms };
}

/** What this ffmpeg offers here: the encoders it lists, and how each listed hardware one fared, best first. */
export interface EncoderSurvey {
  listed: EncoderName[];
  hardware: ProbeResult[];
  /** Nothing had to be run: all of it came from the last day's cache. */
  fromCache: boolean;
}

const remember = (
  env: Record<string, string | undefined>,
  key: string,
  update: Parameters<typeof writeEncoderCache>[2],
  now: number,
): void => {
  try {
    writeEncoderCache(env, key, update, now);
  } catch {
    // a read-only home only costs a probe next time
  }
};

/** Lists and probes (in parallel) what the cache does not know from the last day, and caches it. */
export async function surveyEncoders(
  ffmpeg: string,
  env: Record<string, string | undefined>,
  now = Date.now(),
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<EncoderSurvey> {
  const key = ffmpegKey(ffmpeg);
  const cached = readEncoderCache(env, key, now);
  // an ffmpeg that cannot even list its encoders is not remembered as having none
  const read = cached.listed ? undefined : await readEncoderList(ffmpeg, timeoutMs);
  const listed = cached.listed?.names ?? read ?? [];
  const hardware = HARDWARE_ENCODERS.filter((name) => listed.includes(name));
  const missing = hardware.filter((name) => !cached.results[name]);
  const probed = await Promise.all(missing.map((name) => probeEncoder(ffmpeg, name, timeoutMs)));
  if (read || probed.length > 0) remember(env, key, { ...(read ? { listed: read } : {}), results: probed }, now);
  const results = hardware.map((name) => cached.results[name] ?? probed.find((r) => r.name === name)!);
  return {
    listed,
    hardware: results.map(({ name, ok, reason, ms }) => ({ name, ok, ...(reason ? { reason } : {}), ms })),
    fromCache: cached.listed !== undefined && missing.length === 0,
  };
}

export interface EncoderChoice {
  name: EncoderName;
  /** Said once to the user: why the encoder is not the one they might expect. */
  note?: string;
  /** The hardware encoders looked at, best first, with how each fared. */
  tried: ProbeResult[];
}

/**
 * `auto`: the best listed hardware encoder that works here, else x264 with one note naming what failed.
 * `x264`: x264, nothing probed. A hardware encoder by name: that one, or a UsageError saying what to do.
 * Results come from the cache when it knows them from the last day.
 */
export async function chooseEncoder(
  requested: EncoderName | 'auto',
  ffmpeg: string,
  env: Record<string, string | undefined>,
  now = Date.now(),
): Promise<EncoderChoice> {
  if (requested === 'x264') return { name: 'x264', tried: [] };
  const survey = await surveyEncoders(ffmpeg, env, now);
  if (requested === 'auto') {
    const best = survey.hardware.find((r) => r.ok);
    if (best) return { name: best.name, tried: survey.hardware };
    if (survey.hardware.length === 0) return { name: 'x264', tried: [] };
    const failed = survey.hardware.map((r) => `${r.name}: ${r.reason ?? 'failed'}`).join('; ');
    return {
      name: 'x264',
      note: `no hardware encoder works here (${failed}): encoding with x264`,
      tried: survey.hardware,
    };
  }
  const result = survey.hardware.find((r) => r.name === requested);
  if (!result)
    throw new UsageError(
      `--encoder ${requested}: this ffmpeg (${ffmpeg}) has no ${FFMPEG_CODEC[requested]}: use --encoder auto or x264`,
    );
  if (!result.ok)
    throw new UsageError(`--encoder ${requested} does not work here (${result.reason}): use --encoder auto or x264`);
  return { name: requested, tried: [result] };
}
