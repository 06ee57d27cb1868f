import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFfmpegArgv, teeLegs } from '../../src/ffmpeg/argv.js';
import { fitChain, splitGraph } from '../../src/ffmpeg/filters.js';
import { resolveStream } from '../../src/cli/options.js';
import { resolveDestinations } from '../../src/platforms/destinations.js';
import { isLoopbackHost, matchEncode } from '../../src/plan/encodes.js';
import { buildPlan, mapEncodes, regroupEncodes } from '../../src/plan/plan.js';
import { findPreset, loadPresets } from '../../src/presets/load.js';

const entries = loadPresets();
const presets = new Map(entries.map((e) => [e.preset.name, e.preset]));
const env: Record<string, string> = {
  RTMPUSH_YOUTUBE_KEY: 'ytkey1',
  RTMPUSH_TWITCH_KEY: 'twkey1',
  RTMPUSH_FACEBOOK_KEY: 'fbkey1',
  RTMPUSH_X_KEY: 'xkey1',
  RTMPUSH_TIKTOK_URL: 'rtmp://tiktok.example/live',
  RTMPUSH_TIKTOK_KEY: 'ttkey1',
  RTMPUSH_INSTAGRAM_URL: 'rtmps://live-upload.instagram.example:443/rtmp',
  RTMPUSH_INSTAGRAM_KEY: 'igkey1',
};
const plan = (to: string, extra: Partial<Parameters<typeof buildPlan>[0]> = {}) =>
  buildPlan({
    preset: findPreset(entries, '720p30'),
    presets,
    source: { kind: 'testsrc' },
    destinations: resolveDestinations([to], { env, config: {} }),
    ...extra,
  });
const shape = (p: ReturnType<typeof plan>) =>
  p.encodes.map((e) => [e.id, `${e.video.width}x${e.video.height}@${e.video.fps}`, e.video.kbps, e.destinations]);

describe('encodes: one per distinct setting', () => {
  it('equal settings share one encode; each destination is capped by its own platform only', () => {
    // youtube and x both take 720p30 at 3000k with 128k audio: one encode
    assert.deepEqual(shape(plan('youtube,x')), [['e1', '1280x720@30', 3000, ['youtube', 'x']]]);
    // 1080p30 at 8000k: youtube keeps it, twitch is capped at 6000, facebook at 9000 keeps 8000 → 2 encodes
    const p = plan('youtube,twitch,facebook', { overrides: { videoKbps: 8000 } });
    assert.deepEqual(shape(p), [
      ['e1', '1280x720@30', 8000, ['youtube', 'facebook']],
      ['e2', '1280x720@30', 6000, ['twitch']],
    ]);
    assert.equal(p.encodes[0]!.bitrate.by, 'flag');
    assert.equal(p.encodes[1]!.bitrate.by, 'platform');
  });

  it('NAME@PRESET: a destination gets its own preset (the flag’s bitrate is for the others)', () => {
    const p = plan('youtube@1080p30,twitch@720p60,tiktok@vertical-720p30', { overrides: { videoKbps: 2500 } });
    assert.deepEqual(shape(p), [
      ['e1', '1920x1080@30', 6000, ['youtube']],
      ['e2', '1280x720@60', 4500, ['twitch']],
      ['e3', '720x1280@30', 3000, ['tiktok']],
    ]);
    assert.equal(p.encodes[2]!.video.fit, 'crop', 'the vertical preset crops');
    assert.equal(p.encodes[0]!.video.fit, 'pad');
    assert.equal(p.preset, '1080p30', 'the main encode is the first destination’s');
    assert.ok(p.notes.some((n) => /^3 video encodes in one ffmpeg process/.test(n)));
  });

  it('a portrait frame is held to a platform’s size limit turned: 1080x1920 fits Facebook’s 1920x1080', () => {
    const p = plan('facebook@vertical-1080p30');
    assert.deepEqual(shape(p), [['e1', '1080x1920@30', 6000, ['facebook']]]);
    // a 1440p landscape preset made up here is lowered to 1920x1080 for Facebook
    const big = { ...findPreset(entries, '1080p30'), name: 'big', width: 2560, height: 1440 };
    const q = buildPlan({
      preset: big,
      source: { kind: 'testsrc' },
      destinations: resolveDestinations(['facebook'], { env, config: {} }),
    });
    assert.deepEqual([q.video.width, q.video.height], [1920, 1080]);
  });

  it('audio is encoded once when the encodes agree on it, apart when not', () => {
    const same = plan('youtube,tiktok@vertical-720p30');
    assert.deepEqual(
      same.encodes.map((e) => e.audioIndex),
      [0, 0],
    );
    // twitch@1080p30 takes the preset's 160k audio, youtube (720p30) 128k
    const apart = plan('youtube,twitch@1080p30');
    assert.deepEqual(
      apart.encodes.map((e) => [e.audio.kbps, e.audioIndex]),
      [
        [128, 0],
        [160, 1],
      ],
    );
  });

  it('a config destination sets its own preset, bitrate and encoder', () => {
    const config = {
      destinations: {
        shorts: { platform: 'youtube', key: 'shortsKey1', preset: 'vertical-1080p30', videoBitrate: '4500k' },
        main: { url: 'rtmp://h.example/live', key: 'mainKey1', encoder: 'x264' as const },
      },
    };
    const destinations = resolveDestinations(['main,shorts'], { env, config });
    const p = buildPlan({ preset: findPreset(entries, '720p30'), presets, source: { kind: 'testsrc' }, destinations });
    assert.deepEqual(shape(p), [
      ['e1', '1280x720@30', 3000, ['main']],
      ['e2', '1080x1920@30', 4500, ['shorts']],
    ]);
    assert.equal(p.encodes[0]!.video.encoder, 'x264');
    assert.equal(p.encodes[1]!.video.encoder, 'auto');
    assert.equal(p.encodes[1]!.boundBy.shorts, "shorts's own videoBitrate 4500k");
  });
});

