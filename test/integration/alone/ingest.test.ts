import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import path from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { flvTags, videoTags } from '../../helpers/flv.js';
import { tempDir } from '../../helpers/tmp.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { probe } from '../../helpers/probe.js';
import { freePort } from '../../helpers/ports.js';
import { startCli } from '../../helpers/spawn.js';

const INGEST_KEY = 'ingestKey-Obs123';
const KEYS = { a: 'ingestDestA111', b: 'ingestDestB222' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An encoder as OBS is one: H.264 + AAC over RTMP, a keyframe every 2 s, in real time. */
function publisher(port: number | string, key: string, seconds = 120, { audio = true } = {}): ResultPromise {
  const url = typeof port === 'string' ? port : `rtmp://127.0.0.1:${port}/live/${key}`;
  const sound = audio ? ['-re', '-f', 'lavfi', '-i', 'sine=frequency=220:sample_rate=48000', '-c:a', 'aac'] : ['-an'];
  return execa(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30'],
      ...sound,
      ...['-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-f', 'flv'],
      url,
    ],
    { reject: false, stdin: 'ignore' },
  );
}

/**
 * What a recording showed, two frames a second: S where most pixels are the slate's background grey, P (the test
 * pattern) elsewhere; runs of the same letter squeezed to one ("PSP": the source, the slate, the source again).
 */
function shown(file: string, grey = 0x20): { pattern: string; slateSeconds: number; letters: string } {
  const [w, h] = [64, 36];
  const gray = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-vf', `fps=2,scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  let letters = '';
  for (let at = 0; at + w * h <= gray.length; at += w * h) {
    let dark = 0;
    for (let i = at; i < at + w * h; i++) if (Math.abs(gray[i]! - grey) <= 8) dark++;
    letters += dark / (w * h) > 0.8 ? 'S' : 'P';
  }
  const slateSeconds = [...letters].filter((l) => l === 'S').length / 2;
  return { pattern: letters.replace(/(.)\1+/g, '$1'), slateSeconds, letters };
}

