import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { buildFfmpegArgv } from '../../src/ffmpeg/argv.js';
import {
  ENCODER_NAMES,
  type EncoderName,
  FFMPEG_CODEC,
  HARDWARE_ENCODERS,
  hardwareSetup,
  type VideoSetting,
  videoEncoderArgs,
} from '../../src/ffmpeg/encoders.js';
import { locateFfmpeg } from '../../src/ffmpeg/locate.js';
import { resolveDestinations } from '../../src/platforms/destinations.js';
import { buildPlan } from '../../src/plan/plan.js';
import { findPreset, loadPresets } from '../../src/presets/load.js';

const setting = (over: Partial<VideoSetting> = {}): VideoSetting => ({
  kbps: 3000,
  bufsizeKbps: 3000,
  keyintFrames: 60,
  fps: 30,
  x264Preset: 'veryfast',
  tune: null,
  profile: 'high',
  ...over,
});

/** `-name:v:N value` pairs of an argv, as [name, specifier index, value]. */
function options(argv: string[]): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (let i = 0; i < argv.length; i += 2) {
    const m = /^-([^:]+)(?::v(?::(\d+))?)?$/.exec(argv[i]!);
    assert.ok(m, `${argv[i]} is an option`);
    out.push([m[1]!, m[2] ?? '', argv[i + 1]!]);
  }
  return out;
}
const value = (argv: string[], name: string): string | undefined => options(argv).find(([n]) => n === name)?.[2];

