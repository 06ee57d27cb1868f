import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { videoTags } from '../../helpers/flv.js';
import { NetNs } from '../../helpers/netns.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { startCli } from '../../helpers/spawn.js';

const usable = await NetNs.usable();
const skip = usable ? false : 'needs root for ip netns and tc (CI runs as root)';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** 360p30: 800 kbps of video, 96 of audio; the floor is 30 % of the video. */
const STREAM_KBPS = 896;
const AUDIO_KBPS = 96;
const FLOOR_KBPS = 240;

/** An ffmpeg publishing into rtmpush's ingest as OBS would (2 s keyframes), inside the namespace. */
function publisher(ns: NetNs, url: string): ResultPromise {
  return execa(
    'ip',
    [
      ...['netns', 'exec', ns.name, 'ffmpeg', '-hide_banner', '-loglevel', 'error'],
      ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30'],
      ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-b:v', '1500k', '-c:a', 'aac', '-f', 'flv', url],
    ],
    { reject: false, stdin: 'ignore' },
  );
}

/** The largest step between two video timestamps the server recorded (ms). */
function largestStep(file: string): number {
  const video = videoTags(file);
  let worst = 0;
  for (let i = 1; i < video.length; i++) worst = Math.max(worst, video[i]!.timestamp - video[i - 1]!.timestamp);
  return worst;
}

/** rtmpush in the namespace: `--source listen` on `ingest`, to `to`; started once the publisher is in. */
async function streamInto(ns: NetNs, ingest: number, to: string) {
  const run = startCli(
    [
      ...['start', '--source', 'listen', '--listen', `127.0.0.1:${ingest}`, '--to', to],
      ...['--preset', '360p30', '--uplink', 'off', '--json'],
    ],
    {},
    { prefix: ['ip', 'netns', 'exec', ns.name] },
  );
  await run.waitFor((e) => e.type === 'source' && e.state === 'waiting');
  const pub = publisher(ns, `rtmp://127.0.0.1:${ingest}/live/obs`);
  return { ...run, pub };
}

const lastStats = (events: Record<string, any>[]) => events.filter((e) => e.type === 'stats').at(-1)!;
const steps = (events: Record<string, any>[], from: number) =>
  events
    .filter((e) => e.type === 'bitrate')
    .map((e) => `${Date.parse(e.time) - from} ms: ${e.previousKbps} → ${e.kbps} (${e.reason})`)
    .join('; ');

describe('a sagging uplink is absorbed while the bitrate steps (three destinations on two nginx-rtmp, htb)', {
  skip,
}, () => {
  const ns = new NetNs();
  const A = 19390;
  const B = 19391;
  let a: NginxRtmp;
  let b: NginxRtmp;
  let run: Awaited<ReturnType<typeof streamInto>>;

  before(async () => {
    await ns.create();
    a = new NginxRtmp(ns);
    b = new NginxRtmp(ns);
    await a.start(A);
    await b.start(B);
    // one link, shared by three flows: two to A, one to B
    await ns.shapePorts([A, B], '30mbit', [2, 1]);
    const to = `d1=${a.url('live', 'sagKey1')},d2=${a.url('live', 'sagKey2')},d3=${b.url('live', 'sagKey3')}`;
    run = await streamInto(ns, 19392, to);
    for (const d of ['d1', 'd2', 'd3'])
      await run.waitFor((e) => e.type === 'state' && e.state === 'live' && e.destination === d, 30_000);
    await sleep(6000);
  });
  after(async () => {
    run?.proc.kill('SIGKILL');
    run?.pub.kill('SIGKILL');
    await Promise.allSettled([run?.proc, run?.pub]);
    await a?.dispose();
    await b?.dispose();
    await ns.dispose();
  });

  it('the link halved for 20 s: a fitting bitrate within 3 s, not a frame dropped, never reconnecting', async () => {
    const share = STREAM_KBPS / 2;
    const cutAt = Date.now();
    await ns.reshape(`${share * 3}kbit`);
    try {
      const fit = await run.waitFor((e) => e.type === 'bitrate' && e.kbps + AUDIO_KBPS <= share * 0.95, 15_000);
      const tookMs = Date.parse(fit.time) - cutAt;
      assert.ok(tookMs <= 3000, `a fitting bitrate ${tookMs} ms after the cut: ${steps(run.events, cutAt)}`);
      await sleep(20_000 - (Date.now() - cutAt));
    } finally {
      await ns.reshape('30mbit');
    }
    await sleep(3000);
    const { destinations } = lastStats(run.events);
    for (const d of ['d1', 'd2', 'd3']) {
      assert.equal(destinations[d].droppedFrames, 0, `${d} dropped frames: ${steps(run.events, cutAt)}`);
      assert.equal(destinations[d].state, 'live');
    }
    const states = run.events.filter((e) => e.type === 'state').map((e) => e.state);
    assert.ok(!states.includes('reconnecting'), `states: ${states}`);
    assert.ok(!run.events.some((e) => e.type === 'warning' && /congested/.test(e.message)));
  });

  it("one destination's own path cut: only it drops; the others lose nothing and the bitrate stays", async () => {
    const before = lastStats(run.events).destinations;
    const bitrates = run.events.filter((e) => e.type === 'bitrate').length;
    // a fifth of what it gets: its queue absorbs four seconds of the planned stream, then it drops
    await ns.shapeOne(B, '64kbit');
    let now: Record<string, any>;
    try {
      await sleep(20_000);
      now = lastStats(run.events).destinations;
    } finally {
      await ns.shapeOne(B, '15mbit');
    }
    assert.ok(now.d3.droppedFrames > before.d3.droppedFrames, `d3 dropped ${now.d3.droppedFrames}`);
    assert.ok(run.events.some((e) => e.type === 'warning' && /^d3: congested/.test(e.message)));
    assert.deepEqual([now.d1.droppedFrames, now.d2.droppedFrames], [0, 0]);
    assert.equal(run.events.filter((e) => e.type === 'bitrate').length, bitrates, 'the bitrate stayed');
  });

  it('at the servers that kept up, no step in the video timestamps over 1 s through it all', async () => {
    run.pub.kill('SIGKILL');
    run.proc.kill('SIGTERM');
    await run.proc;
    for (const key of ['sagKey1', 'sagKey2']) {
      const step = largestStep(a.recording(key));
      assert.ok(step > 0 && step < 1000, `${key}: largest step ${step} ms`);
    }
  });
});

