import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { type MediaSink, MediaFeed } from '../../src/relay/feed.js';
import { MSG, type RtmpMessage } from '../../src/rtmp/message.js';
import { AVC_SEQUENCE_HEADER, FLV_HEADER, flvTag } from '../helpers/publisher.js';

const AAC_HEADER = Buffer.from([0xaf, 0, 0x11, 0x90]);
const key = (n: number) => Buffer.from([0x17, 1, 0, 0, 0, n]);
const inter = (n: number) => Buffer.from([0x27, 1, 0, 0, 0, n]);
const audio = (n: number) => Buffer.from([0xaf, 1, n]);

/** A sink that notes what it got: `key@ts`, `inter@ts`, `audio@ts`, the headers, and encoder starts. */
function sink(): MediaSink & { got: string[] } {
  const got: string[] = [];
  const name = (m: RtmpMessage): string => {
    if (m.typeId === MSG.DataAmf0) return 'meta';
    const [a, b] = [m.payload[0]!, m.payload[1]!];
    if (m.typeId === MSG.Audio) return b === 0 ? 'aac' : `audio@${m.timestamp}`;
    if (b === 0) return 'avc';
    return `${a >> 4 === 1 ? 'key' : 'inter'}@${m.timestamp}`;
  };
  return { got, encoderStarted: () => got.push('encoder'), media: (m) => got.push(name(m)) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('MediaFeed: one encoder leg, read once, for every destination', () => {
  it('every sink gets each message; one that joins late starts from the headers and the latest keyframe', async () => {
    const feed = new MediaFeed(() => assert.fail('no fault'));
    const first = sink();
    feed.subscribe(first);
    const leg = new PassThrough();
    feed.attach(leg);
    leg.write(FLV_HEADER);
    leg.write(flvTag(MSG.Video, 0, AVC_SEQUENCE_HEADER));
    leg.write(flvTag(MSG.Audio, 0, AAC_HEADER));
    leg.write(flvTag(MSG.Video, 0, key(1)));
    leg.write(flvTag(MSG.Video, 33, inter(2)));
    leg.write(flvTag(MSG.Video, 2000, key(3)));
    leg.write(flvTag(MSG.Audio, 2010, audio(4)));
    leg.write(flvTag(MSG.Video, 2033, inter(5)));
    await tick();
    assert.deepEqual(first.got, ['encoder', 'avc', 'aac', 'key@0', 'inter@33', 'key@2000', 'audio@2010', 'inter@2033']);
    const late = sink();
    feed.subscribe(late);
    assert.deepEqual(late.got, ['encoder', 'avc', 'aac', 'key@2000', 'audio@2010', 'inter@2033']);
    leg.write(flvTag(MSG.Video, 2066, inter(6)));
    // the leg rests between reads (at most ~0.4 s), as in a run
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(late.got.at(-1), 'inter@2066');
    assert.equal(feed.bytes, AVC_SEQUENCE_HEADER.length + AAC_HEADER.length + 5 * 6 + 3);
  });

  it('an unsubscribed sink gets nothing more; a new encoder tells every sink and forgets the old GOP', async () => {
    const feed = new MediaFeed(() => {});
    const a = sink();
    const b = sink();
    feed.subscribe(a);
    feed.subscribe(b);
    const leg = new PassThrough();
    feed.attach(leg);
    leg.write(FLV_HEADER);
    leg.write(flvTag(MSG.Video, 0, key(1)));
    await tick();
    feed.unsubscribe(b);
    const next = new PassThrough();
    feed.attach(next);
    next.write(Buffer.concat([FLV_HEADER, flvTag(MSG.Video, 0, inter(2))]));
    await tick();
    assert.deepEqual(a.got, ['encoder', 'key@0', 'encoder', 'inter@0']);
    assert.deepEqual(b.got, ['encoder', 'key@0']);
    const late = sink();
    feed.subscribe(late);
    assert.deepEqual(late.got, ['encoder'], 'no keyframe since the restart: nothing to start from yet');
  });

  it('a leg that is not FLV is a fault, reported once', async () => {
    const faults: string[] = [];
    const feed = new MediaFeed((reason) => faults.push(reason));
    const leg = new PassThrough();
    feed.attach(leg);
    leg.write(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
    await tick();
    assert.equal(faults.length, 1);
    assert.match(faults[0]!, /FLV/);
  });
});