describe('videoEncoderArgs: what every encoder is told', () => {
  for (const name of ENCODER_NAMES) {
    it(`${name}: its codec, CBR, a keyframe exactly every keyint frames, the profile, stream 2's specifiers`, () => {
      const argv = videoEncoderArgs(name, setting(), 2);
      const opts = options(argv);
      assert.ok(
        opts.every(([, index]) => index === '2'),
        argv.join(' '),
      );
      assert.equal(value(argv, 'c'), FFMPEG_CODEC[name]);
      // CBR: the bitrate is the ceiling (and the buffer one second of it) …
      assert.equal(value(argv, 'b'), '3000k');
      assert.equal(value(argv, 'maxrate'), '3000k');
      assert.equal(value(argv, 'bufsize'), '3000k');
      // … and the encoder's own CBR switch where it has one (v4l2m2m leaves the mode to the driver)
      const cbr: Record<EncoderName, [string, string] | undefined> = {
        x264: ['x264-params', 'nal-hrd=cbr:force-cfr=1'],
        nvenc: ['rc', 'cbr'],
        qsv: ['look_ahead', '0'],
        vaapi: ['rc_mode', 'CBR'],
        videotoolbox: undefined,
        v4l2m2m: undefined,
      };
      const own = cbr[name];
      if (own) assert.equal(value(argv, own[0]), own[1]);
      assert.equal(value(argv, 'g'), '60');
      // no keyframes of the encoder's choosing in between
      const noSceneCut: Record<EncoderName, [string, string][]> = {
        x264: [
          ['keyint_min', '60'],
          ['sc_threshold', '0'],
        ],
        nvenc: [
          ['no-scenecut', '1'],
          ['forced-idr', '1'],
          ['strict_gop', '1'],
        ],
        qsv: [
          ['idr_interval', '0'],
          ['adaptive_i', '0'],
          ['adaptive_b', '0'],
        ],
        vaapi: [['idr_interval', '0']],
        videotoolbox: [],
        v4l2m2m: [],
      };
      for (const [option, v] of noSceneCut[name]) assert.equal(value(argv, option), v, `${name} -${option}`);
      assert.equal(value(argv, 'profile'), name === 'v4l2m2m' ? '100' : 'high');
    });
  }

  it('x264 gets exactly the options start has always given it, now per output stream, in the command', () => {
    const plan = buildPlan({
      preset: findPreset(loadPresets(), '1080p30'),
      source: { kind: 'testsrc' },
      destinations: resolveDestinations(['twitch'], { env: { RTMPUSH_TWITCH_KEY: 'live_test1234' }, config: {} }),
    });
    const full = buildFfmpegArgv(plan);
    const inCommand = full.slice(full.indexOf('-c:v:0'), full.indexOf('-x264-params:v:0') + 2);
    const want = [
      ['-c:v:0', 'libx264'],
      ['-preset:v:0', 'veryfast'],
      ['-profile:v:0', 'high'],
      ['-pix_fmt:v:0', 'yuv420p'],
      ['-b:v:0', '6000k'],
      ['-maxrate:v:0', '6000k'],
      ['-bufsize:v:0', '6000k'],
      // every encoder of a stream says the same of its picture: the same parameter sets whoever encodes
      ['-color_primaries:v:0', 'bt709'],
      ['-color_trc:v:0', 'bt709'],
      ['-colorspace:v:0', 'bt709'],
      ['-color_range:v:0', 'tv'],
      ['-g:v:0', '60'],
      ['-keyint_min:v:0', '60'],
      ['-sc_threshold:v:0', '0'],
      ['-x264-params:v:0', 'nal-hrd=cbr:force-cfr=1'],
    ].flat();
    assert.deepEqual(inCommand, want);
    const v = plan.video;
    const tuned = videoEncoderArgs(
      'x264',
      { ...v, profile: v.profile as VideoSetting['profile'], tune: 'zerolatency' },
      0,
    );
    assert.deepEqual(tuned.slice(2, 6), ['-preset:v:0', 'veryfast', '-tune:v:0', 'zerolatency']);
  });

  it('the x264 preset sets the hardware speed knob: nvenc p1..p7, Quick Sync by name; none elsewhere', () => {
    const preset = (name: EncoderName, x264Preset: string) =>
      value(videoEncoderArgs(name, setting({ x264Preset }), 0), 'preset');
    assert.deepEqual(
      ['ultrafast', 'veryfast', 'medium', 'slow', 'veryslow', 'placebo', 'unknown'].map((p) => preset('nvenc', p)),
      ['p1', 'p2', 'p4', 'p5', 'p7', 'p7', 'p2'],
    );
    assert.deepEqual(
      ['ultrafast', 'veryfast', 'faster', 'medium', 'veryslow', 'placebo'].map((p) => preset('qsv', p)),
      ['veryfast', 'veryfast', 'faster', 'medium', 'veryslow', 'veryslow'],
    );
    for (const name of ['vaapi', 'videotoolbox', 'v4l2m2m'] as const) assert.equal(preset(name, 'slow'), undefined);
  });

  it('baseline (or zerolatency) means no B-frames; the profile in each encoder’s own words', () => {
    for (const name of HARDWARE_ENCODERS.filter((n) => n !== 'v4l2m2m')) {
      assert.equal(value(videoEncoderArgs(name, setting({ profile: 'baseline' }), 0), 'bf'), '0', name);
      assert.equal(value(videoEncoderArgs(name, setting({ tune: 'zerolatency' }), 0), 'bf'), '0', name);
      assert.equal(value(videoEncoderArgs(name, setting(), 0), 'bf'), undefined, name);
    }
    assert.equal(
      value(videoEncoderArgs('vaapi', setting({ profile: 'baseline' }), 0), 'profile'),
      'constrained_baseline',
    );
    assert.equal(value(videoEncoderArgs('v4l2m2m', setting({ profile: 'main' }), 0), 'profile'), '77');
    assert.equal(value(videoEncoderArgs('x264', setting({ profile: 'baseline' }), 0), 'bf'), undefined);
  });

  it('hardwareSetup: vaapi opens its device and uploads nv12; qsv takes nv12; the others need nothing', () => {
    assert.deepEqual(hardwareSetup('vaapi'), {
      globalArgs: ['-vaapi_device', '/dev/dri/renderD128'],
      filterTail: ',format=nv12,hwupload',
    });
    assert.deepEqual(
      hardwareSetup('vaapi', { vaapiDevice: '/dev/dri/renderD129' }).globalArgs[1],
      '/dev/dri/renderD129',
    );
    assert.deepEqual(hardwareSetup('qsv'), { globalArgs: [], filterTail: ',format=nv12' });
    for (const name of ['x264', 'nvenc', 'videotoolbox', 'v4l2m2m'] as const)
      assert.deepEqual(hardwareSetup(name), { globalArgs: [], filterTail: '' });
  });
});

/** Options that belong to ffmpeg itself or to every encoder (AVCodecContext), not to one encoder's help. */
const GENERIC = new Set([
  'c',
  'color_primaries',
  'color_trc',
  'colorspace',
  'color_range',
  'pix_fmt',
  'vaapi_device',
  'b',
  'maxrate',
  'bufsize',
  'g',
  'keyint_min',
  'bf',
  'profile',
]);

