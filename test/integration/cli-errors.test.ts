import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('cli');
const existing = path.join(dir, 'exists.mkv');
writeFileSync(existing, 'x');
const notVideo = path.join(dir, 'notes.txt');
writeFileSync(notVideo, 'this is not a video');
const hugeConfig = path.join(dir, 'huge.json');
writeFileSync(hugeConfig, `{"x":"${'a'.repeat(2 * 1024 * 1024)}"}`);

describe('bad input: one line, exit 2, no stack trace, nothing started', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['unknown platform', ['start', '--to', 'myspace'], {}, /unknown destination "myspace"/],
    ['missing key', ['start', '--to', 'youtube'], {}, /youtube: no stream key: set RTMPUSH_YOUTUBE_KEY/],
    ['http URL', ['start', '--to', 'http://example.com/live/k'], {}, /http:\/\/ is not an ingest URL/],
    ['URL with no app', ['start', '--to', 'rtmp://example.com'], {}, /no app path/],
    ['malformed URL', ['start', '--to', 'rtmp://exa mple.com/live/k'], {}, /malformed URL/],
    [
      'missing file',
      ['start', '--to', 'local', '--source', '/nope/video.mp4'],
      {},
      /--source \/nope\/video\.mp4: no such file/,
    ],
    ['unreadable source', ['start', '--to', 'local', '--source', notVideo], {}, /cannot read video from it/],
    ['bad preset', ['start', '--to', 'local', '--preset', '4k120'], {}, /unknown preset "4k120": use one of .*720p30/],
    [
      'a heap trim interval out of range',
      ['start', '--to', 'local'],
      { RTMPUSH_HEAP_TRIM: '1e9' },
      /RTMPUSH_HEAP_TRIM "1e9" is not a duration/,
    ],
    ['conflicting --loop', ['start', '--to', 'local', '--loop'], {}, /--loop only works with a file --source/],
    ['bad duration', ['start', '--to', 'local', '--duration', 'soon'], {}, /--duration "soon" is not a duration/],
    [
      'bad --max-retries',
      ['start', '--to', 'local', '--max-retries', '-1'],
      {},
      /--max-retries -1: give a whole number/,
    ],
    [
      'bad --retry-max-delay',
      ['start', '--to', 'local', '--retry-max-delay', 'soon'],
      {},
      /--retry-max-delay "soon" is not a duration/,
    ],
    [
      'bad bitrate',
      ['plan', '--to', 'local', '--video-bitrate', 'fast'],
      {},
      /--video-bitrate "fast" is not a bitrate/,
    ],
    [
      'bad audio rate',
      ['start', '--to', 'local', '--audio-rate', '12345'],
      {},
      /--audio-rate 12345: use one of 48000, 44100/,
    ],
    [
      'strict and an uplink too small',
      [
        'plan',
        '--to',
        'a=rtmp://h/live/key1,b=rtmp://h/live/key2',
        '--preset',
        '1080p30',
        '--uplink',
        '4M',
        '--strict',
      ],
      {},
      new RegExp(
        /--strict: 1240 kbps is below what 1080p30 needs \(3000 kbps\): /.source +
          /use --preset 480p30, or stream to fewer destinations/.source,
      ),
    ],
    [
      'uplink with no test mode',
      ['uplink', '--to', 'youtube'],
      { RTMPUSH_YOUTUBE_KEY: 'ytkey' },
      /youtube has no test mode, so a measurement would go on air/,
    ],
    ['record file exists', ['start', '--to', 'local', '--record', existing], {}, /the file exists/],
    ['no destination', ['start'], {}, /no destination: add --to/],
    ['unknown flag', ['start', '--to', 'local', '--frobnicate'], {}, /unknown option '--frobnicate'/],
    [
      'missing ffmpeg',
      ['start', '--to', 'local', '--ffmpeg', '/nope/ffmpeg'],
      {},
      /--ffmpeg \/nope\/ffmpeg: not an executable file/,
    ],
    ['key with whitespace', ['start', '--to', 'twitch'], { RTMPUSH_TWITCH_KEY: 'live_1 2' }, /contains whitespace/],
    // a key typed in a URL follows the same rule as one from the environment (it was silently percent-encoded)
    [
      'key with whitespace in a URL',
      ['plan', '--to', 'a=rtmp://h/live/ab cd'],
      {},
      /--to a: the URL's stream key: the stream key contains whitespace/,
    ],
    [
      'an uplink that leaves no bitrate',
      ['plan', '--to', 'a=rtmp://h/live/key1', '--uplink', '1k'],
      {},
      /--uplink: 1 kbps \(given with --uplink\) leaves 0 kbps of video for each of 1 destinations, below the 100 kbps/,
    ],
    [
      'a video bitrate that rounds to 0',
      ['plan', '--to', 'local', '--video-bitrate', '0.4'],
      {},
      /--video-bitrate 0.4: give a bitrate from 100k to 1000M/,
    ],
    [
      '--duration 0 (streamed forever)',
      ['start', '--to', 'local', '--duration', '0'],
      {},
      /--duration 0: give a duration from 1s to 366d/,
    ],
    [
      '--watchdog 0 (restarted every second)',
      ['start', '--to', 'local', '--watchdog', '0'],
      {},
      /--watchdog 0: give a duration from 2s to 1h/,
    ],
    [
      '--keyint 0.01',
      ['plan', '--to', 'local', '--keyint', '0.01'],
      {},
      /--keyint 0.01: give seconds between 0.5 and 20/,
    ],
    [
      '--keyint 0x1 (hexadecimal)',
      ['plan', '--to', 'local', '--keyint', '0x1'],
      {},
      /--keyint 0x1: give seconds between 0.5 and 20/,
    ],
    [
      '--max-retries "" (an unset variable)',
      ['start', '--to', 'local', '--max-retries', ''],
      {},
      /--max-retries : give a whole number/,
    ],
    ['--record "" (an unset variable)', ['start', '--to', 'local', '--record', ''], {}, /--record needs a file name/],
    [
      '--retry-max-delay 2h',
      ['start', '--to', 'local', '--retry-max-delay', '2h'],
      {},
      /--retry-max-delay 2h: give a duration from 1s to 1h/,
    ],
    [
      'a recording that cannot be created',
      ['start', '--to', 'local', '--record', '/proc/x.mkv'],
      {},
      /--record \/proc\/x\.mkv: it cannot be created \(ENOENT\)/,
    ],
    [
      'the same destination twice',
      ['plan', '--to', 'a=rtmp://h/live/same1,b=rtmp://h/live/same1'],
      {},
      /destinations "a" and "b" are the same server, app and key/,
    ],
    [
      'a key pasted into the ingest URL variable',
      ['plan', '--to', 'youtube'],
      { RTMPUSH_YOUTUBE_URL: 'rtmps://a.rtmps.youtube.com/live2/pastedYtKey77', RTMPUSH_YOUTUBE_KEY: 'abcd-efgh-ijkl' },
      new RegExp(
        /RTMPUSH_YOUTUBE_URL holds a stream key after the app path "live2": /.source +
          /set it to rtmps:\/\/host\/live2 and put the key in RTMPUSH_YOUTUBE_KEY/.source,
      ),
    ],
    // read until the process held 3 GB, before
    [
      'a config that is a device',
      ['plan', '--to', 'local', '--config', '/dev/zero'],
      {},
      /--config \/dev\/zero: not a regular file/,
    ],
    ['a config that is a folder', ['plan', '--to', 'local', '--config', dir], {}, /--config .*: not a regular file/],
    [
      'a config over 1 MB',
      ['plan', '--to', 'local', '--config', hugeConfig],
      {},
      /--config .*huge\.json: larger than 1 MB/,
    ],
    [
      '--listen without --source listen',
      ['start', '--to', 'local', '--listen', '127.0.0.1:1935'],
      {},
      /^rtmpush: --listen needs --source listen$/,
    ],
    [
      'an ingest others can reach, with no key',
      ['start', '--to', 'local', '--source', 'listen', '--listen', '0.0.0.0:1935'],
      {},
      /--listen 0\.0\.0\.0:1935: set RTMPUSH_INGEST_KEY first: anyone who reaches that address could publish/,
    ],
    [
      'a malformed --listen',
      ['start', '--to', 'local', '--source', 'listen', '--listen', '1935'],
      {},
      /--listen 1935: give HOST:PORT, e\.g\. 127\.0\.0\.1:1935/,
    ],
    [
      'an ingest key too short',
      ['start', '--to', 'local', '--source', 'listen'],
      { RTMPUSH_INGEST_KEY: 'ab' },
      /RTMPUSH_INGEST_KEY is too short/,
    ],
    [
      '--record with --source listen',
      ['start', '--to', 'local', '--source', 'listen', '--record', 'x.mkv'],
      {},
      /--record does not work with --source listen yet/,
    ],
    [
      'a --slate ffmpeg cannot read',
      ['start', '--to', 'local', '--source', 'listen', '--listen', '127.0.0.1:19399', '--slate', notVideo],
      {},
      /--slate .*notes\.txt: ffmpeg cannot read a picture from it.*: give an image \(PNG, JPEG\) or a video$/,
    ],
    [
      '--copy with an encode flag',
      ['start', '--to', 'local', '--source', 'listen', '--copy', '--video-bitrate', '3000k'],
      {},
      /--copy sends the encoder's stream as it is: --video-bitrate cannot apply/,
    ],
    ['--copy without listen', ['start', '--to', 'local', '--copy'], {}, /^rtmpush: --copy needs --source listen/],
    [
      'a missing --slate',
      ['start', '--to', 'local', '--slate', '/nope/card.png'],
      {},
      /--slate \/nope\/card\.png: no such file/,
    ],
    [
      'a bad --slate-timeout',
      ['start', '--to', 'local', '--slate-timeout', 'never'],
      {},
      /--slate-timeout "never" is not a duration/,
    ],
    [
      'a stream key too short to be real',
      ['plan', '--to', 'a=rtmp://h/live/ab'],
      {},
      /--to a: the URL's stream key: the stream key is too short to be real/,
    ],
    [
      'a CA file that holds no certificate',
      ['start', '--to', 'local'],
      { RTMPUSH_CA_FILE: notVideo },
      /RTMPUSH_CA_FILE .*notes\.txt: no PEM certificate in it/,
    ],
  ];
  for (const [name, args, env, message] of cases) {
    it(name, async () => {
      const started = Date.now();
      const r = await runCli(args, env, { timeoutMs: 20_000 });
      assert.equal(r.exitCode, 2, `${r.stderr}${r.stdout}`);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, message);
      assert.match(lines[0]!, /^rtmpush: /);
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
      assert.ok(Date.now() - started < 10_000, 'failed fast: nothing was started');
    });
  }

  it('a key pasted into RTMPUSH_<ID>_URL never shows, in the error or anywhere', async () => {
    const r = await runCli(['plan', '--to', 'youtube', '--json'], {
      RTMPUSH_YOUTUBE_URL: 'rtmps://a.rtmps.youtube.com/live2/pastedYtKey77',
      RTMPUSH_YOUTUBE_KEY: 'abcd-efgh-ijkl',
    });
    assert.equal(r.exitCode, 2);
    assert.ok(!`${r.stdout}${r.stderr}`.includes('pastedYtKey77'), r.stderr);
  });

  it('the key never shows in an error, even a whitespace one', async () => {
    const r = await runCli(['start', '--to', 'twitch'], { RTMPUSH_TWITCH_KEY: 'secretPart1 secretPart2' });
    assert.equal(r.exitCode, 2);
    assert.ok(!r.stderr.includes('secretPart'));
  });
});

