import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { resolveStream } from '../../src/cli/options.js';
import { UsageError } from '../../src/errors.js';
import { buildFfmpegArgv } from '../../src/ffmpeg/argv.js';
import { IngestInput } from '../../src/ingest/input.js';
import { IngestServer, PUBLISH_WITHIN_MS } from '../../src/ingest/server.js';
import { MSG, type RtmpMessage } from '../../src/rtmp/message.js';
import { slatePlanFor } from '../../src/source/plan-variants.js';
import { PublisherSession } from '../../src/rtmp/publisher.js';
import { redact, Secret } from '../../src/secret.js';
import { CARD_TEXT, renderCard } from '../../src/slate/card.js';
import { flvTags } from '../helpers/flv.js';
import { AVC_SEQUENCE_HEADER } from '../helpers/publisher.js';
import { tempDir } from '../helpers/tmp.js';

const msg = (typeId: number, timestamp: number, payload: Buffer): RtmpMessage =>
  ({ csid: 4, typeId, streamId: 1, timestamp, payload }) as RtmpMessage;
const key = (n: number) => Buffer.from([0x17, 1, 0, 0, 0, n]);
const inter = (n: number) => Buffer.from([0x27, 1, 0, 0, 0, n]);

describe('the default slate card', () => {
  it('is a PGM of the stream size: dark grey, with the words drawn in light grey in the middle', () => {
    const pgm = renderCard(640, 360);
    const header = `P5\n640 360\n255\n`;
    assert.equal(pgm.subarray(0, header.length).toString(), header);
    const pixels = pgm.subarray(header.length);
    assert.equal(pixels.length, 640 * 360);
    const lit = pixels.filter((v) => v === 0xe0).length;
    assert.ok(lit > 0.01 * pixels.length && lit < 0.2 * pixels.length, `${lit} pixels of ink`);
    // the top and bottom quarters are background only
    assert.ok(pixels.subarray(0, 640 * 90).every((v) => v === 0x20));
    assert.ok(pixels.subarray(640 * 270).every((v) => v === 0x20));
    // every letter drew something: another text draws other pixels
    assert.notDeepEqual(renderCard(640, 360, 'BE RIGHT BACK'), renderCard(640, 360, 'BE RIGHT BACC'));
    assert.equal(CARD_TEXT, 'BE RIGHT BACK');
  });
  it('is big enough to read at 1080p and never drawn off the image at 160x90', () => {
    assert.equal(renderCard(1920, 1080).length, 1920 * 1080 + 'P5\n1920 1080\n255\n'.length);
    assert.equal(renderCard(160, 90).length, 160 * 90 + 'P5\n160 90\n255\n'.length);
  });
});

