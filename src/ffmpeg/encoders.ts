/**
 * The H.264 encoders rtmpush can drive, and the ffmpeg options that make each one produce what the platforms
 * want: constant bitrate, a keyframe exactly every `keyintFrames` frames and none in between (no scene-cut
 * keyframes), the chosen profile. Pure: the probe that finds which of them work here is src/probe/encoders.ts.
 *
 * Every option below was checked against `ffmpeg -hide_banner -h encoder=<codec>` of Debian's ffmpeg 5.1
 * (test/unit/encoders.test.ts does so on every run) and against the encoder's source or documentation:
 *
 * x264 (libx264): the options rtmpush has always used (src/ffmpeg/argv.ts), now with the output stream's index:
 *   `-preset`, `-tune`, `-profile`, `-x264-params nal-hrd=cbr:force-cfr=1` (CBR with HRD signalling),
 *   `-g` = `-keyint_min` = keyint and `-sc_threshold 0` (no scene-cut keyframes), b = maxrate = bufsize.
 *
 * nvenc (h264_nvenc): `-rc cbr`; `-g` sets the GOP; `-no-scenecut 1` stops adaptive I-frames at scene cuts
 *   (they need look-ahead, which stays at its default 0); `-forced-idr 1` makes any forced keyframe an IDR;
 *   `-strict_gop 1` keeps the rate even from GOP to GOP. The speed knob is `-preset p1`…`p7`, which ffmpeg 5.1
 *   takes (its help lists p1..p7 beside the old slow/medium/fast/hp/hq/ll names; FFmpeg's nvenc_h264.c has them
 *   since 4.4, https://www.ffmpeg.org/doxygen/4.4/nvenc__h264_8c_source.html). `-profile baseline|main|high`.
 *
 * qsv (h264_qsv): CBR is what ffmpeg picks when maxrate equals the bitrate and neither look-ahead nor a quality
 *   is asked (qsvenc.c, select_rc_mode: `rc_max_rate == bit_rate` → MFX_RATECONTROL_CBR; Intel's
 *   media-delivery doc/features/ffmpeg/README.md, "BRC modes selection"), so `-look_ahead 0` is explicit.
 *   `-g` sets the GOP, `-idr_interval 0` makes every I-frame an IDR, `-adaptive_i 0` / `-adaptive_b 0` turn off
 *   scene-dependent frame placement, `-forced_idr 1`.
 *   The speed knob is `-preset veryfast`…`veryslow` (x264's names; ultrafast/superfast → veryfast, placebo →
 *   veryslow). `-profile baseline|main|high`. It takes nv12 frames in system memory.
 *
 * vaapi (h264_vaapi): `-rc_mode CBR` (doc/encoders.texi, "VAAPI encoders", rc_mode; FFmpeg commit "vaapi_encode:
 *   Support more RC modes"), `-g`, `-idr_interval 0` (every I-frame an IDR). The picture types are ffmpeg's own
 *   fixed pattern: there is no scene-cut detection to turn off. Its speed knob, `-quality`, means something
 *   different on each driver, so it is left alone. Profiles are named `constrained_baseline|main|high`. It only
 *   takes VAAPI surfaces: the device is opened with `-vaapi_device` and the frames uploaded with `hwupload`
 *   ("These encoders only accept input in VAAPI hardware surfaces", doc/encoders.texi).
 *
 * videotoolbox (h264_videotoolbox, macOS): b with maxrate (ffmpeg sets VideoToolbox's DataRateLimits to maxrate
 *   over one second: a capped average, videotoolboxenc.c), `-g` (MaxKeyFrameInterval), `-realtime 1`,
 *   `-allow_sw 0` (hardware only: without a hardware encoder it fails, and the probe falls back to x264),
 *   `-profile baseline|main|high`. VideoToolbox has no switch for scene-cut keyframes. `-constant_bit_rate`
 *   (strict CBR) is a later ffmpeg option over a macOS 13 property that not every encoder mode supports (Apple:
 *   kVTCompressionPropertyKey_ConstantBitRate returns kVTPropertyNotSupportedErr there), so it is not used.
 *   Debian's ffmpeg has no videotoolbox: these options are checked against FFmpeg's videotoolboxenc.c only.
 *
 * v4l2m2m (h264_v4l2m2m, e.g. Raspberry Pi): ffmpeg passes only the bitrate, the GOP size and the profile to the
 *   driver (V4L2_CID_MPEG_VIDEO_BITRATE / GOP_SIZE / H264_PROFILE, with frame-level rate control on and no
 *   B-frames; v4l2_m2m_enc.c): the rate-control mode is the driver's. `-profile` is the generic option, which
 *   takes only numbers here (66 baseline, 77 main, 100 high: FF_PROFILE_H264_*).
 *
 * Baseline has no B-frames, and x264's zerolatency tune means none either: for the hardware encoders that is
 * `-bf 0` (the generic option; x264 applies its profile and tune itself).
 */

