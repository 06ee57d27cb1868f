import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DestinationRelay } from '../../../src/relay/relay.js';
import { READ_BATCH_MS } from '../../../src/relay/leg.js';
import { Secret } from '../../../src/secret.js';
import { DEFAULT_RETRY } from '../../../src/state/backoff.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { AVC_SEQUENCE_HEADER, frameDue, feedRelay } from '../../helpers/publisher.js';

// The relay reads ffmpeg's leg in batches (READ_BATCH_MS) to spare wake-ups: it must still carry a high bitrate
// whole and add no more than about a batch of delay. A publisher in this process plays ffmpeg's part.
const FPS = 30;
const SECONDS = 4;
const FRAME = 80_000; // 30 × 80 kB ≈ 19 Mbit/s
const BYTES_PER_S = FPS * FRAME;

describe('the relay at 19 Mbit/s into a real nginx-rtmp', () => {
  const nginx = new NginxRtmp();
  let relay: DestinationRelay;
  const events: string[] = [];
  let published = 0;
  const lags: number[] = [];
  let caughtUpMs = Infinity;
  let ackedAll = false;

  before(async () => {
    await nginx.start();
    relay = new DestinationRelay({
      target: { protocol: 'rtmp', host: '127.0.0.1', port: nginx.port, app: 'live', key: new Secret('throughputKey9') },
      retry: DEFAULT_RETRY,
      tls: { insecure: false },
      bitrateKbps: (BYTES_PER_S * 8) / 1000,
      onEvent: (e) => events.push(e.type),
    });
    relay.start();
    const { end, video: send } = feedRelay(relay);
    const video = (ts: number, payload: Buffer): void => {
      send(ts, payload);
      published += payload.length;
    };
    video(0, AVC_SEQUENCE_HEADER);
    const sentAtStart = relay.sentBytes;
    const started = Date.now();
    for (let i = 0; i < FPS * SECONDS; i++) {
      await frameDue(started, i, FPS);
      const frame = Buffer.alloc(FRAME, i);
      frame[0] = i % (FPS * 2) === 0 ? 0x17 : 0x27;
      frame[1] = 1;
      video(Math.round((i * 1000) / FPS), frame);
      // how far the relay is behind the publisher, in bytes of stream
      if (i > FPS) lags.push(published - (relay.sentBytes - sentAtStart));
    }
    const lastWrite = Date.now();
    while (Date.now() - lastWrite < 3000) {
      if (relay.sentBytes - sentAtStart >= published) {
        caughtUpMs = Math.min(caughtUpMs, Date.now() - lastWrite);
        if (relay.ackedBytes >= published - 65_536) {
          ackedAll = true;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    end();
    await relay.stop();
    await nginx.stop();
  });
  after(async () => {
    await relay?.stop();
    await nginx.dispose();
  });

  it('went live and forwarded everything, acknowledged by the server', () => {
    assert.ok(events.includes('live'), `events ${events}`);
    assert.ok(ackedAll, `acked ${relay.ackedBytes} of ${published} published`);
    assert.ok(statSync(nginx.recording('throughputKey9')).size >= published, 'the recording holds every byte');
  });

  it('stays within about one read batch of the publisher', () => {
    const worstMs = (Math.max(...lags) / BYTES_PER_S) * 1000;
    assert.ok(worstMs <= READ_BATCH_MS + 150, `worst lag ${Math.round(worstMs)} ms of stream`);
    assert.ok(caughtUpMs <= READ_BATCH_MS + 150, `caught up ${caughtUpMs} ms after the last frame`);
  });
});