describe('one video encoder for equal pictures whose audio differs', () => {
  it('X caps audio at 128k: its own leg, the same video encoder, its own audio', () => {
    const p = buildPlan({
      preset: findPreset(entries, '720p60'),
      presets,
      source: { kind: 'testsrc' },
      destinations: resolveDestinations(['youtube,x'], { env, config: {} }),
    });
    assert.deepEqual(
      p.encodes.map((e) => [e.destinations, e.videoIndex, e.audioIndex, e.audio.kbps]),
      [
        [['youtube'], 0, 0, 160],
        [['x'], 0, 1, 128],
      ],
    );
    const argv = buildFfmpegArgv(p);
    assert.equal(argv.filter((a) => a.startsWith('-c:v')).length, 1, 'one video encoder');
    assert.ok(argv.includes('-vf') && !argv.includes('-filter_complex'));
    assert.deepEqual(
      teeLegs(p).map((t) => t.options),
      [[['select', 'v:0,a:0']], [['select', 'v:0,a:1']]],
    );
    assert.ok(!p.notes.some((n) => /video encodes in one ffmpeg process/.test(n)), 'no extra video CPU to warn of');
  });
});

describe('what the command encodes is what the plan says', () => {
  const videoRates = (argv: string[]) =>
    argv.flatMap((a, i) => (/^-b:v:\d+$/.test(a) ? [[a, argv[i + 1]]] : [])).map(([a, v]) => `${a}=${v}`);

  it('an uplink share that splits a shared picture: each encode its own video encoder at its own rate', () => {
    // youtube caps audio at 160k: its own leg; then only youtube crosses the uplink and is lowered
    const p = plan('local,youtube', { uplinkKbps: 3000, overrides: { audioKbps: 192 } });
    const share = Math.floor(3000 * ((0.7 * 3000 - 160) / 3000));
    assert.deepEqual(
      p.encodes.map((e) => [e.destinations, e.video.kbps, e.videoIndex]),
      [
        [['local'], 3000, 0],
        [['youtube'], share, 1],
      ],
    );
    assert.ok(share < 2000);
    assert.deepEqual(videoRates(buildFfmpegArgv(p)), ['-b:v:0=3000k', `-b:v:1=${share}k`]);
  });

  it('the source is opened to suit every encode (landscape, largest, fastest), whatever the order of --to', () => {
    for (const to of ['tiktok@vertical-720p30,youtube@1080p60', 'youtube@1080p60,tiktok@vertical-720p30']) {
      const argv = buildFfmpegArgv(plan(to));
      assert.ok(
        argv.includes('testsrc2=size=1920x1080:rate=60'),
        `${to}: ${argv.find((a) => a.startsWith('testsrc'))}`,
      );
    }
    const camera = buildFfmpegArgv(plan('tiktok@vertical-720p30', { source: { kind: 'camera', os: 'linux' } }));
    assert.equal(camera[camera.indexOf('-video_size') + 1], '1280x720');
  });

  it('x264 by name and auto that became x264 are one encode once resolved', () => {
    const config = {
      destinations: {
        a: { url: 'rtmp://h.example/live', key: 'keyAaaa1', encoder: 'x264' as const },
        b: { url: 'rtmp://h.example/live', key: 'keyBbbb2' },
      },
    };
    const p = buildPlan({
      preset: findPreset(entries, '720p30'),
      presets,
      source: { kind: 'testsrc' },
      destinations: resolveDestinations(['a,b'], { env, config }),
    });
    assert.equal(p.encodes.length, 2, 'asked apart');
    const resolved = regroupEncodes(mapEncodes(p, (e) => ({ ...e, video: { ...e.video, encoder: 'x264' } })));
    assert.deepEqual(
      resolved.encodes.map((e) => e.destinations),
      [['a', 'b']],
    );
    assert.equal(buildFfmpegArgv(resolved).filter((x) => x.startsWith('-c:v')).length, 1);
    // a destination added later with either choice joins it
    const later = resolveDestinations(['b'], { env, config })[0]!;
    assert.equal(matchEncode(resolved.encodes, { ...later, label: 'c' }, resolved.choices).id, 'e1');
  });
});

