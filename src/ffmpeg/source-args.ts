import { UsageError } from '../errors.js';
import type { Source } from '../plan/source.js';

/** The protocols ffmpeg may open for a URL source read through a list (the concat demuxer allows only its own). */
const PROTOCOLS: Record<string, string> = {
  rtmp: 'rtmp,tcp',
  rtmps: 'rtmps,rtmp,tcp,tls',
  srt: 'srt,udp',
  http: 'http,https,tcp,tls,crypto,httpproxy',
  https: 'http,https,tcp,tls,crypto,httpproxy',
  rtsp: 'rtsp,rtp,srtp,udp,tcp,tls',
  udp: 'udp,rtp',
  tcp: 'tcp',
};

/** The list's text: one ffconcat entry naming the URL (quotes escaped as ffconcat wants). */
export function sourceListFile(url: string): string {
  return `ffconcat version 1.0\nfile '${url.replace(/'/g, "'\\''")}'\n`;
}

export interface InputArgs {
  args: string[];
  videoMap: string;
  audioMap: string;
  /** ffmpeg reads this source from its stdin, so `q` cannot be sent there. */
  usesStdin: boolean;
  /** Output options the source needs (before the outputs). */
  outputArgs?: string[];
}

interface Capture {
  width: number;
  height: number;
  fps: number;
  sampleRate: number;
  /** The fd of the pipe rtmpush writes the source into: a private URL's list, an ingest's FLV. */
  inputFd: number;
}

const silence = (rate: number): string[] => ['-f', 'lavfi', '-i', `anullsrc=channel_layout=stereo:sample_rate=${rate}`];

/** `pulse:default`, `alsa:hw:0` or a bare pulse device name → ffmpeg input args (Linux). */
function linuxAudio(device: string | undefined): string[] {
  if (!device || device === 'default') return ['-f', 'pulse', '-i', 'default'];
  const m = /^(pulse|alsa):(.+)$/.exec(device);
  return m ? ['-f', m[1]!, '-i', m[2]!] : ['-f', 'pulse', '-i', device];
}

/** ffmpeg input arguments for a source, and which input streams carry video and audio. */
export function sourceInputArgs(source: Source, c: Capture): InputArgs {
  const twoInputs = (args: string[]): InputArgs => ({ args, videoMap: '0:v:0', audioMap: '1:a:0', usesStdin: false });
  const oneInput = (args: string[], usesStdin = false): InputArgs => ({
    args,
    videoMap: '0:v:0',
    audioMap: '0:a:0',
    usesStdin,
  });
  const fps = String(c.fps);
  switch (source.kind) {
    case 'testsrc':
      return twoInputs([
        '-re',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=${c.width}x${c.height}:rate=${c.fps}`,
        '-re',
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=440:sample_rate=${c.sampleRate}`,
      ]);
    case 'file': {
      // a swap's new encoder goes on from where the one before it was (a looped file from there, then from its start)
      const at = source.startMs ? ['-ss', (source.startMs / 1000).toFixed(3)] : [];
      const input = ['-re', ...(source.loop ? ['-stream_loop', '-1'] : []), ...at, '-i', source.path];
      // The silent track is endless: -shortest ends the stream with the file.
      return source.hasAudio
        ? oneInput(input)
        : { ...twoInputs([...input, ...silence(c.sampleRate)]), outputArgs: ['-shortest'] };
    }
    case 'stdin':
      return oneInput(['-i', 'pipe:0'], true);
    case 'url': {
      if (!source.private) return oneInput(['-i', source.url]);
      const scheme = source.url.slice(0, source.url.indexOf(':')).toLowerCase();
      return oneInput([
        '-protocol_whitelist',
        `pipe,${PROTOCOLS[scheme] ?? scheme}`,
        '-f',
        'concat',
        '-safe',
        '0',
        '-i',
        `pipe:${c.inputFd}`,
      ]);
    }
    case 'camera':
      return cameraArgs(source, c, fps);
    case 'screen':
      return screenArgs(source, c, fps);
    case 'listen': {
      // Live already (no -re). No probing beyond the first packets: rtmpush writes the codec headers first, so the
      // streams are known at once. Probing a second of stream (as before) put a new encoder a second behind the
      // one it replaces (a bitrate swap showed ~0.5 s of picture twice); now ~0.1 s.
      const input = ['-probesize', '32768', '-analyzeduration', '0', '-f', 'flv', '-i', `pipe:${c.inputFd}`];
      // video only: silence beside it, ended with the video
      return source.audio === false
        ? { ...twoInputs([...input, ...silence(c.sampleRate)]), outputArgs: ['-shortest'] }
        : oneInput(input);
    }
    case 'slate': {
      const input = source.image
        ? ['-re', '-loop', '1', '-framerate', fps, '-i', source.path]
        : ['-re', '-stream_loop', '-1', '-i', source.path];
      return twoInputs([...input, '-re', ...silence(c.sampleRate)]);
    }
  }
}

function cameraArgs(source: Extract<Source, { kind: 'camera' }>, c: Capture, fps: string): InputArgs {
  const size = `${c.width}x${c.height}`;
  if (source.os === 'linux') {
    return {
      args: [
        '-f',
        'v4l2',
        '-framerate',
        fps,
        '-video_size',
        size,
        '-i',
        source.videoDevice ?? '/dev/video0',
        ...linuxAudio(source.audioDevice),
      ],
      videoMap: '0:v:0',
      audioMap: '1:a:0',
      usesStdin: false,
    };
  }
  if (source.os === 'darwin') {
    const spec = `${source.videoDevice ?? '0'}:${source.audioDevice ?? '0'}`;
    return {
      args: ['-f', 'avfoundation', '-framerate', fps, '-video_size', size, '-i', spec],
      videoMap: '0:v:0',
      audioMap: '0:a:0',
      usesStdin: false,
    };
  }
  if (!source.videoDevice || !source.audioDevice) {
    throw new UsageError(
      'camera on Windows needs --video-device and --audio-device names ' +
        '(list them with: ffmpeg -list_devices true -f dshow -i dummy)',
    );
  }
  return {
    args: [
      '-f',
      'dshow',
      '-framerate',
      fps,
      '-video_size',
      size,
      '-i',
      `video=${source.videoDevice}:audio=${source.audioDevice}`,
    ],
    videoMap: '0:v:0',
    audioMap: '0:a:0',
    usesStdin: false,
  };
}

function screenArgs(source: Extract<Source, { kind: 'screen' }>, c: Capture, fps: string): InputArgs {
  let video: string[];
  if (source.os === 'linux') video = ['-f', 'x11grab', '-framerate', fps, '-i', source.videoDevice ?? ':0.0'];
  else if (source.os === 'darwin')
    video = [
      '-f',
      'avfoundation',
      '-capture_cursor',
      '1',
      '-framerate',
      fps,
      '-i',
      `${source.videoDevice ?? 'Capture screen 0'}:none`,
    ];
  else video = ['-f', 'gdigrab', '-framerate', fps, '-i', source.videoDevice ?? 'desktop'];
  let audio: string[];
  if (!source.audioDevice) audio = silence(c.sampleRate);
  else if (source.os === 'linux') audio = linuxAudio(source.audioDevice);
  else if (source.os === 'darwin') audio = ['-f', 'avfoundation', '-i', `none:${source.audioDevice}`];
  else audio = ['-f', 'dshow', '-i', `audio=${source.audioDevice}`];
  return { args: [...video, ...audio], videoMap: '0:v:0', audioMap: '1:a:0', usesStdin: false };
}
