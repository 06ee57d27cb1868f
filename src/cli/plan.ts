import { buildFfmpegArgv } from '../ffmpeg/argv.js';
import { locateFfmpeg } from '../ffmpeg/locate.js';
import { endpointUrl } from '../platforms/destinations.js';
import { describeSource } from '../plan/source.js';
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
      destinations,
      durationMs: plan.durationMs ?? null,
      record: plan.record ?? null,
      notes: plan.notes,
      config: config.file ?? null,
      ffmpeg: argv,
    });
    return 0;
  }
  const v = plan.video;
  const lines = [
    `preset   ${plan.preset}`,
    `source   ${describeSource(plan.source)}`,
    `video    ${v.width}x${v.height}@${v.fps} H.264 ${v.profile} ${v.kbps} kbps CBR (bufsize ${v.bufsizeKbps}k), ` +
      `x264 ${v.x264Preset}, keyframe every ${v.keyintSeconds} s (${v.keyintFrames} frames)`,
    `bitrate  set by ${plan.bitrate.text}`,
    `audio    AAC-LC ${plan.audio.kbps} kbps ${plan.audio.sampleRate} Hz ${plan.audio.channels} ch`,
    ...destinations.map((d) => `to       ${d.label}: ${d.url}`),
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
