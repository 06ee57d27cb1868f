import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DestinationRelay, type RelayEvent } from '../../src/relay/relay.js';
import { Secret } from '../../src/secret.js';
import { DEFAULT_RETRY } from '../../src/state/backoff.js';
import { flvTags } from '../helpers/flv.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { AVC_SEQUENCE_HEADER, frameDue, feedRelay } from '../helpers/publisher.js';

// A destination that comes back must not wait up to a keyframe interval for the encoder's next keyframe: the relay
// starts the new session from the latest keyframe it has seen, with every frame since. A publisher in this process
// plays ffmpeg's part with numbered frames and a keyframe every 6 s, so waiting for the next one would show.
const FPS = 30;
const KEYINT = 6 * FPS;
const FRAME = 1000; // 240 kbit/s: a 6 s GOP fits what the relay keeps
const STOP_AT = 8 * FPS; // the server dies 2 s into the second GOP ...
const BACK_AT = 9 * FPS; // ... is back 1 s later
const END_AT = 11 * FPS; // the publisher stops 1 s before the next keyframe (frame 360)

describe('a destination that comes back resumes from the latest keyframe, not the next one', () => {
  const nginx = new NginxRtmp();
  let relay: DestinationRelay;
  const events: { event: RelayEvent; frame: number }[] = [];
  let frame = 0;

  before(async () => {
    await nginx.start();
    relay = new DestinationRelay({
      target: { protocol: 'rtmp', host: '127.0.0.1', port: nginx.port, app: 'live', key: new Secret('resumeKey4242') },
      retry: { ...DEFAULT_RETRY, initialMs: 300, jitter: 0 },
      tls: { insecure: false },
      bitrateKbps: (FPS * FRAME * 8) / 1000,
      onEvent: (event) => events.push({ event, frame }),
    });
    relay.start();
    const { end, video } = feedRelay(relay);
    video(0, AVC_SEQUENCE_HEADER);
    const started = Date.now();
    for (frame = 0; frame < END_AT; frame++) {
      await frameDue(started, frame, FPS);
      if (frame === STOP_AT) await nginx.stop();
      if (frame === BACK_AT) await nginx.start(nginx.port);
      const payload = Buffer.alloc(FRAME);
      payload[0] = frame % KEYINT === 0 ? 0x17 : 0x27;
      payload[1] = 1;
      payload.writeUInt32BE(frame, 5);
      video(Math.round((frame * 1000) / FPS), payload);
    }
    await new Promise((r) => setTimeout(r, 500));
    end();
    await relay.stop();
    await nginx.stop();
  });
  after(async () => {
    await relay?.stop();
    await nginx.dispose();
  });

  it('lost the server, retried, and was live again before the encoder made its next keyframe', () => {
    const lives = events.filter((e) => e.event.type === 'live');
    assert.ok(
      events.some((e) => e.event.type === 'retry'),
      JSON.stringify(events),
    );
    assert.equal(lives.length, 2, JSON.stringify(events));
    const back = lives[1]!.frame;
    assert.ok(
      back >= BACK_AT && back < BACK_AT + FPS,
      `live again at frame ${back}; the server was back at ${BACK_AT}`,
    );
    assert.ok(!events.some((e) => e.event.type === 'congested'), 'the first burst is not congestion');
  });

  it('the new session starts on the latest keyframe, with its codec header, every frame since, in order', () => {
    // record_unique off: the recording now holds the session after the restart only
    const video = flvTags(nginx.recording('resumeKey4242')).filter((t) => t.type === 9);
    assert.deepEqual([...video[0]!.data.subarray(0, 2)], [0x17, 0], 'AVC sequence header first');
    const frames = video.slice(1);
    const numbers = frames.map((t) => t.data.readUInt32BE(5));
    assert.equal(numbers[0], KEYINT, 'starts on the keyframe before the loss');
    assert.equal(frames[0]!.data[0], 0x17);
    assert.equal(frames[0]!.timestamp, 0);
    assert.deepEqual(
      numbers,
      Array.from({ length: numbers.length }, (_, i) => KEYINT + i),
      'no frame missing or repeated',
    );
    assert.ok(numbers.at(-1)! >= END_AT - 2, `forwarded up to frame ${numbers.at(-1)}`);
    for (let i = 1; i < frames.length; i++)
      assert.equal(frames[i]!.timestamp, Math.round(((KEYINT + i) * 1000) / FPS) - 6000);
  });
});
