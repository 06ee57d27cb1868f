import type { Command } from 'commander';

/** The flags `start` and `plan` share, as commander gives them (unchecked). */
export interface RawStreamFlags {
  to: string[];
  /** start: the stream's name on this machine (its control socket). */
  name?: string;
  /** start: HOST:PORT to serve Prometheus metrics on. */
  metrics?: string;
  source?: string;
  preset?: string;
  loop?: boolean;
  videoDevice?: string;
  audioDevice?: string;
  videoBitrate?: string;
  audioBitrate?: string;
  keyint?: string;
  duration?: string;
  record?: string;
  config?: string;
  ffmpeg?: string;
  ffprobe?: string;
  json?: boolean;
  verbose?: boolean;
  retryMaxDelay?: string;
  maxRetries?: string;
  insecureTls?: boolean;
  onState?: string;
  watchdog?: string;
  audioRate?: string;
  allowOverCap?: boolean;
  rehearse?: boolean;
  uplink?: string;
  strict?: boolean;
  remeasure?: boolean;
  listen?: string;
  slate?: string;
  slateTimeout?: string;
  copy?: boolean;
  /** commander's --no-adaptive-bitrate: false when given. */
  adaptiveBitrate?: boolean;
  fit?: string;
  encoder?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addStreamOptions(cmd: Command): Command {
  return cmd
    .option(
      '-t, --to <list>',
      'destinations: platform ids, config names, local, ' +
        'or [label=]rtmp(s)://host/app/key (comma-separated, repeatable)',
      collect,
      [],
    )
    .option(
      '-s, --source <source>',
      'testsrc (default), camera, screen, - (stdin), a file, a URL to restream, or listen (OBS publishes to rtmpush)',
    )
    .option('--listen <host:port>', 'with --source listen: where encoders publish (default 127.0.0.1:1935)')
    .option(
      '--copy',
      "with --source listen: send the encoder's stream as it is (no re-encoding), if the platforms take it",
    )
    .option('--slate <file>', 'an image or video the destinations get while the source is lost (default: a card)')
    .option('--slate-timeout <time>', 'end the stream after the slate has played this long (default 10m; 0: at once)')
    .option('--no-adaptive-bitrate', 'keep the video bitrate when the uplink sags (default: lower it, then back up)')
    .option(
      '-p, --preset <name>',
      'encoding preset (see rtmpush presets); default 720p30; one destination its own: --to tiktok@vertical-720p30',
    )
    .option('--fit <crop|pad|blur>', 'a source of another shape: cut to the frame, bars, or over a blurred copy')
    .option(
      '--encoder <name>',
      'H.264 encoder: auto (default: a hardware one that works here, else x264), x264, nvenc, qsv, vaapi, ' +
        'videotoolbox, v4l2m2m',
    )
    .option('--loop', 'repeat a file source forever')
    .option('--video-device <device>', 'camera/screen device (e.g. /dev/video0, :0.0, an avfoundation index)')
    .option('--audio-device <device>', 'audio device (e.g. pulse:default, alsa:hw:0)')
    .option('--video-bitrate <rate>', 'video bitrate, e.g. 2500k or 4M (still capped by each platform)')
    .option('--audio-bitrate <rate>', 'audio bitrate, e.g. 128k')
    .option('--keyint <seconds>', 'keyframe interval in seconds (default 2)')
    .option('--audio-rate <hz>', 'audio sample rate: 48000 (default), 44100, 32000, 22050')
    .option(
      '--allow-over-cap',
      "keep --video-bitrate even above a platform's published cap (caps are disputed; partners get more)",
    )
    .option(
      '--uplink <auto|rate|off>',
      'cap the bitrate to 70 % of the uplink shared by all destinations: ' +
        'auto (the last `rtmpush uplink` measurement, default), a rate like 8M, or off',
    )
    .option(
      '--remeasure',
      'measure the uplink again now (with a twitch or restream destination), even if a measurement from today exists',
    )
    .option('--strict', 'stop (exit 2) when the capped bitrate is below what the preset needs')
    .option(
      '--rehearse',
      'run the planned pipeline into the embedded server instead of the platforms ' +
        'and check what arrived against every chosen platform',
    )
    .option('-d, --duration <time>', 'stop after this long, e.g. 90s, 5m, 1h')
    .option('--record <file>', 'also record locally to this file (Matroska)')
    .option('-c, --config <file>', 'config file (default ./rtmpush.config.json, then ~/.config/rtmpush/config.json)')
    .option('--ffmpeg <path>', 'ffmpeg binary to use (or RTMPUSH_FFMPEG)')
    .option('--ffprobe <path>', 'ffprobe binary to use (or RTMPUSH_FFPROBE)')
    .option('--retry-max-delay <time>', 'longest wait between reconnection tries (default 30s)')
    .option(
      '--max-retries <n>',
      'give a destination up as failed after this many failed tries in a row (default: never)',
    )
    .option('--insecure-tls', 'do not check rtmps:// server certificates (a private CA is better: RTMPUSH_CA_FILE)')
    .option('--watchdog <time>', 'restart the encoder when it makes no progress for this long (default 15s)')
    .option('--on-state <cmd>', 'run this shell command on every state change, the event as JSON on its stdin')
    .option('--json', 'print NDJSON events on stdout')
    .option('-v, --verbose', "also show ffmpeg's own log lines (keys redacted)");
}