export type EncoderName = 'x264' | 'nvenc' | 'qsv' | 'vaapi' | 'videotoolbox' | 'v4l2m2m';
export type HardwareEncoderName = Exclude<EncoderName, 'x264'>;

/** Best first: a discrete GPU's, then Intel's two ways in, Apple's, a board's. */
export const HARDWARE_ENCODERS: readonly HardwareEncoderName[] = ['nvenc', 'qsv', 'vaapi', 'videotoolbox', 'v4l2m2m'];
export const ENCODER_NAMES: readonly EncoderName[] = ['x264', ...HARDWARE_ENCODERS];

/** The ffmpeg encoder behind each name. */
export const FFMPEG_CODEC: Readonly<Record<EncoderName, string>> = {
  x264: 'libx264',
  nvenc: 'h264_nvenc',
  qsv: 'h264_qsv',
  vaapi: 'h264_vaapi',
  videotoolbox: 'h264_videotoolbox',
  v4l2m2m: 'h264_v4l2m2m',
};

export const isEncoderName = (value: string): value is EncoderName =>
  (ENCODER_NAMES as readonly string[]).includes(value);

export interface VideoSetting {
  kbps: number;
  bufsizeKbps: number;
  keyintFrames: number;
  fps: number;
  x264Preset: string;
  tune: string | null;
  profile: 'baseline' | 'main' | 'high';
  lowDelay?: boolean;
  noBFrames?: boolean;
}

/** What an encoder needs besides its options: arguments before the inputs, and the end of the video filter. */
export interface HardwareSetup {
  globalArgs: string[];
  /** Appended to the filter chain (which ends in `format=yuv420p`); empty or starting with a comma. */
  filterTail: string;
}

/** The first render node: the GPU a VAAPI encoder normally uses. */
export const VAAPI_DEVICE = '/dev/dri/renderD128';

export function hardwareSetup(name: EncoderName, options: { vaapiDevice?: string } = {}): HardwareSetup {
  switch (name) {
    case 'vaapi':
      return {
        globalArgs: ['-vaapi_device', options.vaapiDevice ?? VAAPI_DEVICE],
        filterTail: ',format=nv12,hwupload',
      };
    case 'qsv':
      return { globalArgs: [], filterTail: ',format=nv12' };
    default:
      return { globalArgs: [], filterTail: '' };
  }
}

/** x264's presets, fastest first. */
const X264_PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
  'placebo',
] as const;
/** The same steps on nvenc's scale (p1 fastest … p7 best), and on Quick Sync's (x264's names, fewer of them). */
const NVENC_PRESETS = ['p1', 'p1', 'p2', 'p3', 'p3', 'p4', 'p5', 'p6', 'p7', 'p7'] as const;
const QSV_PRESETS = [
  'veryfast',
  'veryfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
  'veryslow',
] as const;

/** Where an x264 preset sits (an unknown one counts as veryfast, rtmpush's default). */
function speedStep(x264Preset: string): number {
  const i = (X264_PRESETS as readonly string[]).indexOf(x264Preset);
  return i >= 0 ? i : 2;
}

