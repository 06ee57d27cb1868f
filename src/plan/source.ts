import { UsageError } from '../errors.js';
import { Secret } from '../secret.js';

export type HostOs = 'linux' | 'darwin' | 'win32';

export type Source =
  | { kind: 'testsrc' }
  | { kind: 'file'; path: string; loop: boolean; hasAudio: boolean }
  | { kind: 'stdin' }
  /**
   * `private`: the URL holds a credential (a password, an RTMP stream name, a token), so ffmpeg reads it from a
   * list rtmpush writes into a pipe (nothing on disk, nothing in ffmpeg's command line).
   */
  | { kind: 'url'; url: string; private: boolean }
  | { kind: 'camera'; os: HostOs; videoDevice?: string; audioDevice?: string }
  | { kind: 'screen'; os: HostOs; videoDevice?: string; audioDevice?: string };

export interface SourceFlags {
  source: string;
  loop?: boolean;
  videoDevice?: string;
  audioDevice?: string;
  os: HostOs;
}

const URL_SCHEMES = ['rtmp', 'rtmps', 'srt', 'http', 'https', 'rtsp', 'udp', 'tcp'];

/** --source value → what to read. Pure: whether a file exists is checked before start, not here. */
export function parseSource(flags: SourceFlags): Source {
  const raw = flags.source.trim();
  if (raw === '') throw new UsageError('--source is empty: use testsrc, camera, screen, -, a file path or a URL');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (flags.loop && (scheme || ['testsrc', '-', 'camera', 'screen'].includes(raw))) {
    throw new UsageError('--loop only works with a file --source');
  }
  if (raw === 'testsrc') return { kind: 'testsrc' };
  if (raw === '-') return { kind: 'stdin' };
  if (raw === 'camera' || raw === 'screen') {
    return { kind: raw, os: flags.os, videoDevice: flags.videoDevice, audioDevice: flags.audioDevice };
  }
  if (scheme) {
    if (!URL_SCHEMES.includes(scheme)) {
      throw new UsageError(
        `--source ${scheme}:// is not supported: use ${URL_SCHEMES.join(', ')} URLs, a file, camera, screen, testsrc or -`,
      );
    }
    return { kind: 'url', url: raw, private: hideUrlSecrets(raw) };
  }
  return { kind: 'file', path: raw, loop: Boolean(flags.loop), hasAudio: true };
}

/** A source URL can carry credentials too: its password, an RTMP stream name, token-like query values. True if any. */
function hideUrlSecrets(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError('--source: malformed URL');
  }
  const secrets: string[] = [];
  if (url.password) secrets.push(decodeURIComponent(url.password));
  const segments = url.pathname.split('/').filter(Boolean);
  if (/^rtmps?:$/.test(url.protocol) && segments.length >= 2) secrets.push(segments[segments.length - 1]!);
  for (const [name, value] of url.searchParams) {
    if (/key|token|pass|secret|auth|streamid|sig/i.test(name) && value) secrets.push(value);
  }
  for (const value of secrets) new Secret(value);
  return secrets.length > 0;
}

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
  /** The fd of the pipe a private URL source's list is written to. */
  listFd: number;
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
      const input = ['-re', ...(source.loop ? ['-stream_loop', '-1'] : []), '-i', source.path];
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
        `pipe:${c.listFd}`,
      ]);
    }
    case 'camera':
      return cameraArgs(source, c, fps);
    case 'screen':
      return screenArgs(source, c, fps);
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
      'camera on Windows needs --video-device and --audio-device names (list them with: ffmpeg -list_devices true -f dshow -i dummy)',
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

/** How a source is shown to the user (URLs may carry credentials: passed through redact() by the reporter). */
export function describeSource(source: Source): string {
  switch (source.kind) {
    case 'testsrc':
      return 'test pattern + 440 Hz tone';
    case 'file':
      return `file ${source.path}${source.loop ? ' (looped)' : ''}`;
    case 'stdin':
      return 'standard input';
    case 'url':
      return `stream ${source.url}`;
    case 'camera':
      return `camera ${source.videoDevice ?? '(default)'}`;
    case 'screen':
      return `screen ${source.videoDevice ?? '(default)'}`;
  }
}
