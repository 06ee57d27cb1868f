import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { connectTcp } from '../../src/net/dial.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { FakeServer } from '../helpers/fake-server.js';
import { flvTags, isAvcHeader, isKeyframe, videoTags } from '../helpers/flv.js';
import { NodeMediaServer } from '../helpers/nms.js';
import { probe } from '../helpers/probe.js';
import { commandOf, startCli } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

const FPS = 30;
const states = (r: { events: Record<string, any>[] }, label: string) =>
  r.events.filter((e) => e.type === 'state' && e.destination === label);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REFUSING_HOST = '127.0.0.9';
const accepts = (host: string, port: number) =>
  connectTcp(host, port, 2000).then(
    ({ socket }) => {
      socket.destroy();
      return true;
    },
    () => false,
  );
/** Another encoder publishing on `url` (a small test pattern), until killed. */
const holdStream = (url: string): ResultPromise =>
  execa(
    'ffmpeg',
    [
      '-v',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=10',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-f',
      'flv',
      url,
    ],
    { reject: false, stdin: 'ignore' },
  );

describe('rejections: duplicate key, deny publish, unknown app', () => {
  const nginx = new NginxRtmp();
  let holder: ResultPromise;
  let r: CliResult;
  let twitch: Record<string, string>;

  before(async () => {
    await nginx.start();
    // another encoder already publishes on the key "takenKey5678"
    holder = holdStream(nginx.url('live', 'takenKey5678'));
    await sleep(1500);
    const to = [
      `good=${nginx.url('live', 'goodKey1357')}`,
      `dup=${nginx.url('live', 'takenKey5678')}`,
      `deny=${nginx.url('deny', 'denyKey2468')}`,
      `noapp=${nginx.url('nope', 'noappKey9753')}`,
      // a platform whose ingest URL points at an app the server does not have
      'twitch',
    ].join(',');
    twitch = { RTMPUSH_TWITCH_URL: nginx.url('nope', '').replace(/\/$/, ''), RTMPUSH_TWITCH_KEY: 'live_twitchKey8642' };
    r = await runCli(
      ['start', '--to', to, '--preset', '360p30', '--duration', '8s', '--json', '--uplink', 'off'],
      twitch,
    );
  });
  after(async () => {
    holder.kill('SIGKILL');
    await holder;
    await nginx.dispose();
  });

  const within3s = (label: string, reason: RegExp) => {
    const start = Date.parse(r.events.find((e) => e.type === 'start')!.time);
    const rejected = states(r, label).find((e) => e.state === 'rejected');
    assert.ok(rejected, `${label} rejected: ${JSON.stringify(states(r, label))}`);
    assert.match(rejected.reason, reason);
    assert.ok(
      Date.parse(rejected.time) - start <= 3000,
      `${label} rejected after ${Date.parse(rejected.time) - start} ms`,
    );
    assert.ok(
      states(r, label).every((e) => e.state !== 'live'),
      `${label} never live`,
    );
  };

  it('duplicate key: the server says "Already publishing", with a hint', () =>
    within3s('dup', /Already publishing.*another encoder is publishing with this key/));
  it('deny publish: Publish.Start then a close is a rejection, not live', () =>
    within3s('deny', /closed the connection when asked to publish: check the key and the app path/));
  it('unknown app: closed after the handshake without answering connect, the app is named', () =>
    within3s(
      'noapp',
      /closed the connection after the handshake without answering connect: the app path "nope" is probably wrong/,
    ));
  it("a platform's unknown app: the hint names the app the platform expects", () =>
    within3s('twitch', /app path "nope" is probably wrong \(the platform expects "app"\)/));

  it(
    'measuring the uplink through that platform: ' + 'the same words as the relay, the destination named, exit 3',
    async () => {
      const u = await runCli(['uplink', '--to', 'twitch', '--json'], twitch);
      assert.equal(u.exitCode, 3, u.stderr);
      const error = u.events.find((e) => e.type === 'error');
      assert.equal(error?.code, 'uplink-failed');
      assert.match(
        error?.message,
        new RegExp(
          /^uplink to twitch could not be measured: /.source +
            /the server closed the connection after the handshake without answering connect: /.source +
            /the app path "nope" is probably wrong \(the platform expects "app"\)$/.source,
        ),
      );
      assert.ok(!u.stdout.includes('live_twitchKey8642') && !u.stderr.includes('live_twitchKey8642'));
    },
  );

  it('no key shows in the output, the platform key from the environment included', () => {
    for (const key of ['goodKey1357', 'takenKey5678', 'denyKey2468', 'noappKey9753', 'live_twitchKey8642']) {
      assert.ok(!r.stdout.includes(key) && !r.stderr.includes(key), key);
    }
  });

  it('refusals back off (5 s, then longer), not a hot loop', () => {
    const dup = states(r, 'dup').filter((e) => e.state === 'rejected');
    assert.equal(dup.length, 2, `${dup.length} refusals in 8 s`);
    const [first, second] = dup as [Record<string, any>, Record<string, any>];
    assert.ok(first.delayMs >= 4000 && first.delayMs <= 6000, `first delay ${first.delayMs} (5 s ± 20 %)`);
    assert.ok(second.delayMs >= 6000 && second.delayMs <= 9000, `second delay ${second.delayMs} (7.5 s ± 20 %)`);
    const between = Date.parse(second.time) - Date.parse(first.time);
    assert.ok(Math.abs(between - first.delayMs) < 1000, `the second try came ${between} ms after the first`);
  });

  it('the good destination is live and unaffected; exit code 3; the summary says rejected', async () => {
    assert.equal(r.exitCode, 3, r.stderr);
    assert.deepEqual(
      states(r, 'good').map((e) => e.state),
      ['connecting', 'live', 'stopped'],
    );
    const summary = r.events.at(-1)!;
    for (const l of ['dup', 'deny', 'noapp', 'twitch']) assert.equal(summary.destinations[l].finalState, 'rejected');
    const got = await probe(nginx.recording('goodKey1357'));
    assert.ok(got.videoFrames >= 6 * FPS, `frames ${got.videoFrames}`);
    assert.ok(got.maxFrameGapS < 0.1, `gap ${got.maxFrameGapS}`);
    // the first publisher keeps its stream (nginx refuses the second)
    assert.equal(holder.exitCode, null);
  });
});