describe('the uplink budget counts what leaves the machine', () => {
  it('Σ over encodes of bitrate × destinations ≤ 70 %, shared in proportion to what each asked', () => {
    const p = plan('youtube@1080p30,twitch,tiktok@vertical-720p30', { uplinkKbps: 10_000 });
    // asked: 6000 + 3000 + 3000 video, 160 + 128 + 128 audio; 7000 available
    const asked = [6000, 3000, 3000];
    const factor = (7000 - 416) / 12_000;
    assert.deepEqual(
      p.encodes.map((e) => e.video.kbps),
      asked.map((k) => Math.floor(k * factor)),
    );
    const sent = p.encodes.reduce((sum, e) => sum + e.video.kbps + e.audio.kbps, 0);
    assert.ok(sent <= 7000 && sent > 6990, `${sent} kbps leave the machine`);
    assert.match(p.encodes[0]!.bitrate.text, /3 destinations on a 10\.0 Mbps uplink: .* shared in proportion/);
    assert.equal(p.encodes[0]!.boundBy.youtube, p.encodes[0]!.bitrate.text);
  });

  it('destinations on loopback use no share (unless RTMPUSH_UPLINK_LOOPBACK=count, for a shaped loopback)', () => {
    const to = 'youtube,lo=rtmp://127.0.0.1/live/key1,six=rtmp://[::1]/live/key2,local';
    const p = plan(to, { uplinkKbps: 3000 });
    assert.equal(p.video.kbps, Math.floor(0.7 * 3000 - 128), 'youtube alone counts');
    assert.equal(plan('lo=rtmp://127.0.0.1/live/key1', { uplinkKbps: 500 }).video.kbps, 3000, 'uncapped');
    const counted = plan('lo=rtmp://127.0.0.1/live/key1', { uplinkKbps: 2000, loopbackUsesUplink: true });
    assert.equal(counted.video.kbps, Math.floor(0.7 * 2000 - 128));
    assert.deepEqual(
      ['127.0.0.1', '127.3.4.5', '::1', '[::1]', 'localhost', 'LOCALHOST', '10.0.0.1', 'example.com', '128.0.0.1'].map(
        isLoopbackHost,
      ),
      [true, true, true, true, true, true, false, false, false],
    );
  });
});