let ffmpeg: string | undefined;
try {
  ffmpeg = locateFfmpeg({ env: process.env, platform: process.platform });
} catch {
  ffmpeg = undefined;
}
const run = (args: string[]): string =>
  execFileSync(ffmpeg!, ['-hide_banner', ...args], { encoding: 'utf8', maxBuffer: 64_000_000, stdio: 'pipe' });

/** One encoder's help: each option with the named values it takes (empty when it takes numbers or free text). */
function helpOptions(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const line of text.split('\n')) {
    const opt = /^ {2}-(\S+)\s+<(\w+)>/.exec(line);
    const constant = /^ {5}(\S+)\s/.exec(line);
    if (opt) {
      last = opt[2] === 'boolean' ? ['0', '1', 'true', 'false'] : [];
      out.set(opt[1]!, last);
    } else if (constant && last) last.push(constant[1]!);
  }
  return out;
}

describe('every option exists in this ffmpeg, with a value it takes', {
  skip: ffmpeg ? false : 'no ffmpeg here',
}, () => {
  const encoders = ffmpeg ? run(['-encoders']) : '';
  const listed = ENCODER_NAMES.filter((n) => new RegExp(`^ V\\S+ ${FFMPEG_CODEC[n]} `, 'm').test(encoders));
  const full = ffmpeg ? run(['-h', 'full']) : '';
  // ffmpeg's own options come first, then "AVCodecContext AVOptions:" (every encoder's), then each codec's
  const shared = 'AVCodecContext AVOptions:';
  const genericText = full.slice(0, full.indexOf('AVOptions:', full.indexOf(shared) + shared.length));

  it('the generic options are ffmpeg’s or every encoder’s', () => {
    for (const option of GENERIC) assert.match(genericText, new RegExp(`\\n\\s*-${option} `), option);
  });

  for (const name of ENCODER_NAMES) {
    const skip = listed.includes(name) ? false : `this ffmpeg does not list ${FFMPEG_CODEC[name]}`;
    it(`${name} (${FFMPEG_CODEC[name]}): each of its own options is in -h encoder=…`, { skip }, () => {
      const help = helpOptions(run(['-h', `encoder=${FFMPEG_CODEC[name]}`]));
      const settings = [setting(), setting({ profile: 'baseline', tune: 'zerolatency' }), setting({ profile: 'main' })];
      for (const v of settings) {
        const argv = [...hardwareSetup(name).globalArgs, ...videoEncoderArgs(name, v, 0)];
        for (const [option, , val] of options(argv)) {
          const known = help.get(option);
          if (!known) {
            assert.ok(GENERIC.has(option), `${FFMPEG_CODEC[name]} has no -${option}`);
            // the generic -profile takes a number (v4l2m2m has no profile option of its own)
            if (option === 'profile') assert.match(val, /^\d+$/, `${FFMPEG_CODEC[name]}: generic -profile ${val}`);
            continue;
          }
          if (known.length > 0 && !/^-?\d+$/.test(val))
            assert.ok(known.includes(val), `${FFMPEG_CODEC[name]} -${option} takes ${known.join('|')}, not ${val}`);
        }
      }
    });
  }

  it('the encoders that can be opened here without a device take every value (they fail later, on the device)', {
    skip: ffmpeg ? false : 'no ffmpeg',
  }, () => {
    // vaapi stops at its filter chain without a device, before its options are read; the others read them first
    for (const name of listed.filter((n) => n !== 'vaapi')) {
      for (const v of [setting(), setting({ profile: 'baseline', tune: 'zerolatency' })]) {
        let log = '';
        try {
          const args = ['-nostdin', '-loglevel', 'level+error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'];
          const setup = hardwareSetup(name);
          const vf = ['-vf', `format=yuv420p${setup.filterTail}`, '-frames:v', '3'];
          log = run([...args, ...vf, ...videoEncoderArgs(name, v, 0), '-f', 'null', '-']);
        } catch (error) {
          log = String((error as { stderr?: string }).stderr);
        }
        assert.doesNotMatch(log, /Error setting option|Unrecognized option|Undefined constant|Unable to parse/, name);
      }
    }
  });
});
