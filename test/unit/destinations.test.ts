import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { endpointUrl, publishUrl, resolveDestinations } from '../../src/platforms/destinations.js';

const ctx = (env: Record<string, string> = {}, config = {}) => ({ env, config });

describe('resolveDestinations', () => {
  const ok: [string, Record<string, string>, { label: string; url: string; platform?: string }][] = [
    [
      'youtube',
      { RTMPUSH_YOUTUBE_KEY: 'yt-key-1' },
      { label: 'youtube', url: 'rtmps://a.rtmps.youtube.com:443/live2/yt-key-1', platform: 'youtube' },
    ],
    [
      'twitch',
      { RTMPUSH_TWITCH_KEY: 'live_123' },
      { label: 'twitch', url: 'rtmps://ingest.global-contribute.live-video.net:443/app/live_123', platform: 'twitch' },
    ],
    [
      'facebook',
      { RTMPUSH_FACEBOOK_KEY: 'FB-1' },
      { label: 'facebook', url: 'rtmps://rtmp-api.facebook.com:443/rtmp/FB-1', platform: 'facebook' },
    ],
    [
      'kick',
      { RTMPUSH_KICK_KEY: 'sk_us_1' },
      { label: 'kick', url: 'rtmps://fa723fc1b171.global-contribute.live-video.net:443/app/sk_us_1', platform: 'kick' },
    ],
    ['x', { RTMPUSH_X_KEY: 'xkey' }, { label: 'x', url: 'rtmp://va.pscp.tv:80/x/xkey', platform: 'x' }],
    [
      'restream',
      { RTMPUSH_RESTREAM_KEY: 're_key' },
      { label: 'restream', url: 'rtmp://live.restream.io:1935/live/re_key', platform: 'restream' },
    ],
    [
      'trovo',
      { RTMPUSH_TROVO_KEY: 'tr_key' },
      { label: 'trovo', url: 'rtmp://livepush.trovo.live:1935/live/tr_key', platform: 'trovo' },
    ],
    [
      'twitch',
      { RTMPUSH_TWITCH_KEY: 'live_k1', RTMPUSH_TWITCH_URL: 'rtmp://127.0.0.1:1935/app' },
      { label: 'twitch', url: 'rtmp://127.0.0.1:1935/app/live_k1', platform: 'twitch' },
    ],
    ['rtmp://example.com/live/abcd', {}, { label: 'example.com', url: 'rtmp://example.com:1935/live/abcd' }],
    ['rtmps://example.com:8443/a/b/key?x=1', {}, { label: 'example.com', url: 'rtmps://example.com:8443/a/b/key?x=1' }],
    ['studio=rtmp://10.0.0.5/live/show', {}, { label: 'studio', url: 'rtmp://10.0.0.5:1935/live/show' }],
    [
      '  youtube  ',
      { RTMPUSH_YOUTUBE_KEY: ' spaced-key \n' },
      { label: 'youtube', url: 'rtmps://a.rtmps.youtube.com:443/live2/spaced-key', platform: 'youtube' },
    ],
  ];
  for (const [item, env, want] of ok) {
    it(`${item} → ${want.url}`, () => {
      const [d] = resolveDestinations([item], ctx(env));
      assert.equal(d!.label, want.label);
      assert.equal(publishUrl(d!), want.url);
      assert.equal(d!.platform?.id, want.platform);
    });
  }

  it('local gets a loopback endpoint and a random key, one per process (a reload resolves it again)', () => {
    const [a] = resolveDestinations(['local'], ctx());
    const [b] = resolveDestinations(['local'], ctx());
    assert.equal(endpointUrl(a!.endpoint), 'rtmp://127.0.0.1:0/live');
    assert.match(a!.key.reveal(), /^rtmpush-[0-9a-f]{12}$/);
    assert.equal(a!.key, b!.key, 'the same secret: a reload adds none to what every line is searched for');
  });

  it('splits comma lists and makes host labels unique', () => {
    const list = resolveDestinations(['rtmp://h/live/key1,rtmp://h/live/key2', 'rtmp://h/live/key3'], ctx());
    assert.deepEqual(
      list.map((d) => d.label),
      ['h', 'h-2', 'h-3'],
    );
  });

  it('config destinations: platform + keyEnv, url + key, full url', () => {
    const config = {
      destinations: {
        yt2: { platform: 'youtube', keyEnv: 'MY_YT' },
        box: { url: 'rtmp://box.local/app', key: 'boxkey' },
        full: { url: 'rtmp://full.local/app/fullkey' },
      },
    };
    const list = resolveDestinations(['yt2,box,full'], ctx({ MY_YT: 'ytkey' }, config));
    assert.deepEqual(
      list.map((d) => [d.label, publishUrl(d)]),
      [
        ['yt2', 'rtmps://a.rtmps.youtube.com:443/live2/ytkey'],
        ['box', 'rtmp://box.local:1935/app/boxkey'],
        ['full', 'rtmp://full.local:1935/app/fullkey'],
      ],
    );
    assert.equal(list[0]!.platform?.id, 'youtube');
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['myspace', {}, /unknown destination "myspace": use one of youtube, twitch/],
    ['youtube', {}, /youtube: no stream key: set RTMPUSH_YOUTUBE_KEY/],
    ['twitch', { RTMPUSH_TWITCH_KEY: 'has space' }, /contains whitespace/],
    [
      'twitch',
      { RTMPUSH_TWITCH_KEY: 'rtmp://live.twitch.tv/app/k' },
      /the key is a URL: set it to the stream key alone/,
    ],
    ['http://example.com/live/k', {}, /http:\/\/ is not an ingest URL: rtmpush publishes over rtmp:\/\/ or rtmps:\/\//],
    ['https://example.com/live/k', {}, /https:\/\/ is not an ingest URL/],
    ['ftp://example.com/live/k', {}, /unsupported URL scheme "ftp:"/],
    ['rtmp://example.com', {}, /no app path and no stream key/],
    ['rtmp://a.rtmp.youtube.com/KEYONLY', {}, /no app path: .*YouTube Live's app is "live2"/],
    ['rtmp://', {}, /malformed URL|no host/],
    ['rtmp://h:99999/live/k', {}, /malformed URL|bad port/],
    ['bad label=rtmp://h/live/k', {}, /a label is letters/],
    ['youtube,youtube', { RTMPUSH_YOUTUBE_KEY: 'ytkey' }, /"youtube" is given twice/],
    [
      'twitch',
      { RTMPUSH_TWITCH_KEY: 'abc' },
      /RTMPUSH_TWITCH_KEY: the stream key is too short to be real \(under 4 characters\)/,
    ],
    ['', {}, /no destination/],
  ];
  for (const [item, env, message] of bad) {
    it(`rejects ${JSON.stringify(item)}`, () => {
      assert.throws(
        () => resolveDestinations([item], ctx(env)),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    });
  }

  it('never puts the key in an error message', () => {
    try {
      resolveDestinations(['twitch'], ctx({ RTMPUSH_TWITCH_KEY: 'leaky key' }));
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof UsageError);
      assert.ok(!e.message.includes('leaky'));
    }
  });
});