describe('node-media-server: a name another encoder holds', () => {
  // node-media-server answers a taken name with Publish.Start and closes, giving no reason (see README, states)
  const nms = new NodeMediaServer();
  let holder: ResultPromise;
  let r: CliResult;

  before(async () => {
    await nms.start();
    holder = holdStream(`rtmp://127.0.0.1:${nms.port}/live/nmsTaken1122`);
    const deadline = Date.now() + 5000;
    while (!nms.published.has('/live/nmsTaken1122') && Date.now() < deadline) await sleep(100);
    const to = [
      `good=rtmp://127.0.0.1:${nms.port}/live/nmsFresh3344`,
      `dup=rtmp://127.0.0.1:${nms.port}/live/nmsTaken1122`,
    ].join(',');
    r = await runCli(['start', '--to', to, '--preset', '360p30', '--duration', '6s', '--json']);
  });
  after(async () => {
    holder.kill('SIGKILL');
    await holder;
    await nms.stop();
    nms.cleanup();
  });

  it('the taken name is rejected within 3 s, never live, and the reason says what to check', () => {
    assert.ok(nms.published.has('/live/nmsTaken1122'), 'the first encoder was publishing');
    const start = Date.parse(r.events.find((e) => e.type === 'start')!.time);
    const rejected = states(r, 'dup').find((e) => e.state === 'rejected');
    assert.ok(rejected, JSON.stringify(states(r, 'dup')));
    assert.ok(Date.parse(rejected.time) - start <= 3000, `rejected after ${Date.parse(rejected.time) - start} ms`);
    assert.match(
      rejected.reason,
      /closed the connection when asked to publish: .*no other encoder is publishing with this key/,
    );
    assert.ok(states(r, 'dup').every((e) => e.state !== 'live'));
    assert.equal(r.events.at(-1)!.destinations.dup.finalState, 'rejected');
  });

  it('the other destination on the same server is live and recorded; the first encoder keeps its stream', async () => {
    assert.equal(r.exitCode, 3, r.stderr);
    assert.deepEqual(
      states(r, 'good').map((e) => e.state),
      ['connecting', 'live', 'stopped'],
    );
    const [recording] = nms.recordings('/live/nmsFresh3344');
    assert.ok(recording, 'node-media-server recorded the good destination');
    assert.equal(flvTags(recording)[0]!.type, 18, 'the encoder’s metadata reached the server first');
    const got = await probe(recording);
    assert.ok(got.videoFrames >= 4 * FPS, `frames ${got.videoFrames}`);
    assert.equal(holder.exitCode, null);
  });
});

