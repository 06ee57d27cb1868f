import { type EncoderName, FFMPEG_CODEC } from '../ffmpeg/encoders.js';
import { locateFfmpeg } from '../ffmpeg/locate.js';
import { surveyEncoders } from '../probe/encoders.js';

export interface EncoderLine {
  name: EncoderName;
  codec: string;
  ok: boolean;
  reason?: string;
  /** How long its test encode took (none for x264, which is not probed). */
  ms?: number;
}

/** Which H.264 encoders work here: x264 and each hardware one the ffmpeg lists, and what `--encoder auto` takes. */
export interface EncoderReport {
  ffmpeg?: string;
  /** Why nothing could be looked at (no ffmpeg). */
  error?: string;
  encoders: EncoderLine[];
  auto: EncoderName;
  /** All of it came from the last day's probe (src/probe/encoder-cache.ts). */
  cached: boolean;
}

/** Surveys the ffmpeg rtmpush would use (RTMPUSH_FFMPEG, ffmpeg-static, PATH), through the probe's cache. */
export async function encoderReport(
  env: Record<string, string | undefined>,
  locate: () => string = () => locateFfmpeg({ env, platform: process.platform }),
): Promise<EncoderReport> {
  let ffmpeg: string;
  try {
    ffmpeg = locate();
  } catch (error) {
    return { error: (error as Error).message, encoders: [], auto: 'x264', cached: false };
  }
  let survey: Awaited<ReturnType<typeof surveyEncoders>>;
  try {
    survey = await surveyEncoders(ffmpeg, env);
  } catch (error) {
    return { ffmpeg, error: `could not look: ${(error as Error).message}`, encoders: [], auto: 'x264', cached: false };
  }
  const x264: EncoderLine = survey.listed.includes('x264')
    ? { name: 'x264', codec: FFMPEG_CODEC.x264, ok: true }
    : { name: 'x264', codec: FFMPEG_CODEC.x264, ok: false, reason: 'this ffmpeg has no libx264' };
  const hardware = survey.hardware.map((r): EncoderLine => ({ ...r, codec: FFMPEG_CODEC[r.name] }));
  return {
    ffmpeg,
    encoders: [x264, ...hardware],
    auto: hardware.find((r) => r.ok)?.name ?? 'x264',
    cached: survey.fromCache,
  };
}

/** The report as doctor prints it. */
export function encoderReportText(r: EncoderReport): string {
  if (r.error) return `H.264 encoders: ${r.error}\n`;
  const lines = r.encoders.map((e) => {
    const detail = e.ok
      ? e.name === 'x264'
        ? 'software (libx264), always available'
        : `works here${e.ms ? ` (test encode ${e.ms} ms)` : ''}`
      : (e.reason ?? 'does not work here');
    return `  ${e.name.padEnd(12)} ${e.ok ? 'ok  ' : 'fail'}  ${detail}`;
  });
  const when = r.cached ? 'as probed in the last day' : 'probed now, kept a day';
  return [`H.264 encoders with ${r.ffmpeg}:`, ...lines, `  --encoder auto uses ${r.auto} here (${when})`, ''].join(
    '\n',
  );
}