describe('the ingest into the encoder: FLV on a pipe, with a bounded backlog', () => {
  it('writes the FLV header, then each message as a tag', () => {
    const pipe = new PassThrough();
    const input = new IngestInput(pipe);
    input.write(msg(MSG.Video, 0, AVC_SEQUENCE_HEADER));
    input.write(msg(MSG.Video, 0, key(1)));
    input.write(msg(MSG.Video, 33, inter(2)));
    input.end();
    const tags = flvTags(pipe.read() as Buffer);
    assert.deepEqual(
      tags.map((t) => [t.type, t.timestamp, t.data.length]),
      [
        [9, 0, AVC_SEQUENCE_HEADER.length],
        [9, 0, 6],
        [9, 33, 6],
      ],
    );
  });
  it('a second encoder for a publisher mid-stream: the headers, then frames from the next keyframe', () => {
    const pipe = new PassThrough();
    const input = new IngestInput(pipe, { fromKeyframe: true });
    input.write(msg(MSG.Video, 0, AVC_SEQUENCE_HEADER));
    input.write(msg(MSG.Video, 33, inter(2)));
    input.write(msg(MSG.Video, 2000, key(3)));
    input.write(msg(MSG.Video, 2033, inter(4)));
    const tags = flvTags(pipe.read() as Buffer);
    assert.deepEqual(
      tags.map((t) => t.timestamp),
      [0, 0, 33],
    );
  });
  it('an encoder that does not read: past the bound nothing more is written, headers included; memory bounded', () => {
    // a pipe nobody reads: what is written stays in its buffer
    const stuck = new Writable({ highWaterMark: 1, write: () => {} });
    const input = new IngestInput(stuck, { backlogBytes: 100 });
    input.write(msg(MSG.Video, 0, key(1)));
    input.write(msg(MSG.Video, 33, Buffer.alloc(200, 0x27)));
    const before = stuck.writableLength;
    input.write(msg(MSG.Video, 66, inter(3)));
    input.write(msg(MSG.Audio, 70, Buffer.from([0xaf, 1, 1])));
    for (let i = 0; i < 1000; i++) input.write(msg(MSG.Video, 0, AVC_SEQUENCE_HEADER));
    input.write(msg(MSG.Video, 100, key(4)));
    assert.equal(stuck.writableLength, before, 'past the bound: nothing written');
    assert.equal(input.droppedFrames, 2);
  });
  it('timestamps only rise, a step at most 1 s; media more than 2 s ahead of real time is dropped', () => {
    const pipe = new PassThrough();
    const input = new IngestInput(pipe);
    input.write(msg(MSG.Video, 5000, key(1)));
    input.write(msg(MSG.Video, 5033, inter(2)));
    input.write(msg(MSG.Video, 605_033, inter(3)));
    input.write(msg(MSG.Video, 4000, inter(4)));
    input.write(msg(MSG.Video, 4033, inter(5)));
    input.write(msg(MSG.Video, 4066, key(6)));
    input.write(msg(MSG.Video, 5066, inter(7)));
    input.write(msg(MSG.Video, 6066, inter(8)));
    const tags = flvTags(pipe.read() as Buffer);
    assert.deepEqual(
      tags.map((t) => t.timestamp),
      [0, 33, 1033, 1033, 1066, 1099],
      'a jump of 10 minutes is a second; going back is standing still; 2099 and on would be over 2 s ahead: dropped',
    );
  });
});

describe('--source listen: the options', () => {
  const resolve = (flags: Record<string, unknown>, env: Record<string, string> = {}) =>
    resolveStream({ to: ['local'], source: 'listen', ...flags }, { env, cwd: tempDir('ingest'), os: 'linux' }).plan;
  it('listens on 127.0.0.1:1935 by default, any key; the slate is the card for 10 minutes', () => {
    const plan = resolve({});
    assert.deepEqual(plan.ingest, { host: '127.0.0.1', port: 1935 });
    assert.deepEqual(plan.slate, { image: true, timeoutMs: 600_000 });
  });
  it('the key from RTMPUSH_INGEST_KEY is a secret: never printed, never in ffmpeg’s command line', () => {
    const plan = resolve(
      { listen: '0.0.0.0:19350', slateTimeout: '0' },
      { RTMPUSH_INGEST_KEY: 'obsIngestKey77-Long-Enough' },
    );
    assert.equal(JSON.stringify(plan.ingest), '{"host":"0.0.0.0","port":19350,"key":"****"}');
    assert.equal(redact('obsIngestKey77-Long-Enough'), '****');
    assert.ok(!buildFfmpegArgv(plan).join(' ').includes('obsIngestKey77-Long-Enough'));
    assert.equal(plan.slate?.timeoutMs, 0);
  });
  it('ffmpeg reads the ingest as FLV on the pipe after the legs', () => {
    const argv = buildFfmpegArgv(resolve({}));
    const i = argv.indexOf('-i');
    assert.deepEqual(argv.slice(i - 2, i + 2), ['-f', 'flv', '-i', 'pipe:4']);
  });
  it('the bitrate follows the uplink unless --no-adaptive-bitrate, or --copy (the bitrate is the encoder’s)', () => {
    assert.equal(resolve({}).adaptiveBitrate, true);
    assert.equal(resolve({ adaptiveBitrate: false }).adaptiveBitrate, false);
    assert.equal(resolve({ copy: true }).adaptiveBitrate, false);
    assert.equal(resolve({}, { RTMPUSH_BITRATE_UP_AFTER: '20s' }).bitrateUpAfterMs, 20_000);
  });
  it('refuses a non-loopback address with no key, and --loop', () => {
    assert.throws(() => resolve({ listen: '[::]:1935' }), UsageError);
    assert.throws(() => resolve({ loop: true }), /--loop only works with a file --source/);
    assert.doesNotThrow(() => resolve({ listen: '[::1]:1935' }));
  });
});

