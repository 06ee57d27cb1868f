import { execa } from 'execa';
import { summarizeProbe, type ProbeJson, type ReceivedSummary } from './summary.js';
import { childEnv } from '../secret.js';

/** ffprobe gets no keys in its environment, as ffmpeg and hooks do not. */
const keyless = () => ({ env: childEnv(), extendEnv: false }) as const;

/** Reads a recording (or stream) with ffprobe: streams and every packet. */
export async function probeReceived(ffprobe: string, input: string): Promise<ReceivedSummary> {
  const { stdout } = await execa(
    ffprobe,
    [
      '-v',
      'error',
      '-show_entries',
      'stream=index,codec_type,codec_name,profile,width,height,sample_rate,channels',
      '-show_entries',
      'packet=stream_index,pts_time,dts_time,size,flags',
      '-of',
      'json',
      input,
    ],
    { timeout: 60_000, ...keyless() },
  );
  return summarizeProbe(JSON.parse(stdout) as ProbeJson);
}

/** Whether a file source is readable by ffmpeg, whether it has audio, and how long it is (when it says). */
export async function probeSourceFile(
  ffprobe: string,
  file: string,
): Promise<{ ok: boolean; hasVideo: boolean; hasAudio: boolean; durationS?: number; error?: string }> {
  const r = await execa(
    ffprobe,
    ['-v', 'error', '-show_entries', 'stream=codec_type:format=duration', '-of', 'json', file],
    { reject: false, timeout: 30_000, ...keyless() },
  );
  if (r.exitCode !== 0) return { ok: false, hasVideo: false, hasAudio: false, error: String(r.stderr).split('\n')[0] };
  const json = JSON.parse(String(r.stdout)) as ProbeJson & { format?: { duration?: string } };
  const streams = json.streams ?? [];
  const durationS = Number(json.format?.duration);
  return {
    ok: true,
    hasVideo: streams.some((s) => s.codec_type === 'video'),
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
    ...(durationS > 0 ? { durationS } : {}),
  };
}

export async function toolVersion(tool: string): Promise<string> {
  const r = await execa(tool, ['-version'], { reject: false, timeout: 10_000, ...keyless() });
  return String(r.stdout).split('\n')[0] ?? 'unknown';
}
