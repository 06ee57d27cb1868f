import { UsageError } from '../errors.js';
import { Secret } from '../secret.js';

export type HostOs = 'linux' | 'darwin' | 'win32';

export type Source =
  | { kind: 'testsrc' }
  | {
      kind: 'file';
      readonly path: string;
      readonly loop: boolean;
      readonly hasAudio: boolean;
      /** Its length, as ffprobe read it (a looped file's position is taken modulo it). */
      readonly durationS?: number;
      /** A regular file (not a FIFO or a device): it can be opened again, at a position. */
      readonly seekable?: boolean;
      /** Where this encoder starts reading it (a swap's new encoder goes on from where the old one was). */
      readonly startMs?: number;
    }
  | { kind: 'stdin' }
  /**
   * `private`: the URL holds a credential (a password, an RTMP stream name, a token), so ffmpeg reads it from a
   * list rtmpush writes into a pipe (nothing on disk, nothing in ffmpeg's command line).
   */
  | { kind: 'url'; url: string; private: boolean }
  | { kind: 'camera'; os: HostOs; videoDevice?: string; audioDevice?: string }
  | { kind: 'screen'; os: HostOs; videoDevice?: string; audioDevice?: string }
  /**
   * An encoder publishes to rtmpush (`--listen`): ffmpeg reads its FLV on a pipe rtmpush feeds. `audio: false`:
   * the publisher sends video only (silence is added).
   */
  | { kind: 'listen'; audio?: boolean }
  /** What the destinations get while the source is lost: an image held, or a video looped, and silence. */
  | { kind: 'slate'; path: string; image: boolean };

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
  if (flags.loop && (scheme || ['testsrc', '-', 'camera', 'screen', 'listen'].includes(raw))) {
    throw new UsageError('--loop only works with a file --source');
  }
  if (raw === 'testsrc') return { kind: 'testsrc' };
  if (raw === '-') return { kind: 'stdin' };
  if (raw === 'listen') return { kind: 'listen' };
  if (raw === 'camera' || raw === 'screen') {
    return { kind: raw, os: flags.os, videoDevice: flags.videoDevice, audioDevice: flags.audioDevice };
  }
  if (scheme) {
    if (!URL_SCHEMES.includes(scheme)) {
      throw new UsageError(
        `--source ${scheme}:// is not supported: ` +
          `use ${URL_SCHEMES.join(', ')} URLs, a file, camera, screen, listen, testsrc or -`,
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

/**
 * Sources that can be lost while streaming and come back (an encoder publishing, a URL, a device): the slate covers
 * them. A file, stdin and the test pattern end or run on their own.
 */
export function slateCovers(source: Source): boolean {
  return ['listen', 'url', 'camera', 'screen'].includes(source.kind);
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
    case 'listen':
      return 'an encoder publishing to rtmpush';
    case 'slate':
      return `slate ${source.path}`;
  }
}