describe('plan, presets, destinations', () => {
  it('plan --json: one plan object with the ffmpeg argv and keys as ****', async () => {
    const r = await runCli(['plan', '--to', 'youtube,twitch', '--preset', '1080p60', '--json'], {
      RTMPUSH_YOUTUBE_KEY: 'ytPlanKey123',
      RTMPUSH_TWITCH_KEY: 'twPlanKey456',
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.events.length, 1);
    const plan = r.events[0]!;
    assert.equal(plan.type, 'plan');
    assert.ok(Array.isArray(plan.ffmpeg) && plan.ffmpeg.includes('libx264'));
    assert.equal(plan.video.kbps, 6000);
    assert.deepEqual(
      plan.destinations.map((d: { url: string }) => d.url),
      ['rtmps://a.rtmps.youtube.com:443/live2/****', 'rtmps://ingest.global-contribute.live-video.net:443/app/****'],
    );
    // one leg for both destinations: rtmpush reads it once and feeds each relay
    assert.equal(plan.ffmpeg.at(-1), '[f=flv:onfail=ignore]pipe:3');
    assert.ok(!r.stdout.includes('PlanKey'));
  });

  it('plan (text) says which constraint set the bitrate', async () => {
    const r = await runCli(['plan', '--to', 'twitch', '--video-bitrate', '9M'], { RTMPUSH_TWITCH_KEY: 'live_key' });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /bitrate {2}set by twitch: Twitch caps video at 6000 kbps/);
  });

  it('presets lists the built-ins', async () => {
    const r = await runCli(['presets']);
    assert.equal(r.exitCode, 0);
    for (const n of ['480p30', '720p30', '720p60', '1080p30', '1080p60'])
      assert.match(r.stdout, new RegExp(`^${n} `, 'm'));
  });

  it('destinations says whether a key is set, never the key', async () => {
    const cfgDir = tempDir('dest');
    writeFileSync(
      path.join(cfgDir, 'rtmpush.config.json'),
      JSON.stringify({
        destinations: {
          studio: { url: 'rtmp://studio.local/live', keyEnv: 'STUDIO_KEY' },
          full: { url: 'rtmp://full.local/app/fullKeyZZ99' },
        },
      }),
    );
    const r = await runCli(
      ['destinations', '--json'],
      { RTMPUSH_TWITCH_KEY: 'twListKey789', STUDIO_KEY: 'studioKey000' },
      { cwd: cfgDir },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const list = r.events[0]!.destinations as { name: string; keySet: boolean }[];
    assert.equal(list.find((d) => d.name === 'twitch')?.keySet, true);
    assert.equal(list.find((d) => d.name === 'youtube')?.keySet, false);
    assert.equal(list.find((d) => d.name === 'studio')?.keySet, true);
    assert.equal(
      (list.find((d) => d.name === 'full') as { url?: string } | undefined)?.url,
      'rtmp://full.local:1935/app/****',
    );
    assert.ok(!r.stdout.includes('fullKeyZZ99'));
    assert.ok(!r.stdout.includes('twListKey789') && !r.stdout.includes('studioKey000'));
  });

  it('--help on start shows examples and exit codes', async () => {
    const r = await runCli(['start', '--help']);
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /Exit codes: 0/);
  });

  it('--version names rtmpush and the ffmpeg it uses', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /^rtmpush \d+\.\d+\.\d+\nffmpeg \/\S+: ffmpeg version /);
  });
});