describe('the ingest server', () => {
  it('a port in use is bad input, saying so', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    const server = new IngestServer({ host: '127.0.0.1', port });
    try {
      await assert.rejects(server.listen(), (e: Error) => {
        assert.ok(e instanceof UsageError);
        assert.equal(
          e.message,
          `--listen 127.0.0.1:${port}: the port is in use (another RTMP server?): pick another --listen`,
        );
        return true;
      });
    } finally {
      taken.close();
    }
  });
  it('past 8 connections the oldest that is not publishing goes; one that never publishes is closed', async () => {
    const server = new IngestServer({ host: '127.0.0.1', port: 0 });
    await server.listen();
    const started = performance.now();
    const closedAt: number[] = [];
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 9; i++) {
      const sock = net.connect(server.port, '127.0.0.1');
      sock.on('error', () => {});
      sock.once('close', () => {
        closedAt[i] = performance.now() - started;
      });
      sockets.push(sock);
      await new Promise((r) => sock.once('connect', r));
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(closedAt[0]! > 0, 'the oldest was let go for the ninth');
    assert.equal(closedAt.filter((t) => t > 0).length, 1, 'the others wait to publish');
    await new Promise((r) => setTimeout(r, PUBLISH_WITHIN_MS + 500));
    assert.equal(closedAt.filter((t) => t > 0).length, 9, 'none published within 5 s: all closed');
    for (const s of sockets) s.destroy();
    await server.close();
  });
});

describe('the slate’s encode', () => {
  const plan = () =>
    resolveStream({ to: ['local'], source: 'listen' }, { env: {}, cwd: tempDir('slate-plan'), os: 'linux' }).plan;
  it('an image is held (-loop 1 at the stream’s rate), a video looped (-stream_loop -1); silence beside either', () => {
    const image = buildFfmpegArgv({ ...plan(), source: { kind: 'slate', path: '/s/brb.png', image: true } });
    const video = buildFfmpegArgv({ ...plan(), source: { kind: 'slate', path: '/s/brb.mp4', image: false } });
    const inputs = (argv: string[]) => argv.flatMap((a, i) => (a === '-i' ? [argv[i + 1]] : []));
    assert.deepEqual(inputs(image), ['/s/brb.png', 'anullsrc=channel_layout=stereo:sample_rate=48000']);
    assert.deepEqual(image.slice(image.indexOf('-loop'), image.indexOf('-loop') + 4), [
      '-loop',
      '1',
      '-framerate',
      '30',
    ]);
    assert.deepEqual(video.slice(video.indexOf('-stream_loop'), video.indexOf('-stream_loop') + 2), [
      '-stream_loop',
      '-1',
    ]);
    assert.deepEqual(inputs(video)[0], '/s/brb.mp4');
  });
  it('with --copy it is encoded as the encoder’s stream is: size, rate, keyframes, bitrate, audio, B-frames', () => {
    const stream = {
      width: 1920,
      height: 1080,
      fps: 60,
      keyintS: 2,
      videoKbps: 6000,
      audioSampleRate: 44100,
      audioChannels: 2,
      reorders: true,
    };
    const p = slatePlanFor(plan(), stream);
    assert.deepEqual(
      [p.video.width, p.video.height, p.video.fps, p.video.kbps, p.video.keyintFrames, p.audio.sampleRate],
      [1920, 1080, 60, 6000, 120, 44100],
    );
    assert.equal(p.video.noBFrames, undefined, 'B-frames, as the encoder sends');
    // an encoder that sends none (an ATEM, OBS with x264 ultrafast): the slate reorders alike, with none
    const none = slatePlanFor(plan(), { ...stream, reorders: false });
    assert.equal(none.video.noBFrames, true);
    const argv = buildFfmpegArgv(none);
    assert.equal(argv[argv.indexOf('-bf:v:0') + 1], '0');
  });
});