describe('a server killed mid-stream and restarted; keys absent from every command line', () => {
  const servers = [new NginxRtmp(), new NginxRtmp(), new NginxRtmp()];
  const keys = ['killA1111', 'killB2222', 'killC3333'];
  let events: Record<string, any>[] = [];
  let restartedAt = 0;
  let exitCode: number | undefined;
  const cmdlinesWithKey: string[] = [];

  before(async () => {
    for (const s of servers) await s.start();
    // keys come from the environment, as the README recommends, so rtmpush's own command line has none
    const dir = tempDir('kill');
    const config = path.join(dir, 'rtmpush.config.json');
    const destinations = Object.fromEntries(
      servers.map((s, i) => [`d${i + 1}`, { url: `rtmp://127.0.0.1:${s.port}/live`, keyEnv: `KEY_D${i + 1}` }]),
    );
    writeFileSync(config, JSON.stringify({ destinations }));
    const env = Object.fromEntries(keys.map((k, i) => [`KEY_D${i + 1}`, k]));
    const run = startCli(
      ['start', '--config', config, '--to', 'd1,d2,d3', '--preset', '360p30', '--duration', '25s', '--json'],
      env,
    );
    events = run.events;
    await run.waitFor((e) => e.type === 'state' && e.destination === 'd2' && e.state === 'live');
    // while streaming: no process on the machine has a key in its command line
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      const cmd = commandOf(Number(pid)).join(' ');
      if (keys.some((k) => cmd.includes(k))) cmdlinesWithKey.push(cmd);
    }
    await sleep(2000);
    await servers[1]!.stop();
    // long enough for the backoff to grow past several seconds (retries about 1, 3, 7 and 15 s after the loss)
    await sleep(10_000);
    await servers[1]!.start(servers[1]!.port);
    restartedAt = Date.now();
    exitCode = (await run.proc).exitCode;
  });
  after(async () => {
    for (const s of servers) await s.dispose();
  });

  it('no stream key in any /proc/*/cmdline while streaming', () => {
    assert.deepEqual(cmdlinesWithKey, []);
  });

  it('d2 goes reconnecting (with the reason) and is live again within 1.5 s, whatever its backoff', () => {
    const d2 = events.filter((e) => e.type === 'state' && e.destination === 'd2');
    const firstLive = d2.findIndex((e) => e.state === 'live');
    const reconnecting = d2.filter((e, i) => i > firstLive && e.state === 'reconnecting');
    assert.ok(reconnecting.length >= 1, JSON.stringify(d2));
    assert.match(reconnecting[0]!.reason, /reset|closed|refused/);
    const back = d2.find((e, i) => i > firstLive && e.state === 'live' && Date.parse(e.time) >= restartedAt - 50);
    assert.ok(back, `live again: ${JSON.stringify(d2)}`);
    const lastRetry = reconnecting.filter((e) => Date.parse(e.time) <= restartedAt).at(-1)!;
    const waited = Date.parse(back.time) - restartedAt;
    // the probe (a TCP connect about once a second) ends the wait: the retry timer alone falls anywhere from about
    // 0.5 to 6 s after the restart here (the fifth and sixth waits are ~3.4 and ~5 s)
    assert.ok(
      waited <= 1500,
      `live ${waited} ms after restart; the timer was due ${Date.parse(lastRetry.nextRetryAt) - restartedAt} ms after`,
    );
    assert.equal(exitCode, 0, 'every destination live at the end');
  });

  it('d1 and d3 recorded the whole run with no gap', async () => {
    for (const i of [0, 2]) {
      const got = await probe(servers[i]!.recording(keys[i]!));
      assert.ok(got.videoFrames >= 16 * FPS, `d${i + 1} frames ${got.videoFrames}`);
      assert.ok(got.maxFrameGapS < 0.1, `d${i + 1} gap ${got.maxFrameGapS}`);
    }
  });

  it('d2 resumed on a keyframe with its codec headers', async () => {
    // the recording holds the session after the restart (record_unique off): in file order, the AVC header, then a
    // keyframe at the start of the new timeline, then frames with rising timestamps
    // (nginx-rtmp's recorder keeps no script data, even from ffmpeg publishing directly: the metadata going first
    // is checked on node-media-server's recording below and in the forwarder's table tests)
    const tags = flvTags(servers[1]!.recording(keys[1]!));
    const audio = tags.filter((t) => t.type === 8);
    assert.deepEqual([...audio[0]!.data.subarray(0, 2)], [0xaf, 0], 'the AAC header before any audio');
    // ffmpeg ends its stream with an AVC end-of-sequence tag at the last frame's timestamp: not a frame
    const video = videoTags(servers[1]!.recording(keys[1]!)).filter((t) => t.data[1] !== 2);
    assert.ok(isAvcHeader(video[0]!), 'the AVC header before any video');
    assert.ok(isKeyframe(video[1]!), 'then a keyframe');
    assert.ok(video[1]!.timestamp <= 100, `the keyframe at ${video[1]!.timestamp} ms`);
    for (let i = 2; i < video.length; i++)
      assert.ok(video[i]!.timestamp > video[i - 1]!.timestamp, `tag ${i} goes back`);
    const got = await probe(servers[1]!.recording(keys[1]!));
    assert.equal(got.videoCodec, 'h264');
    assert.ok(got.videoFrames > 3 * FPS, `frames after restart ${got.videoFrames}`);
  });
});