describe('ffmpeg: several encodes in one process, one tee', () => {
  const p = plan('youtube,tiktok@vertical-720p30,twitch@1080p30', { record: '/tmp/r.mkv' });
  const argv = buildFfmpegArgv(p);
  const after = (flag: string): string | undefined => argv[argv.indexOf(flag) + 1];

  it('the source decoded once and split, one fitted branch and one encoder per encode', () => {
    const graph = after('-filter_complex')!;
    assert.match(graph, /^\[0:v:0\]split=3\[s0\]\[s1\]\[s2\];/);
    assert.match(
      graph,
      /\[s1\]scale=720:1280:force_original_aspect_ratio=increase:[^,]*,crop=720:1280,.*fps=30.*\[v1\]/,
    );
    assert.ok(!argv.includes('-vf'));
    assert.deepEqual(
      argv.flatMap((a, i) => (a === '-map' ? [argv[i + 1]] : [])),
      ['[v0]', '[v1]', '[v2]', '1:a:0', '1:a:0'],
    );
    assert.deepEqual(
      [after('-b:v:0'), after('-b:v:1'), after('-b:v:2'), after('-b:a:0'), after('-b:a:1')],
      ['3000k', '3000k', '6000k', '128k', '160k'],
    );
    assert.deepEqual([after('-g:v:0'), after('-g:v:1'), after('-g:v:2')], ['60', '60', '60']);
    assert.equal(argv.indexOf('-c:a:2'), -1, 'two audio encodes, not three');
  });

  it('one leg per encode takes its own streams (select, escaped for both unescapings); the record the main one', () => {
    assert.deepEqual(
      teeLegs(p).map((t) => [t.label, t.url, t.options]),
      [
        ['e1', 'pipe:3', [['select', 'v:0,a:0']]],
        ['e2', 'pipe:4', [['select', 'v:1,a:0']]],
        ['e3', 'pipe:5', [['select', 'v:2,a:1']]],
        ['record', 'pipe:6', [['select', 'v:0,a:0']]],
      ],
    );
    assert.equal(
      argv.at(-1),
      [
        '[f=flv:onfail=ignore:select=v\\\\\\:0,a\\\\\\:0]pipe:3',
        '[f=flv:onfail=ignore:select=v\\\\\\:1,a\\\\\\:0]pipe:4',
        '[f=flv:onfail=ignore:select=v\\\\\\:2,a\\\\\\:1]pipe:5',
        '[f=matroska:onfail=ignore:select=v\\\\\\:0,a\\\\\\:0]pipe:6',
      ].join('|'),
    );
    assert.ok(!argv.some((a) => /ytkey1|ttkey1|twkey1/.test(a)), 'no key in the command line');
  });

  it('fit: crop fills the frame from the centre, pad shows it whole, blur over a blurred copy', () => {
    const v = { width: 720, height: 1280, fps: 30 };
    assert.equal(
      fitChain({ ...v, fit: 'crop' }),
      'scale=720:1280:force_original_aspect_ratio=increase:out_color_matrix=bt709:out_range=tv,' +
        'crop=720:1280,setsar=1,fps=30,format=yuv420p',
    );
    assert.match(
      fitChain({ ...v, fit: 'pad' }),
      /decrease:out_color_matrix=bt709:out_range=tv,pad=720:1280:\(ow-iw\)\/2:\(oh-ih\)\/2,/,
    );
    const blur = splitGraph('0:v:0', [
      { ...v, fit: 'blur' },
      { ...v, fit: 'blur' },
    ]);
    assert.match(blur, /boxblur=lr=min\(w\\,h\)\/20:lp=2:cr=min\(cw\\,ch\)\/20:cp=2/, 'a blur in proportion');
    // each branch's inner labels are its own
    assert.match(blur, /\[s0\]split=2\[bg0\]\[fg0\].*\[s1\]split=2\[bg1\]\[fg1\]/);
    assert.equal(blur.match(/\[blurred0\]/g)?.length, 2);
  });
});