const V4L2_PROFILE = { baseline: '66', main: '77', high: '100' } as const;

/** x264 without lookahead and with sliced threads: ~0.35 s less to its first frame, the same parameter sets. */
const LOW_DELAY_X264 = ':rc-lookahead=0:sync-lookahead=0:sliced-threads=1';

/**
 * The codec options for output video stream `index` (`-c:v:0 libx264 -preset:v:0 veryfast …`), every option
 * with that stream's specifier so several encodes can share one command.
 */
export function videoEncoderArgs(name: EncoderName, v: VideoSetting, index: number): string[] {
  const o = (option: string, value: string | number): string[] => [`-${option}:v:${index}`, String(value)];
  const k = (n: number): string => `${n}k`;
  const rate = [
    ...o('b', k(v.kbps)),
    ...o('maxrate', k(v.kbps)),
    ...o('bufsize', k(v.bufsizeKbps)),
    // what the picture is (fitChain makes it so): the same in every encoder's parameter sets, whatever the source
    ...o('color_primaries', 'bt709'),
    ...o('color_trc', 'bt709'),
    ...o('colorspace', 'bt709'),
    ...o('color_range', 'tv'),
  ];
  const gop = o('g', v.keyintFrames);
  const noBFrames = v.profile === 'baseline' || v.tune === 'zerolatency' || v.noBFrames ? o('bf', 0) : [];
  const step = speedStep(v.x264Preset);
  switch (name) {
    case 'x264':
      return [
        ...o('c', FFMPEG_CODEC.x264),
        ...o('preset', v.x264Preset),
        ...(v.tune ? o('tune', v.tune) : []),
        ...o('profile', v.profile),
        ...o('pix_fmt', 'yuv420p'),
        ...rate,
        ...gop,
        ...o('keyint_min', v.keyintFrames),
        ...o('sc_threshold', 0),
        ...o('x264-params', `nal-hrd=cbr:force-cfr=1${v.lowDelay ? LOW_DELAY_X264 : ''}`),
        ...(v.noBFrames ? o('bf', 0) : []),
      ];
    case 'nvenc':
      return [
        ...o('c', FFMPEG_CODEC.nvenc),
        ...o('preset', NVENC_PRESETS[step] ?? 'p4'),
        ...o('profile', v.profile),
        ...o('rc', 'cbr'),
        ...rate,
        ...gop,
        ...o('no-scenecut', 1),
        ...o('forced-idr', 1),
        ...o('strict_gop', 1),
        ...noBFrames,
      ];
    case 'qsv':
      return [
        ...o('c', FFMPEG_CODEC.qsv),
        ...o('preset', QSV_PRESETS[step] ?? 'veryfast'),
        ...o('profile', v.profile),
        ...o('look_ahead', 0),
        ...rate,
        ...gop,
        ...o('idr_interval', 0),
        ...o('adaptive_i', 0),
        ...o('adaptive_b', 0),
        ...o('forced_idr', 1),
        ...noBFrames,
      ];
    case 'vaapi':
      return [
        ...o('c', FFMPEG_CODEC.vaapi),
        ...o('profile', v.profile === 'baseline' ? 'constrained_baseline' : v.profile),
        ...o('rc_mode', 'CBR'),
        ...rate,
        ...gop,
        ...o('idr_interval', 0),
        ...noBFrames,
      ];
    case 'videotoolbox':
      return [
        ...o('c', FFMPEG_CODEC.videotoolbox),
        ...o('profile', v.profile),
        ...o('realtime', 1),
        ...o('allow_sw', 0),
        ...rate,
        ...gop,
        ...noBFrames,
      ];
    case 'v4l2m2m':
      return [...o('c', FFMPEG_CODEC.v4l2m2m), ...o('profile', V4L2_PROFILE[v.profile]), ...rate, ...gop];
  }
}
