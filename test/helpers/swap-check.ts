import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { flvTags, type Tag } from './flv.js';

/**
 * What a swap (the slate in and out, a publisher back, a bitrate step) left in a recording, read tag by tag as the
 * platform received it: ffmpeg's own demuxer hides sequence headers that change and end-of-sequence tags.
 */
export interface SwapReport {
  /** The distinct AVC sequence headers (hex), in the order they first came, and the distinct AAC ones. */
  avcHeaders: string[];
  aacHeaders: string[];
  /** AVC sequence headers the same as the one before them (sent again though the decoder has it). */
  avcHeaderRepeats: number;
  /** AVC end-of-sequence tags, and how many came before the last video frame. */
  endOfSequence: number;
  endOfSequenceBeforeEnd: number;
  /** Keyframe to keyframe, ms. */
  keyframeIntervals: number[];
  /** Video frame to frame (ms), every step, in decoding order (FLV's timestamps). */
  videoSteps: number[];
  /** The same in presentation order (each frame's timestamp plus its composition offset, sorted). */
  presentationSteps: number[];
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
  const aacHeaders: string[] = [];
  let avcHeaderRepeats = 0;
  let lastAvc = '';
  const video: Tag[] = [];
  const audio: Tag[] = [];
  const eos: number[] = [];
  for (const [i, t] of tags.entries()) {
    const kind = avcType(t);
    if (kind === 0) {
      const hex = t.data.toString('hex');
      if (hex === lastAvc) avcHeaderRepeats++;
      lastAvc = hex;
      if (!avcHeaders.includes(hex)) avcHeaders.push(hex);
    } else if (kind === 1) video.push(t);
    else if (kind === 2) eos.push(i);
    else if (t.type === 8 && t.data[1] === 0) {
      // (nginx-rtmp's recorder writes the AAC header once more itself as it starts a file: counted by content)
      const hex = t.data.toString('hex');
      if (!aacHeaders.includes(hex)) aacHeaders.push(hex);
    } else if (t.type === 8) audio.push(t);
  }
  const lastVideoAt = tags.lastIndexOf(video.at(-1)!);
  const keyframes = video.filter((t) => t.data[0]! >> 4 === 1).map((t) => t.timestamp);
  const steps = (ts: number[]): number[] => ts.slice(1).map((t, i) => t - ts[i]!);
  const shown = video.map((t) => t.timestamp + t.data.readIntBE(2, 3)).sort((a, b) => a - b);
  return {
    avcHeaders,
    aacHeaders,
    avcHeaderRepeats,
    endOfSequence: eos.length,
    endOfSequenceBeforeEnd: eos.filter((i) => i < lastVideoAt).length,
    keyframeIntervals: steps(keyframes),
    videoSteps: steps(video.map((t) => t.timestamp)),
    presentationSteps: steps(shown),
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

/**
 * lavfi inputs for a source that flashes white as a 1 kHz beep starts, at every whole second; second N's flash
 * lasts N mod 4 + 1 frames and its beep (N mod 4 + 1) × 100 ms, so a flash is paired with its own beep, not one a
 * second away.
 */
export function flashBeepInputs(size = '640x360', fps = 30, rate = 48000): string[] {
  const picture =
    `testsrc2=size=${size}:rate=${fps},` +
    `drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(n\\,${fps})\\,mod(floor(n/${fps})\\,4)+1)'`;
  const tone = `if(lt(mod(t\\,1)\\,0.1*(mod(floor(t)\\,4)+1))\\,0.8*sin(2*PI*1000*t)\\,0)`;
  const beep = `aevalsrc='${tone}':s=${rate}:c=stereo`;
  return ['-re', '-f', 'lavfi', '-i', picture, '-re', '-f', 'lavfi', '-i', beep];
}

/**
 * Each flash's offset from its own beep (ms, beep minus flash), read from the decoded recording: a flash is a run
 * of frames whose mean luma is near white, a beep a run of loud samples after half a second of quiet; each is
 * known by its length (1–4 frames, 100–400 ms), so a flash pairs only with the beep of its own second, within
 * 0.1 s. Audio gaps are filled with silence so samples keep their time. `unpaired`: flashes with no beep of
 * theirs (a beep a loss cut short is shorter, so unpaired too); `repeated`: flashes shown again within 0.4 s (a
 * live source's new encoder starts a few frames behind the one it replaces).
 */
export function flashBeepOffsets(
  file: string,
  rate = 48000,
): { offsets: number[]; flashes: number; beeps: number; unpaired: number; unpairedAt: string[]; repeated: number } {
  const stats = `${file}.yavg.txt`;
  const pcm = execFileSync(
    'ffmpeg',
    [
      ...['-v', 'error', '-copyts', '-i', file],
      ...['-map', '0:v', '-vf', `signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=${stats}`],
      ...['-f', 'null', '-'],
      ...['-map', '0:a', '-af', 'aresample=async=1:min_hard_comp=0.005:first_pts=0'],
      ...['-ac', '1', '-ar', String(rate), '-f', 's16le', '-'],
    ],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  const flashes: { at: number; code: number }[] = [];
  let pts = 0;
  let run = 0;
  let runAt = 0;
  for (const line of readFileSync(stats, 'utf8').split('\n')) {
    const frame = /pts_time:([\d.]+)/.exec(line);
    if (frame) pts = Number(frame[1]) * 1000;
    const yavg = /YAVG=([\d.]+)/.exec(line);
    if (!yavg) continue;
    if (Number(yavg[1]) > 200) {
      if (run++ === 0) runAt = pts;
    } else if (run > 0) {
      flashes.push({ at: runAt, code: run });
      run = 0;
    }
  }
  rmSync(stats, { force: true });
  const beeps: { at: number; code: number }[] = [];
  const gap = rate / 200;
  let quiet = rate;
  let start = -1;
  let last = 0;
  for (let i = 0; i * 2 + 1 < pcm.length; i++) {
    const loud = Math.abs(pcm.readInt16LE(i * 2)) > 8000;
    if (loud) {
      if (start < 0 && quiet >= rate / 2) start = i;
      last = i;
      quiet = 0;
    } else if (++quiet === gap && start >= 0) {
      beeps.push({ at: (start * 1000) / rate, code: Math.round(((last - start) * 1000) / rate / 100) });
      start = -1;
    }
  }
  const offsets: number[] = [];
  const unpairedAt: string[] = [];
  let repeated = 0;
  for (const [i, f] of flashes.entries()) {
    // the same second's flash again within 0.4 s: pictures shown twice (a swap's new encoder started behind)
    const before = flashes[i - 1];
    if (before && before.code === f.code && f.at - before.at < 400) {
      repeated++;
      continue;
    }
    // the beep of its own second (its length says which) starting within 0.1 s
    const own = beeps.filter((b) => Math.abs(b.at - f.at) <= 100 && b.code === f.code);
    if (own.length === 1) offsets.push(Math.round(own[0]!.at - f.at));
    else {
      const near = beeps.filter((b) => Math.abs(b.at - f.at) < 1000).map((b) => `${Math.round(b.at)}:${b.code}`);
      unpairedAt.push(`flash ${Math.round(f.at)}:${f.code} (beeps near: ${near.join(' ')})`);
    }
  }
  return { offsets, flashes: flashes.length, beeps: beeps.length, unpaired: unpairedAt.length, unpairedAt, repeated };
}