describe('destinations added while streaming join the encode of their setting', () => {
  const p = plan('youtube,tiktok@vertical-720p30');
  const dest = (to: string) => resolveDestinations([to], { env, config: {} })[0]!;
  it('an equal setting joins; another is refused, saying which encodes the stream makes', () => {
    assert.equal(matchEncode(p.encodes, dest('x'), p.choices).id, 'e1');
    assert.equal(matchEncode(p.encodes, dest('instagram@vertical-720p30'), p.choices).id, 'e2');
    assert.throws(
      () => matchEncode(p.encodes, dest('twitch@1080p30'), p.choices),
      new RegExp(
        'twitch needs an encode this stream does not make \\(1920x1080@30 6000k, 1080p30; ' +
          'it makes e1 1280x720@30 3000k, e2 720x1280@30 3000k\\): give it a preset and videoBitrate that match',
      ),
    );
    assert.throws(() => matchEncode(p.encodes, dest('x@nope'), p.choices), /unknown preset "nope" for x: use one of/);
  });
});

describe('bad input: one line, exit 2', () => {
  const resolve = (flags: Record<string, unknown>, extraEnv: Record<string, string> = {}) =>
    resolveStream({ to: [], ...flags } as never, { env: { ...env, ...extraEnv }, cwd: '/tmp', os: 'linux' });
  const cases: [string, Record<string, unknown>, RegExp, Record<string, string>?][] = [
    ['an empty preset after @', { to: ['youtube@'] }, /--to youtube@: give a preset after the @, e.g. youtube@1080p30/],
    ['local has one setting', { to: ['local@1080p30'] }, /NAME@PRESET takes a platform or a config name/],
    ['an unknown preset', { to: ['youtube@4k'] }, /unknown youtube's preset "4k": use one of .*vertical-720p30/],
    ['--fit', { to: ['youtube'], fit: 'stretch' }, /--fit stretch: use one of crop, pad, blur/],
    ['--encoder', { to: ['youtube'], encoder: 'x265' }, /--encoder x265: use one of auto, x264, nvenc/],
    [
      'tiktok without its per-session URL',
      { to: ['tiktok'] },
      /TikTok LIVE has no fixed ingest URL: set RTMPUSH_TIKTOK_URL to the URL it gave you/,
      { RTMPUSH_TIKTOK_URL: '' },
    ],
    [
      'a per-session URL with the stream key in it',
      { to: ['tiktok'] },
      new RegExp(
        'RTMPUSH_TIKTOK_URL holds more than the server \\(rtmp://tiktok\\.example/game\\): set it to the server ' +
          'URL alone and put the stream key \\(with anything after it\\) in RTMPUSH_TIKTOK_KEY',
      ),
      { RTMPUSH_TIKTOK_URL: 'rtmp://tiktok.example/game/stream-7300?expire=17&sign=deadbeefSECRET' },
    ],
    [
      '--copy with a destination’s own preset',
      { to: ['youtube@1080p30'], source: 'listen', copy: true },
      /--copy sends the encoder's stream as it is: youtube asks for its own preset/,
    ],
    [
      'more than 4 video encodes',
      { to: ['youtube@360p30,twitch@480p30,facebook@720p30,x@1080p30,instagram@vertical-720p30'] },
      /these destinations need 5 video encodes .*: rtmpush runs at most 4 in one process/,
    ],
    [
      '--copy with two encodes',
      { to: ['youtube,x'], preset: '1080p60', source: 'listen', copy: true },
      /--copy sends the encoder's one stream, but these destinations need 2 encodes/,
    ],
  ];
  for (const [name, flags, message, extra] of cases) {
    it(name, () => {
      assert.throws(
        () => resolve(flags, extra),
        (e: Error) =>
          e.name === 'UsageError' &&
          message.test(e.message) &&
          !e.message.includes('\n') &&
          !/SECRET|stream-7300|sign=/.test(e.message),
      );
    });
  }

  it('an uplink given with every destination on this machine: a note says it caps nothing, and why', () => {
    const { plan: p } = resolve({ to: ['a=rtmp://127.0.0.1/live/keyAaaa1'], uplink: '2M' });
    assert.equal(p.video.kbps, 3000);
    assert.ok(p.notes.some((n) => /^the uplink caps nothing here: every destination is on this machine/.test(n)));
  });
});