describe('--source listen: an encoder publishes to rtmpush, leaves and comes back: the platforms stay live', () => {
  const nginx = new NginxRtmp();
  let port = 0;
  let run: ReturnType<typeof startCli>;
  const env = { RTMPUSH_INGEST_KEY: INGEST_KEY, RTMPUSH_RUNTIME_DIR: path.join(tempDir('ingest'), 'run') };
  const publishers: ResultPromise[] = [];
  const states = (label: string) =>
    run.events.filter((e) => e.type === 'state' && e.destination === label).map((e) => e.state);
  const at = (e: Record<string, any>) => Date.parse(e.time);

  before(async () => {
    await nginx.start();
    port = await freePort();
    run = startCli(
      [
        ...['start', '--source', 'listen', '--listen', `127.0.0.1:${port}`, '--preset', '360p30'],
        ...['--to', `a=${nginx.url('live', KEYS.a)}`, '--to', `b=${nginx.url('live', KEYS.b)}`],
        ...['--json', '--uplink', 'off', '--name', 'ingest', '--duration', '120s'],
      ],
      env,
    );
  });
  after(async () => {
    for (const p of publishers) p.kill('SIGKILL');
    run.proc.kill('SIGKILL');
    await run.proc;
    await nginx.dispose();
  });

  it('waits for the encoder, saying where and which key (never the key); the destinations wait with it', async () => {
    const waiting = await run.waitFor((e) => e.type === 'source' && e.state === 'waiting', 15_000);
    assert.equal(waiting.server, `rtmp://127.0.0.1:${port}/live`);
    assert.equal(waiting.key, 'the value of RTMPUSH_INGEST_KEY');
    await sleep(1000);
    assert.deepEqual(states('a'), [], 'nothing dials before the first publish');
  });

  it('a publish goes live on every destination', async () => {
    publishers.push(publisher(port, INGEST_KEY));
    await run.waitFor((e) => e.type === 'source' && e.state === 'live', 15_000);
    for (const l of ['a', 'b'])
      await run.waitFor((e) => e.type === 'state' && e.destination === l && e.state === 'live', 15_000);
  });

  it('a wrong key and a second publisher are refused (BadName, a warning); the live one goes on', async () => {
    const wrong = await publisher(port, 'not-the-key', 3);
    assert.notEqual(wrong.exitCode, 0, 'the wrong key is refused');
    await run.waitFor((e) => e.type === 'warning' && /published with a wrong stream key: refused/.test(e.message));
    const second = await publisher(port, INGEST_KEY, 3);
    assert.notEqual(second.exitCode, 0, 'the second publisher is refused');
    await run.waitFor((e) => e.type === 'warning' && /published while .* is live: refused/.test(e.message));
    assert.equal(run.events.filter((e) => e.type === 'source').length, 2, 'waiting, live: nothing changed');
    assert.deepEqual(states('a'), ['connecting', 'live']);
  });

  it('the encoder killed: the slate within 1 s, still live; the source again when it publishes again', async () => {
    await sleep(2000);
    const killedAt = Date.now();
    publishers[0]!.kill('SIGKILL');
    const slate = await run.waitFor((e) => e.type === 'source' && e.state === 'slate', 5000);
    assert.ok(at(slate) - killedAt < 1000, `slate after ${at(slate) - killedAt} ms`);
    await sleep(2000);
    const status = await runCli(['status', '--name', 'ingest'], env);
    assert.match(status.stdout, /^source: the slate is on for 00:00:0\d \(the encoder's connection closed\)$/m);
    assert.match(status.stdout, /^a +- +live /m);
    const json = JSON.parse((await runCli(['status', '--name', 'ingest', '--json'], env)).stdout);
    assert.equal(json.source.state, 'slate');
    await sleep(3000);
    const backAt = Date.now();
    publishers.push(publisher(port, INGEST_KEY));
    const live = await run.waitFor((e) => e.type === 'source' && e.state === 'live' && at(e) > backAt, 15_000);
    await sleep(3500);
    run.proc.kill('SIGTERM');
    const result = await run.proc;
    assert.equal(result.exitCode, 0);
    for (const l of ['a', 'b'])
      assert.deepEqual(states(l), ['connecting', 'live', 'stopped'], `${l} never reconnected`);

    const firstLive = at(run.events.find((e) => e.type === 'state' && e.destination === 'a' && e.state === 'live')!);
    for (const key of Object.values(KEYS)) {
      const file = nginx.recording(key);
      for (const type of [9, 8]) {
        const tags = flvTags(file).filter((t) => t.type === type && t.data[1] !== 0);
        const gaps = tags.slice(1).map((t, i) => t.timestamp - tags[i]!.timestamp);
        assert.ok(gaps.length > 300, `${gaps.length} ${type === 9 ? 'video' : 'audio'} frames`);
        assert.ok(Math.min(...gaps) >= 0, 'timestamps never go back');
        assert.ok(Math.max(...gaps) <= 1000, `no gap over 1 s (largest ${Math.max(...gaps)} ms)`);
      }
      const video = videoTags(file).slice(1);
      // one session from start to stop: the recording spans the whole time, the slate's seconds included
      const spanMs = video.at(-1)!.timestamp - video[0]!.timestamp;
      const wallMs = at(run.events.find((e) => e.type === 'summary')!) - firstLive;
      assert.ok(spanMs > wallMs - 3000, `recorded ${spanMs} ms of ${wallMs} ms`);
      assert.ok(
        flvTags(file).some((t) => t.type === 8),
        'audio throughout',
      );
      // what the platform showed: the source, then the slate while the encoder was away, then the source again
      const seen = shown(file);
      assert.equal(seen.pattern, 'PSP', seen.letters);
      const away = (at(live) - at(slate)) / 1000;
      assert.ok(Math.abs(seen.slateSeconds - away) < 2.5, `${seen.slateSeconds} s of slate, away ${away} s`);
    }
  });
});

describe('--slate-timeout: a quick comeback resets it; a source that does not come back ends the stream', () => {
  it('back at once: the slate’s time stops; then gone for good: it plays 3 s, exit 1, source lost', async () => {
    const nginx = new NginxRtmp();
    await nginx.start();
    const port = await freePort();
    const run = startCli([
      ...['start', '--source', 'listen', '--listen', `127.0.0.1:${port}`, '--preset', '360p30'],
      ...['--to', `a=${nginx.url('live', KEYS.a)}`, '--slate-timeout', '3s', '--json', '--uplink', 'off'],
    ]);
    try {
      await run.waitFor((e) => e.type === 'source' && e.state === 'waiting', 15_000);
      const pub = publisher(port, 'any-key-is-taken', 4);
      await run.waitFor((e) => e.type === 'state' && e.state === 'live', 15_000);
      assert.equal((await pub).exitCode, 0, 'the publisher ran to its end');
      // back at once (OBS reconnecting, its audio off): the slate never took over, and its 3 s must not end the
      // stream; video alone is encoded with silence beside it
      const back = publisher(port, 'any-key-is-taken', 6, { audio: false });
      const first = await run.waitFor((e) => e.type === 'source' && e.state === 'slate', 5000);
      assert.match(first.reason, /the encoder stopped publishing/);
      assert.equal((await back).exitCode, 0, 'the second publisher ran to its end: never cut off');
      const sources = run.events.filter((e) => e.type === 'source').map((e) => e.state);
      assert.deepEqual(sources.slice(0, 4), ['waiting', 'live', 'slate', 'live'], 'live again');
      assert.equal(run.events.filter((e) => e.type === 'error').length, 0, 'no source-lost while it was live');
      const slate = await run.waitFor((e) => e.type === 'source' && e.state === 'slate' && e !== first, 5000);
      const result = await run.proc;
      assert.equal(result.exitCode, 1);
      const lost = run.events.find((e) => e.type === 'error' && e.code === 'source-lost');
      assert.match(lost?.message ?? '', /^the source was lost: the stream ended after 3 s of slate$/);
      const summary = run.events.find((e) => e.type === 'summary')!;
      const slateMs = Date.parse(summary.time) - Date.parse(slate.time);
      assert.ok(slateMs >= 3000 && slateMs < 9000, `ended ${slateMs} ms after the slate began`);
      assert.deepEqual(
        run.events.filter((e) => e.type === 'state').map((e) => e.state),
        ['connecting', 'live', 'stopped'],
      );
    } finally {
      run.proc.kill('SIGKILL');
      await nginx.dispose();
    }
  });
});

describe('a URL source lost: the slate while it is away, the source again when it answers', () => {
  it('the upstream publisher stops and comes back: --slate’s picture, then the source; no reconnect', async () => {
    const nginx = new NginxRtmp();
    await nginx.start();
    const upstream = nginx.url('live', 'upstreamSource');
    // the operator's own slate: a plain mid-grey picture, told apart from rtmpush's card by its grey
    const card = path.join(tempDir('slate-file'), 'brb.png');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=0x606060:s=320x180', '-frames:v', '1', card]);
    let pub = publisher(upstream, '');
    const record = path.join(tempDir('url-record'), 'show.mkv');
    const env = { RTMPUSH_RUNTIME_DIR: path.join(tempDir('url-run'), 'run') };
    const run = startCli(
      [
        ...['start', '--source', upstream, '--preset', '360p30', '--to', `a=${nginx.url('live', KEYS.a)}`],
        ...['--json', '--uplink', 'off', '--duration', '60s', '--slate', card, '--record', record, '--name', 'url'],
      ],
      env,
    );
    try {
      await run.waitFor((e) => e.type === 'state' && e.state === 'live', 20_000);
      await sleep(2000);
      pub.kill('SIGKILL');
      const slate = await run.waitFor((e) => e.type === 'source' && e.state === 'slate', 10_000);
      // the silence allowed: 1 s, or 2.5 × the longest gap between frames seen so far (under load), at most 8 s
      const silence = /^no frames from the source for (\d+(?:\.\d)?) s$/.exec(slate.reason);
      assert.ok(silence && Number(silence[1]) >= 1 && Number(silence[1]) <= 8, slate.reason);
      await sleep(3000);
      pub = publisher(upstream, '');
      await run.waitFor((e) => e.type === 'source' && e.state === 'live', 30_000);
      await sleep(2000);
      // the loss is a slate, not a restart (both read 0 all run for a URL source before)
      const status = JSON.parse((await runCli(['status', '--name', 'url', '--json'], env)).stdout);
      assert.deepEqual([status.encoder.restarts, status.encoder.slates, status.encoder.swaps], [0, 1, 0]);
      run.proc.kill('SIGTERM');
      assert.equal((await run.proc).exitCode, 0);
      assert.deepEqual(
        run.events.filter((e) => e.type === 'state').map((e) => e.state),
        ['connecting', 'live', 'stopped'],
      );
      const seen = shown(nginx.recording(KEYS.a), 0x60);
      assert.equal(seen.pattern, 'PSP', `the source, the slate, the source again: ${seen.letters}`);
      assert.ok(seen.slateSeconds >= 2, `${seen.slateSeconds} s of slate`);
      const file = nginx.recording(KEYS.a);
      const video = videoTags(file).slice(1);
      const gaps = video.slice(1).map((t, i) => t.timestamp - video[i]!.timestamp);
      assert.ok(gaps.length > 300, `${gaps.length} frames`);
      assert.ok(Math.min(...gaps) >= 0 && Math.max(...gaps) <= 1000, `gaps ${Math.min(...gaps)}..${Math.max(...gaps)}`);
      // --record goes on across the source, the slate and the source again (a file for each)
      const files = run.events.at(-1)!.record.files as string[];
      assert.ok(files.length >= 3 && files[0] === record, JSON.stringify(files));
      for (const f of files) assert.ok((await probe(f)).videoFrames > 10, f);
    } finally {
      pub.kill('SIGKILL');
      run.proc.kill('SIGKILL');
      await nginx.dispose();
    }
  });
});

describe('--copy: the encoder’s stream as it is, once it meets the platforms’ rules', () => {
  it('a 10 s GOP is refused with the fix; a good one goes out frame for frame, then the slate', async () => {
    const nginx = new NginxRtmp();
    await nginx.start();
    const port = await freePort();
    const dir = tempDir('copy');
    const run = startCli(
      [
        ...['start', '--source', 'listen', '--listen', `127.0.0.1:${port}`, '--copy', '--to', 'twitch'],
        ...['--json', '--uplink', 'off', '--slate-timeout', '2s'],
      ],
      { RTMPUSH_TWITCH_URL: nginx.url('live', ''), RTMPUSH_TWITCH_KEY: 'live_copyKey12345' },
    );
    const obs = (gop: number, seconds: number, file: string) =>
      execa(
        'ffmpeg',
        [
          ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30'],
          ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=220:sample_rate=48000', '-t', String(seconds)],
          ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(gop), '-b:v', '1000k', '-c:a', 'aac'],
          ...['-map', '0:v', '-map', '1:a', '-f', 'tee'],
          `[f=flv]rtmp\\://127.0.0.1\\:${port}/live/obs|[f=flv]${file}`,
        ],
        { reject: false, stdin: 'ignore' },
      );
    try {
      await run.waitFor((e) => e.type === 'source' && e.state === 'waiting', 15_000);
      await obs(300, 4, path.join(dir, 'long.flv'));
      const refused = await run.waitFor((e) => e.type === 'warning' && /--copy: .* was refused/.test(e.message));
      assert.match(
        refused.message,
        /a keyframe every 2\.5 s or more: set OBS → Settings → Output → Keyframe Interval to 2 s$/,
      );
      assert.deepEqual(
        run.events.filter((e) => e.type === 'state'),
        [],
        'nothing started for it',
      );

      const sent = path.join(dir, 'sent.flv');
      const good = await obs(60, 6, sent);
      assert.equal(good.exitCode, 0, good.stderr);
      await run.waitFor((e) => e.type === 'source' && e.state === 'slate', 10_000);
      assert.equal((await run.proc).exitCode, 1, 'source lost after the slate’s 2 s');
      const frames = (file: string) => videoTags(file).filter((t) => t.data[1] === 1);
      const theirs = frames(sent);
      const recorded = frames(nginx.recording('live_copyKey12345'));
      // the destination starts once the stream was judged (at its second keyframe): from a keyframe, then all
      const from = theirs.findIndex((t) => t.data.equals(recorded[0]!.data));
      assert.ok(from >= 0 && from <= 60 && theirs[from]!.data[0] === 0x17, `starts at the encoder's frame ${from}`);
      const carried = theirs.slice(from);
      const ours = recorded.slice(0, carried.length);
      assert.ok(carried.length >= 120, `${carried.length} frames carried`);
      assert.equal(ours.length, carried.length, 'every frame arrived');
      const keys = (tags: typeof ours) => tags.flatMap((t, i) => (t.data[0] === 0x17 ? [i] : []));
      assert.deepEqual(keys(ours), keys(carried), 'keyframes where the encoder put them');
      const differ = ours.findIndex((t, i) => !t.data.equals(carried[i]!.data));
      assert.equal(differ, -1, `frame ${differ} changed: not the encoder's own`);
    } finally {
      run.proc.kill('SIGKILL');
      await nginx.dispose();
    }
  });
});
