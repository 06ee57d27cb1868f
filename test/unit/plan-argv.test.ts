import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFfmpegArgv, escapeTee, teeLegs, teeSpec } from '../../src/ffmpeg/argv.js';
import { resolveDestinations } from '../../src/platforms/destinations.js';
import { buildPlan } from '../../src/plan/plan.js';
import { findPreset, loadPresets } from '../../src/presets/load.js';
import type { Source } from '../../src/plan/source.js';

const presets = loadPresets();
const env = {
  RTMPUSH_YOUTUBE_KEY: 'ytkey1',
  RTMPUSH_TWITCH_KEY: 'twkey1',
  RTMPUSH_FACEBOOK_KEY: 'fbkey1',
  RTMPUSH_X_KEY: 'xkey1',
  RTMPUSH_KICK_KEY: 'kkey1',
};
const plan = (preset: string, to: string, extra: Partial<Parameters<typeof buildPlan>[0]> = {}) =>
  buildPlan({
    preset: findPreset(presets, preset),
    source: { kind: 'testsrc' },
    destinations: resolveDestinations([to], { env, config: {} }),
    ...extra,
  });
const valueAfter = (argv: string[], flag: string): string | undefined => argv[argv.indexOf(flag) + 1];

describe('buildPlan: presets × destinations', () => {
  const table: [string, string, { w: number; h: number; fps: number; kbps: number; by: string; audio: number }][] = [
    ['720p30', 'youtube', { w: 1280, h: 720, fps: 30, kbps: 3000, by: 'preset', audio: 128 }],
    ['1080p60', 'youtube,twitch', { w: 1920, h: 1080, fps: 60, kbps: 6000, by: 'preset', audio: 160 }],
    ['480p30', 'twitch,facebook,x', { w: 854, h: 480, fps: 30, kbps: 1500, by: 'preset', audio: 128 }],
    ['1080p30', 'x', { w: 1920, h: 1080, fps: 30, kbps: 6000, by: 'preset', audio: 128 }],
    ['360p30', 'local', { w: 640, h: 360, fps: 30, kbps: 800, by: 'preset', audio: 96 }],
    ['720p60', 'kick,rtmp://h/live/key1', { w: 1280, h: 720, fps: 60, kbps: 4500, by: 'preset', audio: 160 }],
  ];
  for (const [preset, to, want] of table) {
    it(`${preset} → ${to}`, () => {
      const p = plan(preset, to);
      assert.deepEqual(
        [p.video.width, p.video.height, p.video.fps, p.video.kbps, p.bitrate.by, p.audio.kbps],
        [want.w, want.h, want.fps, want.kbps, want.by, want.audio],
      );
      assert.equal(p.video.keyintFrames, 2 * want.fps);
      assert.equal(p.video.bufsizeKbps, want.kbps);
    });
  }

  it('a platform caps a --video-bitrate for itself only, and is named; the other keeps the flag', () => {
    const p = plan('1080p60', 'youtube,twitch', { overrides: { videoKbps: 9000 } });
    assert.deepEqual(
      p.encodes.map((e) => [e.destinations, e.video.kbps]),
      [
        [['youtube'], 9000],
        [['twitch'], 6000],
      ],
    );
    assert.deepEqual(p.encodes[1]!.bitrate, {
      by: 'platform',
      destination: 'twitch',
      text: 'twitch: Twitch caps video at 6000 kbps',
    });
    assert.equal(p.video.kbps, 9000, 'the main encode is the first destination’s');
    assert.ok(p.notes.some((n) => n.includes('capped at 6000')));
  });

  it('--allow-over-cap keeps the bitrate above a cap, and says so', () => {
    const p = plan('1080p60', 'twitch', { overrides: { videoKbps: 8000, allowOverCap: true } });
    assert.equal(p.video.kbps, 8000);
    assert.equal(p.bitrate.by, 'flag');
    assert.ok(
      p.notes.some((n) => /above twitch's published cap .* kept by --allow-over-cap/.test(n)),
      p.notes.join('\n'),
    );
  });

  it('the uplink budget: 70 % of the uplink shared by every remote destination, audio included', () => {
    const p = plan('1080p30', 'youtube,twitch,rtmp://h/live/key1', { uplinkKbps: 12_000 });
    assert.equal(p.video.kbps, Math.floor((0.7 * 12_000) / 3 - 160));
    assert.deepEqual(
      [p.bitrate.by, p.bitrate.text],
      ['uplink', '3 destinations on a 12.0 Mbps uplink: 2.6 Mbps video each (70 % rule)'],
    );
    assert.equal(p.belowPresetMinimum, true, '1080p30 needs 3000 kbps');
    // local does not use the uplink; a roomy uplink leaves the preset alone
    assert.equal(plan('720p30', 'local', { uplinkKbps: 1000 }).video.kbps, 3000);
    assert.equal(plan('720p30', 'youtube', { uplinkKbps: 100_000 }).bitrate.by, 'preset');
  });

  it('--audio-rate sets the sample rate', () => {
    const argv = buildFfmpegArgv(plan('360p30', 'local', { overrides: { sampleRate: 22050 } }));
    assert.equal(valueAfter(argv, '-ar:a:0'), '22050');
  });

  it('a flag under every cap wins, and says so', () => {
    const p = plan('720p30', 'youtube,twitch', { overrides: { videoKbps: 2500, audioKbps: 96 } });
    assert.equal(p.video.kbps, 2500);
    assert.equal(p.audio.kbps, 96);
    assert.equal(p.bitrate.by, 'flag');
  });

  it('audio is capped by X at 128 kbps', () => {
    assert.equal(plan('1080p60', 'x', { overrides: { audioKbps: 320 } }).audio.kbps, 128);
  });

  it('a keyframe interval a platform rejects is named with the fix', () => {
    const p = plan('720p30', 'twitch', { overrides: { keyintSeconds: 5 } });
    assert.equal(p.video.keyintFrames, 150);
    assert.ok(
      p.notes.some((n) => /keyframe every 5 s: twitch .* at most 2 s — use --keyint 2/.test(n)),
      p.notes.join('\n'),
    );
  });
});

describe('buildFfmpegArgv', () => {
  it('720p30 to youtube+twitch: one encode, one FLV leg read once for every destination', () => {
    const argv = buildFfmpegArgv(plan('720p30', 'youtube,twitch', { durationMs: 20_000 }));
    const expectPairs: [string, string][] = [
      ['-c:v:0', 'libx264'],
      ['-preset:v:0', 'veryfast'],
      ['-profile:v:0', 'main'],
      ['-pix_fmt:v:0', 'yuv420p'],
      ['-b:v:0', '3000k'],
      ['-maxrate:v:0', '3000k'],
      ['-bufsize:v:0', '3000k'],
      ['-g:v:0', '60'],
      ['-keyint_min:v:0', '60'],
      ['-sc_threshold:v:0', '0'],
      ['-x264-params:v:0', 'nal-hrd=cbr:force-cfr=1'],
      ['-c:a:0', 'aac'],
      ['-b:a:0', '128k'],
      ['-ar:a:0', '48000'],
      ['-ac:a:0', '2'],
      ['-flags', '+global_header'],
      ['-t', '20.000'],
      ['-use_fifo', '1'],
      ['-progress', 'pipe:1'],
      [
        '-fifo_options',
        'attempt_recovery=1:recovery_wait_time=1:recover_any_error=1:' +
          'drop_pkts_on_overflow=1:restart_with_keyframe=1:queue_size=600',
      ],
    ];
    for (const [flag, value] of expectPairs) assert.equal(valueAfter(argv, flag), value, flag);
    assert.equal(argv.filter((a) => a.startsWith('-c:v')).length, 1, 'exactly one video encoder');
    assert.ok(!argv.includes('-filter_complex'), 'one encode: a simple chain');
    assert.deepEqual(argv.slice(-7, -5), ['-f', 'tee']);
    assert.ok(argv.indexOf('-t') < argv.length - 7, '-t must come before -f tee');
    assert.equal(argv[argv.length - 1], '[f=flv:onfail=ignore]pipe:3');
    assert.ok(!argv.some((a) => a.includes('ytkey1') || a.includes('twkey1')), 'no key in the command line');
  });

  it('the destinations’ leg is a pipe (fd 3), however many there are: no port, no URL', () => {
    const p = plan('360p30', 'youtube,twitch,facebook');
    assert.deepEqual(
      teeLegs(p).map((t) => [t.label, t.url]),
      [['destinations', 'pipe:3']],
    );
    assert.ok(!buildFfmpegArgv(p).some((a) => a.includes('rtmp')), 'no rtmp:// in the command line');
  });

  it('record adds a Matroska leg to the same tee, on the pipe after the destinations', () => {
    const argv = buildFfmpegArgv(plan('360p30', 'local', { record: '/tmp/a.mkv' }));
    assert.equal(argv.at(-1), '[f=flv:onfail=ignore]pipe:3|[f=matroska:onfail=ignore]pipe:4');
    assert.ok(!argv.includes('/tmp/a.mkv'), 'rtmpush writes the file itself');
  });

  it('a file without audio gets an endless silent track, so -shortest ends the stream with the file', () => {
    const argv = buildFfmpegArgv(
      plan('360p30', 'local', { source: { kind: 'file', path: '/v/b.mp4', loop: false, hasAudio: false } }),
    );
    assert.ok(argv.includes('-shortest'));
    assert.ok(!buildFfmpegArgv(plan('360p30', 'local')).includes('-shortest'));
  });

  it('no duration: no -t', () => {
    assert.ok(!buildFfmpegArgv(plan('360p30', 'local')).includes('-t'));
  });

  const sources: [string, Source, string[]][] = [
    [
      'testsrc',
      { kind: 'testsrc' },
      [
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=1280x720:rate=30',
        '-re',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
      ],
    ],
    [
      'file',
      { kind: 'file', path: '/v/a.mp4', loop: false, hasAudio: true },
      ['-re', '-i', '/v/a.mp4', '-map', '0:v:0', '-map', '0:a:0'],
    ],
    [
      'looped silent file',
      { kind: 'file', path: '/v/b.mp4', loop: true, hasAudio: false },
      [
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        '/v/b.mp4',
        '-f',
        'lavfi',
        '-i',
        'anullsrc=channel_layout=stereo:sample_rate=48000',
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
      ],
    ],
    ['stdin', { kind: 'stdin' }, ['-i', 'pipe:0', '-map', '0:v:0', '-map', '0:a:0']],
    [
      'url',
      { kind: 'url', url: 'srt://h:9000', private: false },
      ['-i', 'srt://h:9000', '-map', '0:v:0', '-map', '0:a:0'],
    ],
    [
      'url with a credential: a list on the pipe after the legs, not the command line',
      { kind: 'url', url: 'rtmp://h/live/feedKey', private: true },
      [
        '-protocol_whitelist',
        'pipe,rtmp,tcp',
        '-f',
        'concat',
        '-safe',
        '0',
        '-i',
        'pipe:4',
        '-map',
        '0:v:0',
        '-map',
        '0:a:0',
      ],
    ],
    [
      'linux camera',
      { kind: 'camera', os: 'linux' },
      [
        '-f',
        'v4l2',
        '-framerate',
        '30',
        '-video_size',
        '1280x720',
        '-i',
        '/dev/video0',
        '-f',
        'pulse',
        '-i',
        'default',
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
      ],
    ],
    [
      'linux camera alsa',
      { kind: 'camera', os: 'linux', videoDevice: '/dev/video2', audioDevice: 'alsa:hw:1' },
      [
        '-f',
        'v4l2',
        '-framerate',
        '30',
        '-video_size',
        '1280x720',
        '-i',
        '/dev/video2',
        '-f',
        'alsa',
        '-i',
        'hw:1',
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
      ],
    ],
    [
      'linux screen',
      { kind: 'screen', os: 'linux' },
      [
        '-f',
        'x11grab',
        '-framerate',
        '30',
        '-i',
        ':0.0',
        '-f',
        'lavfi',
        '-i',
        'anullsrc=channel_layout=stereo:sample_rate=48000',
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
      ],
    ],
    [
      'macOS camera',
      { kind: 'camera', os: 'darwin' },
      [
        '-f',
        'avfoundation',
        '-framerate',
        '30',
        '-video_size',
        '1280x720',
        '-i',
        '0:0',
        '-map',
        '0:v:0',
        '-map',
        '0:a:0',
      ],
    ],
    [
      'macOS screen',
      { kind: 'screen', os: 'darwin', audioDevice: '1' },
      [
        '-f',
        'avfoundation',
        '-capture_cursor',
        '1',
        '-framerate',
        '30',
        '-i',
        'Capture screen 0:none',
        '-f',
        'avfoundation',
        '-i',
        'none:1',
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
      ],
    ],
    [
      'Windows camera',
      { kind: 'camera', os: 'win32', videoDevice: 'Cam', audioDevice: 'Mic' },
      [
        '-f',
        'dshow',
        '-framerate',
        '30',
        '-video_size',
        '1280x720',
        '-i',
        'video=Cam:audio=Mic',
        '-map',
        '0:v:0',
        '-map',
        '0:a:0',
      ],
    ],
    [
      'Windows screen',
      { kind: 'screen', os: 'win32' },
      [
        '-f',
        'gdigrab',
        '-framerate',
        '30',
        '-i',
        'desktop',
        '-f',
        'lavfi',
        '-i',
        'anullsrc=channel_layout=stereo:sample_rate=48000',
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
      ],
    ],
  ];
  for (const [name, source, want] of sources) {
    it(`source ${name}`, () => {
      const argv = buildFfmpegArgv(plan('720p30', 'local', { source }));
      const start = argv.indexOf('1') + 1; // after '-stats_period 1'
      assert.deepEqual(argv.slice(start, start + want.length), want);
      assert.equal(argv[start + want.length], '-vf');
    });
  }

  it('Windows camera without device names is a usage error', () => {
    assert.throws(
      () => buildFfmpegArgv(plan('720p30', 'local', { source: { kind: 'camera', os: 'win32' } })),
      /--video-device and --audio-device/,
    );
  });
});

describe('tee escaping', () => {
  it('option values are escaped for both unescaping passes', () => {
    assert.equal(escapeTee('rtmp://real.host/app'), 'rtmp\\\\\\://real.host/app');
    assert.equal(escapeTee('a|b'), 'a\\\\\\|b');
  });
  it('a URL with a | or ] stays one slave', () => {
    const spec = teeSpec([{ label: 'a', format: 'flv', url: 'rtmp://h/live/k|ey]', options: [] }]);
    assert.equal(spec, '[f=flv:onfail=ignore]rtmp://h/live/k\\|ey\\]');
  });
});
