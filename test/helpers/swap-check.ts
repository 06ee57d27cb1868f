import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { flvTags, type Tag } from './flv.js';

/**
 * What a swap (the slate in and out, a publisher back, a bitrate step) left in a recording, read tag by tag as the
 * platform received it: ffmpeg's own demuxer hides sequence headers that change and end-of-sequence tags.
 */
export interface SwapReport {
  /** The distinct AVC sequence headers (hex), in the order they first came. */
  avcHeaders: string[];
  /** AVC end-of-sequence tags, and how many came before the last video frame. */
  endOfSequence: number;
  endOfSequenceBeforeEnd: number;
  /** Keyframe to keyframe, ms. */
  keyframeIntervals: number[];
  /** Video frame to frame (ms), every step. */
  videoSteps: number[];
  /** Audio frame to frame (ms), every step. */
  audioSteps: number[];
  videoFrames: number;
  audioFrames: number;
}

/** The payload kinds of FLV video: AVC packet type 0 (sequence header), 1 (NALUs), 2 (end of sequence). */
const avcType = (t: Tag): number => (t.type === 9 && (t.data[0]! & 0x0f) === 7 ? t.data[1]! : -1);

export function swapReport(file: string | Buffer): SwapReport {
  const tags = flvTags(file);
  const avcHeaders: string[] = [];
  const video: Tag[] = [];
  const audio: Tag[] = [];
  const eos: number[] = [];
  for (const [i, t] of tags.entries()) {
    const kind = avcType(t);
    if (kind === 0) {
      const hex = t.data.toString('hex');
      if (!avcHeaders.includes(hex)) avcHeaders.push(hex);
    } else if (kind === 1) video.push(t);
    else if (kind === 2) eos.push(i);
    else if (t.type === 8 && t.data[1] !== 0) audio.push(t);
  }
  const lastVideoAt = tags.lastIndexOf(video.at(-1)!);
  const keyframes = video.filter((t) => t.data[0]! >> 4 === 1).map((t) => t.timestamp);
  const steps = (ts: number[]): number[] => ts.slice(1).map((t, i) => t - ts[i]!);
  return {
    avcHeaders,
    endOfSequence: eos.length,
    endOfSequenceBeforeEnd: eos.filter((i) => i < lastVideoAt).length,
    keyframeIntervals: steps(keyframes),
    videoSteps: steps(video.map((t) => t.timestamp)),
    audioSteps: steps(audio.map((t) => t.timestamp)),
    videoFrames: video.length,
    audioFrames: audio.length,
  };
}

/**
 * The recording remuxed to MP4 (`-c copy`, as a user cuts an archive) and decoded: ffmpeg's errors, one per line
 * (none when every frame decodes).
 */
export function mp4DecodeErrors(flv: string): string[] {
  const mp4 = `${flv}.mp4`;
  try {
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', flv, '-c', 'copy', mp4], { stdio: 'pipe' });
    const r = spawnSync('ffmpeg', ['-v', 'error', '-i', mp4, '-f', 'null', '-'], { encoding: 'utf8' });
    return r.stderr.split('\n').filter(Boolean);
  } finally {
    if (existsSync(mp4)) rmSync(mp4);
  }
}

/** lavfi inputs for a source whose picture turns white for one frame and whose 1 kHz beep starts at every second. */
export function flashBeepInputs(size = '640x360', fps = 30, rate = 48000): string[] {
  const picture =
    `testsrc2=size=${size}:rate=${fps},` +
    `drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(n\\,${fps})\\,1)'`;
  const beep = `aevalsrc='if(lt(mod(t\\,1)\\,0.1)\\,0.8*sin(2*PI*1000*t)\\,0)':s=${rate}:c=stereo`;
  return ['-re', '-f', 'lavfi', '-i', picture, '-re', '-f', 'lavfi', '-i', beep];
}

/**
 * Each flash's offset from the beep nearest it (ms, beep minus flash), read from the decoded recording: a flash is
 * a frame whose mean luma is near white after one that is not; a beep starts at the first loud sample after half a
 * second of quiet. Audio gaps are filled with silence so samples keep their time.
 */
export function flashBeepOffsets(file: string, rate = 48000): { offsets: number[]; flashes: number; beeps: number } {
  const stats = `${file}.yavg.txt`;
  const pcm = execFileSync(
    'ffmpeg',
    [
      ...['-v', 'error', '-copyts', '-i', file],
      ...[
        '-map',
        '0:v',
        '-vf',
        `signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=${stats}`,
        '-f',
        'null',
        '-',
      ],
      ...[
        '-map',
        '0:a',
        '-af',
        `aresample=async=1:min_hard_comp=0.005:first_pts=0,aformat=sample_fmts=s16:channel_layouts=mono`,
      ],
      ...['-ar', String(rate), '-f', 's16le', '-'],
    ],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  const flashes: number[] = [];
  let pts = 0;
  let white = false;
  for (const line of readFileSync(stats, 'utf8').split('\n')) {
    const frame = /pts_time:([\d.]+)/.exec(line);
    if (frame) pts = Number(frame[1]);
    const yavg = /YAVG=([\d.]+)/.exec(line);
    if (!yavg) continue;
    const now = Number(yavg[1]) > 200;
    if (now && !white) flashes.push(pts * 1000);
    white = now;
  }
  rmSync(stats, { force: true });
  const beeps: number[] = [];
  let quiet = rate;
  for (let i = 0; i + 1 < pcm.length; i += 2) {
    const loud = Math.abs(pcm.readInt16LE(i)) > 8000;
    if (loud && quiet >= rate / 2) beeps.push(((i / 2) * 1000) / rate);
    quiet = loud ? 0 : quiet + 1;
  }
  const offsets = flashes.flatMap((f) => {
    const nearest = beeps.reduce((best, b) => (Math.abs(b - f) < Math.abs(best - f) ? b : best), Infinity);
    return Math.abs(nearest - f) < 400 ? [Math.round(nearest - f)] : [];
  });
  return { offsets, flashes: flashes.length, beeps: beeps.length };
}