describe('unreachable destinations: reconnecting with backoff, exit 3', () => {
  it('an unresolvable host and a refused port; a platform refused on 1935 is pointed to its RTMPS URL', async (t) => {
    // YouTube's RTMP ingest overridden to a loopback address where nothing listens on 1935
    const youtube = { RTMPUSH_YOUTUBE_URL: `rtmp://${REFUSING_HOST}:1935/live2`, RTMPUSH_YOUTUBE_KEY: 'yt-key-3579' };
    if (await accepts(REFUSING_HOST, 1935)) return t.skip(`something listens on ${REFUSING_HOST}:1935`);
    const r = await runCli(
      [
        'start',
        '--to',
        'local,nohost=rtmp://nonexistent.invalid/live/key1,closed=rtmp://127.0.0.1:1/live/key2,youtube',
        '--preset',
        '360p30',
        '--duration',
        '6s',
        '--json',
      ],
      youtube,
    );
    assert.equal(r.exitCode, 3, r.stderr);
    assert.match(
      String(states(r, 'nohost').find((e) => e.state === 'reconnecting')?.reason),
      /cannot resolve nonexistent\.invalid/,
    );
    assert.match(String(states(r, 'closed').find((e) => e.state === 'reconnecting')?.reason), /connection refused/);
    assert.doesNotMatch(
      String(states(r, 'closed').find((e) => e.state === 'reconnecting')?.reason),
      /RTMPS/,
      'no platform, no RTMPS tip',
    );
    assert.match(
      String(states(r, 'youtube').find((e) => e.state === 'reconnecting')?.reason),
      new RegExp(
        /connection refused: port 1935 may be blocked; /.source +
          /try the RTMPS URL on 443 \(rtmps:\/\/a\.rtmps\.youtube\.com:443\/live2\)/.source,
      ),
    );
    assert.ok(!r.stdout.includes('yt-key-3579') && !r.stderr.includes('yt-key-3579'));
    assert.equal(r.events.at(-1)!.destinations.local.finalState, 'stopped');
    assert.equal(r.events.at(-1)!.destinations.nohost.finalState, 'failed');
  });
});