describe('a link cut to a quarter: the floor at once, video still arriving, said in a warning', { skip }, () => {
  const ns = new NetNs();
  const PORT = 19395;
  let server: NginxRtmp;
  let run: Awaited<ReturnType<typeof streamInto>>;

  before(async () => {
    await ns.create();
    server = new NginxRtmp(ns);
    await server.start(PORT);
    await ns.shapePorts([PORT], '30mbit');
    run = await streamInto(ns, 19396, `d=${server.url('live', 'quarterKey1')}`);
    await run.waitFor((e) => e.type === 'state' && e.state === 'live', 30_000);
    await sleep(5000);
  });
  after(async () => {
    run?.proc.kill('SIGKILL');
    run?.pub.kill('SIGKILL');
    await Promise.allSettled([run?.proc, run?.pub]);
    await server?.dispose();
    await ns.dispose();
  });

  it('at the floor within 5 s; the server still gets video; the warning says even the floor does not fit', async () => {
    const cutAt = Date.now();
    await ns.reshape(`${STREAM_KBPS / 4}kbit`);
    const floor = await run.waitFor((e) => e.type === 'bitrate' && e.kbps === FLOOR_KBPS, 15_000);
    const tookMs = Date.parse(floor.time) - cutAt;
    assert.ok(tookMs <= 5000, `at the floor ${tookMs} ms after the cut: ${steps(run.events, cutAt)}`);
    const warning = await run.waitFor(
      (e) => e.type === 'warning' && /under even the lowest bitrate \(240 kbps/.test(e.message),
      15_000,
    );
    assert.match(warning.message, /^the link takes about \d+ kbps/);
    await sleep(15_000);
    // the link back: what waited reaches the server before the stream ends
    await ns.reshape('30mbit');
    await sleep(5000);
    run.pub.kill('SIGKILL');
    run.proc.kill('SIGTERM');
    await run.proc;
    // video went on arriving during the cut: frames spread over it, though fewer than the stream had
    const liveAt = Date.parse(run.events.find((e) => e.type === 'state' && e.state === 'live')!.time);
    const from = cutAt - liveAt + 5000;
    const during = videoTags(server.recording('quarterKey1')).filter(
      (t) => t.timestamp >= from && t.timestamp < from + 10_000,
    );
    assert.ok(during.length >= 30, `${during.length} frames in the 10 s from 5 s after the cut`);
  });
});

/**
 * A file whose picture brightens steadily (about 7 levels of mean luma a second, read back in grey) with a tone,
 * 640x360, for `seconds`: read back at the server, a rewind shows as a darker frame.
 */
async function rampFile(file: string, seconds: number): Promise<void> {
  await execa('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `color=black:s=640x360:r=30:d=${seconds},geq=lum='40+6*T':cb=128:cr=128`],
    ...['-f', 'lavfi', '-i', `sine=frequency=330:sample_rate=48000:duration=${seconds}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-c:a', 'aac', '-shortest', file],
  ]);
}

/** Each frame's mean luma in a recording, in order (decoded small, grey). */
async function lumas(file: string): Promise<number[]> {
  const r = await execa('ffmpeg', ['-v', 'error', '-i', file, '-vf', 'scale=16:9,format=gray', '-f', 'rawvideo', '-'], {
    encoding: 'buffer',
  });
  const out: number[] = [];
  const frames = Buffer.from(r.stdout as Uint8Array);
  for (let i = 0; i + 144 <= frames.length; i += 144) {
    let sum = 0;
    for (let j = i; j < i + 144; j++) sum += frames[j]!;
    out.push(sum / 144);
  }
  return out;
}

describe('every source the encoder can open again follows the uplink (the link to one destination halved)', {
  skip,
}, () => {
  for (const kind of ['testsrc', 'file'] as const) {
    const what = kind === 'file' ? '; the file goes on, never from its start' : '';
    it(`${kind}: a fitting bitrate within 3 s, never reconnecting${what}`, async () => {
      const ns = new NetNs();
      await ns.create();
      const server = new NginxRtmp(ns);
      const port = kind === 'file' ? 19397 : 19398;
      let run: ReturnType<typeof startCli> | undefined;
      try {
        await server.start(port);
        await ns.shapePorts([port], '30mbit');
        const dir = mkdtempSync(path.join(tmpdir(), 'rtmpush-ramp-'));
        const source = kind === 'file' ? path.join(dir, 'ramp.mp4') : 'testsrc';
        if (kind === 'file') await rampFile(source, 30);
        run = startCli(
          [
            ...['start', '--source', source, '--to', `d=${server.url('live', `follow${kind}1`)}`],
            ...['--preset', '360p30', '--uplink', 'off', '--json', '--duration', '24s'],
          ],
          {},
          { prefix: ['ip', 'netns', 'exec', ns.name] },
        );
        await run.waitFor((e) => e.type === 'state' && e.state === 'live', 20_000);
        await sleep(6000);
        const cutAt = Date.now();
        await ns.reshape(`${STREAM_KBPS / 2}kbit`);
        const fit = await run.waitFor(
          (e) => e.type === 'bitrate' && e.kbps + AUDIO_KBPS <= (STREAM_KBPS / 2) * 0.95,
          15_000,
        );
        const tookMs = Date.parse(fit.time) - cutAt;
        assert.ok(tookMs <= 3000, `a fitting bitrate ${tookMs} ms after the cut: ${steps(run.events, cutAt)}`);
        await sleep(5000);
        await ns.reshape('30mbit');
        const result = await run.proc;
        assert.equal(result.exitCode, 0);
        const states = run.events.filter((e) => e.type === 'state').map((e) => e.state);
        assert.deepEqual(states, ['connecting', 'live', 'stopped']);
        // the new encoder took over: the server got the lower rate's parameter sets
        assert.ok(run.events.some((e) => e.type === 'stats' && e.bitrateKbps && e.bitrateKbps < fit.kbps + 200));
        const recording = server.recording(`follow${kind}1`);
        assert.ok(largestStep(recording) < 1000, `largest step ${largestStep(recording)} ms`);
        if (kind === 'file') {
          const l = await lumas(recording);
          assert.ok(l.length > 20 * 30, `${l.length} frames`);
          // 7 levels a second: never back by half a second's worth, never ahead by a second's
          const back = l.map((v, i) => (i ? v - l[i - 1]! : 0));
          const worst = back.indexOf(Math.min(...back));
          const around = l.slice(Math.max(0, worst - 5), worst + 5).map((v) => v.toFixed(1));
          assert.ok(Math.min(...back) > -3.5, `darker by ${-Math.min(...back)} at frame ${worst}: ${around.join(' ')}`);
          assert.ok(Math.max(...back) < 7, `brighter by ${Math.max(...back)}: a second skipped`);
          assert.ok(l.at(-1)! > l[0]! + 7 * 18, `from ${l[0]} to ${l.at(-1)}: it went on`);
        }
      } finally {
        run?.proc.kill('SIGKILL');
        await run?.proc;
        await server.dispose();
        await ns.dispose();
      }
    });
  }
});
