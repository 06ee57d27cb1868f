import assert from 'node:assert/strict';
import type { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { NGINX_ACK_RESET } from '../../../src/rtmp/ack.js';
import { MSG } from '../../../src/rtmp/message.js';
import { DestinationRelay, type RelayEvent } from '../../../src/relay/relay.js';
import { Secret } from '../../../src/secret.js';
import { LocalServer } from '../../../src/run/local-server.js';
import { DEFAULT_RETRY } from '../../../src/state/backoff.js';
import { FakeServer } from '../../helpers/fake-server.js';
import { videoTags } from '../../helpers/flv.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { AVC_SEQUENCE_HEADER, FLV_HEADER, flvTag, legInto } from '../../helpers/publisher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A video frame of `size` bytes as FLV payload: keyframe or not, AVC NALU packet, shown as it is decoded. */
function frame(size: number, key: boolean): Buffer {
  const b = Buffer.alloc(size, 0x55);
  b[0] = key ? 0x17 : 0x27;
  b[1] = 1;
  b.fill(0, 2, 5);
  return b;
}

/** Feeds a relay's leg with frames as fast as the destination takes them (never more than `ahead` unacknowledged). */
async function feed(
  relay: DestinationRelay,
  leg: PassThrough,
  bytes: number,
  frameSize: number,
  ahead: number,
): Promise<number> {
  const key = flvTag(MSG.Video, 0, frame(frameSize, true));
  const inter = flvTag(MSG.Video, 0, frame(frameSize, false));
  let written = 0;
  // A destination that stops taking the stream (a relay that lost count of its acknowledgements) ends the feed.
  const deadline = Date.now() + 60_000;
  for (let i = 1; written < bytes && Date.now() < deadline; i++) {
    await new Promise((r) => setImmediate(r)); // let the relay read, write and hear acknowledgements
    while (
      (relay.sentBytes - relay.ackedBytes > ahead || leg.readableLength + leg.writableLength > ahead) &&
      Date.now() < deadline
    )
      await sleep(2);
    const tag = Buffer.from(i % 60 === 0 ? key : inter);
    tag.writeUIntBE((i * 33) & 0xffffff, 4, 3); // timestamp
    tag[7] = ((i * 33) >>> 24) & 0xff;
    leg.write(tag);
    written += frameSize;
  }
  return written;
}

/** Starts the leg (header, codec header, a keyframe) and sends frames until the relay is live. */
async function untilLive(relay: DestinationRelay, events: RelayEvent[]): Promise<PassThrough> {
  const leg = legInto(relay);
  leg.write(FLV_HEADER);
  leg.write(flvTag(MSG.Video, 0, AVC_SEQUENCE_HEADER));
  leg.write(flvTag(MSG.Video, 0, frame(100_000, true)));
  const started = Date.now();
  while (!events.some((e) => e.type === 'live') && Date.now() - started < 10_000) {
    leg.write(flvTag(MSG.Video, 0, frame(20_000, false)));
    await sleep(20);
  }
  return leg;
}

/** Waits until the relay has read all the leg holds (it rests up to ~0.4 s between reads) and it is acknowledged. */
async function settle(relay: DestinationRelay, leg: PassThrough, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const behind = () => relay.sentBytes - relay.ackedBytes > 128 * 1024 || leg.readableLength + leg.writableLength > 0;
  while (Date.now() < deadline && behind()) await sleep(20);
  await sleep(500); // a rest and a read more: nothing was left in the kernel's pipe either
  while (Date.now() < deadline && behind()) await sleep(20);
}

describe("past nginx-rtmp's acknowledgement reset at 0xF0000000 bytes (one relay, real nginx-rtmp)", () => {
  const nginx = new NginxRtmp();
  const events: RelayEvent[] = [];
  let relay: DestinationRelay;
  let written = 0;
  let seconds = 0;

  before(async () => {
    await nginx.start();
    relay = new DestinationRelay({
      target: {
        protocol: 'rtmp',
        host: '127.0.0.1',
        port: nginx.port,
        app: 'sink',
        key: new Secret('wrapKey0xF0000000'),
      },
      retry: DEFAULT_RETRY,
      tls: { insecure: false },
      // a real stream's figure (4K at YouTube's top rate): two seconds of it (12.5 MB) unacknowledged is congestion
      bitrateKbps: 50_000,
      onEvent: (e) => events.push(e),
    });
    relay.start();
    const started = Date.now();
    const leg = await untilLive(relay, events);
    // 0xF0000000 bytes and 64 MiB more, in 512 KiB frames
    written = await feed(relay, leg, NGINX_ACK_RESET + 64 * 2 ** 20, 512 * 1024, 4 * 2 ** 20);
    await settle(relay, leg, 10_000);
    seconds = (Date.now() - started) / 1000;
    leg.end();
    await relay.stop();
  });
  after(async () => {
    await relay?.stop();
    await nginx.dispose();
  });

  it('went live once and stayed so: no reconnect, no congestion, no dropped frame', () => {
    assert.deepEqual(
      events.map((e) => e.type),
      ['live'],
      `${JSON.stringify(events)} after ${seconds} s`,
    );
    assert.equal(relay.droppedFrames, 0);
  });

  it('every byte past the reset was acknowledged (the count followed nginx across it)', () => {
    assert.ok(written > NGINX_ACK_RESET, `${written} bytes`);
    assert.ok(relay.sentBytes > NGINX_ACK_RESET + 64 * 2 ** 20, `sent ${relay.sentBytes}`);
    assert.ok(
      relay.sentBytes - relay.ackedBytes <= 128 * 1024,
      `sent ${relay.sentBytes}, acknowledged ${relay.ackedBytes}`,
    );
  });
});

describe('a server whose acknowledgement counter starts just below 2^32', () => {
  const server = new FakeServer({ ackStart: 2 ** 32 - 200_000 });
  const events: RelayEvent[] = [];
  let relay: DestinationRelay;
  let written = 0;

  before(async () => {
    await server.start();
    relay = new DestinationRelay({
      target: {
        protocol: 'rtmp',
        host: '127.0.0.1',
        port: server.port,
        app: 'live',
        key: new Secret('nearWrapKey1234'),
      },
      retry: DEFAULT_RETRY,
      tls: { insecure: false },
      bitrateKbps: 2000, // two seconds of stream = 500 kB: anything like a 4 GB backlog is congestion
      onEvent: (e) => events.push(e),
    });
    relay.start();
    const leg = await untilLive(relay, events);
    written = await feed(relay, leg, 8 * 2 ** 20, 64 * 1024, 256 * 1024);
    await settle(relay, leg, 5000);
    leg.end();
    await relay.stop();
  });
  after(async () => {
    await relay?.stop();
    await server.stop();
  });

  it('live on its acknowledgements, never congested, nothing dropped, every byte acknowledged across the wrap', () => {
    assert.deepEqual(events, [{ type: 'live', confirmedBy: 'ack' }]);
    assert.equal(relay.droppedFrames, 0);
    assert.ok(
      relay.sentBytes >= written && relay.sentBytes - relay.ackedBytes <= 128 * 1024,
      `sent ${relay.sentBytes}, acknowledged ${relay.ackedBytes}`,
    );
    assert.ok(
      server.connections[0]!.mediaBytes >= written,
      `the server got ${server.connections[0]!.mediaBytes} of ${written} bytes`,
    );
  });
});

describe('a server that never acknowledges, then hangs', () => {
  const server = new FakeServer({ noAcks: true });
  const events: { event: RelayEvent; at: number }[] = [];
  let relay: DestinationRelay;
  let hungAt = 0;

  before(async () => {
    await server.start();
    relay = new DestinationRelay({
      target: { protocol: 'rtmp', host: '127.0.0.1', port: server.port, app: 'live', key: new Secret('noAckHangKey9') },
      retry: DEFAULT_RETRY,
      tls: { insecure: false },
      bitrateKbps: 80_000,
      onEvent: (event) => events.push({ event, at: Date.now() }),
    });
    relay.start();
    const leg = legInto(relay);
    leg.write(FLV_HEADER);
    leg.write(flvTag(MSG.Video, 0, AVC_SEQUENCE_HEADER));
    // 10 MB/s of frames for 16 s: live on an open publish (no acks), then the server stops reading
    const key = frame(100_000, true);
    const started = Date.now();
    for (let i = 0; Date.now() - started < 16_000; i++) {
      leg.write(flvTag(MSG.Video, i * 10, i % 100 === 0 ? key : frame(100_000, false)));
      if (!hungAt && events.some((e) => e.event.type === 'live')) {
        hungAt = Date.now();
        server.hang();
      }
      await sleep(10);
      if (events.some((e) => e.event.type === 'retry')) break;
    }
    leg.end();
    await relay.stop();
  });
  after(async () => {
    await relay?.stop();
    await server.stop();
  });

  it('live by its open publish, then dropped and retried once it takes nothing for 10 s', () => {
    const live = events.find((e) => e.event.type === 'live');
    assert.deepEqual(live?.event, { type: 'live', confirmedBy: 'open' });
    const retry = events.find((e) => e.event.type === 'retry');
    assert.ok(retry, JSON.stringify(events.map((e) => e.event)));
    assert.match((retry.event as { reason: string }).reason, /the server stopped taking data for 10 s/);
    const after = retry.at - hungAt;
    assert.ok(after >= 10_000 && after < 15_000, `retried ${after} ms after the server hung`);
  });
});

describe("rtmpush's own embedded server (--to local)", () => {
  const names = new Set(['localAckKey123']);
  const local = new LocalServer(names);
  const events: RelayEvent[] = [];
  let relay: DestinationRelay;
  let liveAfter = 0;

  before(async () => {
    await local.start();
    relay = new DestinationRelay({
      target: { protocol: 'rtmp', host: '127.0.0.1', port: local.port, app: 'live', key: new Secret('localAckKey123') },
      retry: DEFAULT_RETRY,
      tls: { insecure: false },
      bitrateKbps: 1000,
      onEvent: (e) => events.push(e),
    });
    const started = Date.now();
    relay.start();
    const leg = await untilLive(relay, events);
    liveAfter = Date.now() - started;
    leg.end();
    await relay.stop();
    // every recording on disk before a test reads it
    await local.stop();
  });
  after(async () => {
    await relay?.stop();
    await local.stop();
    local.cleanup();
  });

  it('acknowledges what arrives: live on its acknowledgement within a second, not on the 2 s no-ack fallback', () => {
    assert.deepEqual(events[0], { type: 'live', confirmedBy: 'ack' });
    assert.ok(liveAfter < 1000, `live after ${liveAfter} ms`);
  });

  it('records the publish it took as FLV', () => {
    const [file] = local.recordings('/live/localAckKey123');
    assert.ok(file, 'a recording');
    assert.ok(
      videoTags(file).some((t) => t.data[0] === 0x17 && t.data[1] === 1),
      'with the keyframe',
    );
  });
});