describe('the ingest server, with real RTMP publishers on loopback', () => {
  /** Publishes to the server; `ended` resolves with how the session ended. */
  async function publish(port: number, name: string) {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let ended: (kind: string) => void = () => {};
    const end = new Promise<string>((r) => (ended = r));
    const session = await new Promise<PublisherSession | undefined>((resolve) => {
      const s: PublisherSession = new PublisherSession(
        socket,
        { endpoint: { protocol: 'rtmp', host: '127.0.0.1', port, app: 'live' }, name, deadlineMs: 3000 },
        {
          onPublished: () => resolve(s),
          onEnd: (e) => {
            resolve(undefined);
            ended(e.kind);
          },
        },
      );
    });
    return { session, end, socket };
  }
  const audio = Buffer.from([0xaf, 1, 0, 0]);

  it('a wrong key is refused and its connection ended; the one streaming is not touched', async () => {
    const server = new IngestServer({ host: '127.0.0.1', port: 0, key: new Secret('right-key-1234') });
    const warnings: string[] = [];
    server.warn = (m) => warnings.push(m);
    const taken: string[] = [];
    server.onPublish((p) => taken.push(p.from));
    await server.listen();
    try {
      const good = await publish(server.port, 'right-key-1234');
      assert.ok(good.session, 'the right key is taken');
      const wrong = await publish(server.port, 'guess-0001');
      assert.equal(wrong.session, undefined);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(wrong.socket.destroyed || wrong.socket.readableEnded, true, 'one guess per connection');
      assert.match(warnings[0]!, /published with a wrong stream key: refused/);
      assert.equal(taken.length, 1);
      assert.equal(good.socket.destroyed, false);
      good.session!.close();
    } finally {
      await server.close();
    }
  });

  it('one that sends no video for 3 s gives way to a new encoder; one that streams does not', async () => {
    const server = new IngestServer({ host: '127.0.0.1', port: 0 });
    const warnings: string[] = [];
    server.warn = (m) => warnings.push(m);
    await server.listen();
    try {
      const holder = await publish(server.port, 'obs');
      assert.ok(holder.session);
      const tick = setInterval(
        () => holder.session!.send({ csid: 4, typeId: MSG.Audio, streamId: 1, timestamp: 0, payload: audio }),
        100,
      );
      const early = await publish(server.port, 'obs');
      assert.equal(early.session, undefined, 'within 3 s: still its slot');
      await new Promise((r) => setTimeout(r, 3200));
      const next = await publish(server.port, 'obs');
      clearInterval(tick);
      assert.ok(next.session, 'after 3 s with no video: the new one is taken');
      assert.equal(await holder.end, 'closed', 'the holder is cut off');
      assert.ok(warnings.some((w) => /sent no video in 3 s: .* takes its place/.test(w)));
      // the new one streams (video, a keyframe first): another is refused however long it waits
      let ts = 0;
      const video = setInterval(() => {
        ts += 33;
        next.session!.send({ csid: 6, typeId: MSG.Video, streamId: 1, timestamp: ts, payload: key(1) });
      }, 100);
      await new Promise((r) => setTimeout(r, 3200));
      const later = await publish(server.port, 'obs');
      clearInterval(video);
      assert.equal(later.session, undefined, 'a streaming encoder keeps its slot');
      next.session!.close();
    } finally {
      await server.close();
    }
  });
});
