import { buildFfmpegArgv } from '../ffmpeg/argv.js';
import { locateFfmpeg } from '../ffmpeg/locate.js';
import { endpointUrl } from '../platforms/destinations.js';
import { describeSource } from '../plan/source.js';
import type { Encode } from '../plan/encodes.js';
import type { Plan } from '../plan/plan.js';
import { printJson } from '../report/ndjson.js';
import { MASK, redact } from '../secret.js';
import { checkCachedUplink } from '../uplink/check.js';
import type { CliIo } from './io.js';
import { hostOs, resolveStream, type RawStreamFlags } from './options.js';

/** `rtmpush plan`: what `start` would do, keys shown as ****. */
export async function planCommand(flags: RawStreamFlags, io: CliIo): Promise<number> {
  // as start does: a cached uplink figure is applied only on the network it was measured on
  const cachedUplink = await checkCachedUplink(flags.uplink, io.env);
  const { plan, config } = resolveStream(flags, { env: io.env, cwd: io.cwd, os: hostOs(), cachedUplink });
  let ffmpeg = 'ffmpeg';
  try {
    ffmpeg = locateFfmpeg({ flag: flags.ffmpeg, env: io.env, platform: process.platform });
  } catch {
    // plan still shows the command when ffmpeg is not installed yet
  }
  const argv = [ffmpeg, ...buildFfmpegArgv(plan)].map(redact);
  const destinations = plan.destinations.map((d) => ({
    label: d.label,
    kind: d.kind,
    ...(d.platform ? { platform: d.platform } : {}),
    url: `${endpointUrl(d.endpoint)}/${MASK}`,
    keySet: !d.key.isEmpty,
  }));
  if (flags.json) {
    printJson((t) => io.stdout.write(t), 'plan', {
      preset: plan.preset,
      source: redact(describeSource(plan.source)),
      video: plan.video,
      audio: plan.audio,
      bitrate: plan.bitrate,
      encodes: plan.encodes.map(encodeJson),
      destinations,
      durationMs: plan.durationMs ?? null,
      record: plan.record ?? null,
      notes: plan.notes,
      config: config.file ?? null,
      ffmpeg: argv,
    });
    return 0;
  }
  const many = plan.encodes.length > 1;
  const lines = [
    `preset   ${plan.preset}`,
    `source   ${describeSource(plan.source)}`,
    ...plan.encodes.flatMap((e) => encodeLines(e, many)),
    ...destinations.map((d) => `to       ${d.label}: ${d.url}${many ? ` (${encodeOf(plan, d.label)})` : ''}`),
    ...(plan.durationMs ? [`duration ${plan.durationMs / 1000} s`] : []),
    ...(plan.record ? [`record   ${plan.record}`] : []),
    ...plan.notes.map((n) => `note     ${n}`),
    ...config.warnings.map((w) => `warning  ${w}`),
    'ffmpeg command:',
    `  ${argv.map(shellQuote).join(' ')}`,
  ];
  io.stdout.write(`${redact(lines.join('\n'))}\n`);
  return 0;
}

/** Quote one argument for a POSIX shell, only when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const encodeOf = (plan: Plan, label: string): string =>
  plan.encodes.find((e) => e.destinations.includes(label))?.id ?? '?';

/** An encode as `plan --json` shows it: its setting, its destinations and what bound each. */
function encodeJson(e: Encode) {
  return {
    id: e.id,
    preset: e.preset,
    video: e.video,
    audio: e.audio,
    bitrate: e.bitrate,
    destinations: e.destinations,
    boundBy: e.boundBy,
    uplinkShareKbps: e.uplinkShareKbps ?? null,
  };
}

function encodeLines(e: Encode, many: boolean): string[] {
  const v = e.video;
  const head = many ? `encode   ${e.id} (${e.preset}) → ${e.destinations.join(', ')}\n  ` : '';
  const pad = many ? '  ' : '';
  return [
    `${head}video    ${v.width}x${v.height}@${v.fps} H.264 ${v.profile} ${v.kbps} kbps CBR ` +
      `(bufsize ${v.bufsizeKbps}k), ` +
      `${v.encoder === 'auto' ? 'encoder auto (x264 unless hardware works)' : v.encoder} ${v.x264Preset}, ` +
      `fit ${v.fit}, keyframe every ${v.keyintSeconds} s (${v.keyintFrames} frames)`,
    `${pad}bitrate  set by ${e.bitrate.text}`,
    ...(many
      ? Object.entries(e.boundBy)
          .filter(([, text]) => text !== e.bitrate.text)
          .map(([label, text]) => `${pad}         ${label}: ${text}`)
      : []),
    `${pad}audio    AAC-LC ${e.audio.kbps} kbps ${e.audio.sampleRate} Hz ${e.audio.channels} ch` +
      (many ? ` (video encoder ${e.videoIndex + 1}, audio encoder ${e.audioIndex + 1})` : ''),
  ];
}
