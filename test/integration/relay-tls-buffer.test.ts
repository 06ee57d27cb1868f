import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DestinationRelay } from '../../src/relay/relay.js';
import { Secret } from '../../src/secret.js';
import { DEFAULT_RETRY } from '../../src/state/backoff.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { AVC_SEQUENCE_HEADER, frameDue, feedRelay } from '../helpers/publisher.js';
import { makeTestCa } from '../helpers/tls.js';

// RTMPS is the usual case for platforms: a TLS socket completes writes later, not on return, which is where the
// batch writer's reuse of its buffer could go wrong (see test/unit/batch-writer.test.ts). Every byte must arrive.
const FPS = 30;
const FRAMES = 150;
const FRAME = 12_000;

describe('the relay over RTMPS carries every byte', () => {
  const nginx = new NginxRtmp();
  let ca: Awaited<ReturnType<typeof makeTestCa>>;
  let relay: DestinationRelay;
  const events: string[] = [];
  let published = 0;

  before(async () => {
    ca = await makeTestCa();
    await nginx.start(undefined, { cert: ca.cert, key: ca.key });
    relay = new DestinationRelay({
      target: {
        protocol: 'rtmps',
        host: '127.0.0.1',
        port: nginx.tls!.port,
        app: 'live',
        key: new Secret('tlsBufferKey5'),
      },
      retry: DEFAULT_RETRY,
      tls: { insecure: false, ca: [readFileSync(ca.caCert, 'latin1')] },
      bitrateKbps: (FPS * FRAME * 8) / 1000,
      onEvent: (e) => events.push(e.type),
    });
    relay.start();
    const { end, video } = feedRelay(relay);
    video(0, AVC_SEQUENCE_HEADER);
    const started = Date.now();
    for (let i = 0; i < FRAMES; i++) {
      await frameDue(started, i, FPS);
      const frame = Buffer.alloc(FRAME, i);
      frame[0] = i % (2 * FPS) === 0 ? 0x17 : 0x27;
      frame[1] = 1;
      video(Math.round((i * 1000) / FPS), frame);
      published += FRAME;
    }
    await new Promise((r) => setTimeout(r, 700));
    end();
    await relay.stop();
    await nginx.stop();
  });
  after(async () => {
    await relay?.stop();
    await nginx.dispose();
    ca?.dispose();
  });

  it('went live through TLS and the server recorded every byte', () => {
    assert.ok(events.includes('live'), `events ${events}`);
    assert.ok(statSync(nginx.recording('tlsBufferKey5')).size >= published);
  });
});