describe('--max-retries and --retry-max-delay', () => {
  it(
    'a refused destination waits at most the given delay, ' + 'fails after the given tries, and the stream goes on',
    async () => {
      const r = await runCli([
        'start',
        '--to',
        'local,closed=rtmp://127.0.0.1:1/live/key3',
        '--preset',
        '360p30',
        '--duration',
        '6s',
        '--json',
        '--max-retries',
        '2',
        '--retry-max-delay',
        '1s',
      ]);
      assert.equal(r.exitCode, 3, r.stderr);
      const closed = states(r, 'closed');
      assert.deepEqual(
        closed.map((e) => [e.state, e.attempt]),
        [
          ['connecting', undefined],
          ['reconnecting', 1],
          ['reconnecting', 2],
          ['failed', undefined],
        ],
      );
      for (const e of closed.filter((e) => e.state === 'reconnecting'))
        assert.ok(e.delayMs >= 600 && e.delayMs <= 1000, `delay ${e.delayMs}`);
      const failed = closed.at(-1)!;
      assert.match(failed.reason, /connection refused \(gave up after 2 retries\)/);
      // it gave up on its own, seconds before the end, while local kept streaming
      const end = Date.parse(r.events.at(-1)!.time);
      assert.ok(end - Date.parse(failed.time) >= 2000, `failed ${end - Date.parse(failed.time)} ms before the end`);
      assert.deepEqual(
        [r.events.at(-1)!.destinations.local.finalState, r.events.at(-1)!.destinations.closed.finalState],
        ['stopped', 'failed'],
      );
    },
  );
});

describe('a clean stop leaves no ghost session', () => {
  it('the same key can publish again at once', async () => {
    const nginx = new NginxRtmp();
    await nginx.start();
    try {
      for (const round of [1, 2]) {
        const r = await runCli([
          'start',
          '--to',
          `g=${nginx.url('live', 'ghostKey6060')}`,
          '--preset',
          '360p30',
          '--duration',
          '3s',
          '--json',
        ]);
        assert.equal(r.exitCode, 0, `round ${round}: ${JSON.stringify(r.events.filter((e) => e.type === 'state'))}`);
        assert.ok(!states(r, 'g').some((e) => e.state === 'rejected'), `round ${round}`);
      }
    } finally {
      await nginx.dispose();
    }
  });

  it(
    'on a clean stop the relay itself sends FCUnpublish with the key, ' + 'then deleteStream, before it closes',
    async () => {
      // nginx logs deleteStream on any disconnect, so only the relay's own commands show the unpublish
      const server = new FakeServer();
      await server.start();
      try {
        const r = await runCli([
          'start',
          '--to',
          `g=${server.url('live', 'ghostKey7070')}`,
          '--preset',
          '360p30',
          '--duration',
          '3s',
          '--json',
        ]);
        assert.equal(r.exitCode, 0, r.stdout);
        const commands = server.connections.at(-1)!.commands;
        assert.deepEqual(
          commands.slice(-2).map((c) => c.name),
          ['FCUnpublish', 'deleteStream'],
        );
        assert.equal(commands.at(-2)!.args[1], 'ghostKey7070');
        assert.equal(commands.at(-1)!.args[1], 1, 'the stream the server created');
      } finally {
        await server.stop();
      }
    },
  );
});
