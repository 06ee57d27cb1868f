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

describe('MediaFeed.stage: a new encoder takes over on its first keyframe (the slate, the source back)', () => {
  it('until then the current leg goes on; then its headers and that keyframe, and the old leg is closed', async () => {
    const feed = new MediaFeed(() => assert.fail('no fault'));
    const s = sink();
    feed.subscribe(s);
    const old = new PassThrough();
    feed.attach(old);
    old.write(Buffer.concat([FLV_HEADER, flvTag(MSG.Video, 0, AVC_SEQUENCE_HEADER), flvTag(MSG.Video, 0, key(1))]));
    await tick();
    let taken = 0;
    const next = new PassThrough();
    feed.stage(
      next,
      () => taken++,
      () => assert.fail('no fault'),
    );
    next.write(FLV_HEADER);
    next.write(flvTag(MSG.Video, 0, AVC_SEQUENCE_HEADER));
    next.write(flvTag(MSG.Audio, 0, AAC_HEADER));
    next.write(flvTag(MSG.Video, 5, inter(9)));
    old.write(flvTag(MSG.Video, 33, inter(2)));
    // each leg rests between reads (at most ~0.4 s), as in a run
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(taken, 0, 'no keyframe yet: not taken');
    assert.deepEqual(s.got, ['encoder', 'avc', 'key@0', 'inter@33'], 'the old leg goes on; the new one waits');
    next.write(flvTag(MSG.Video, 40, key(10)));
    next.write(flvTag(MSG.Video, 73, inter(11)));
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(taken, 1);
    assert.deepEqual(s.got.slice(4), ['encoder', 'avc', 'aac', 'key@40', 'inter@73']);
    assert.ok(old.destroyed, 'the old leg is closed');
    const late = sink();
    feed.subscribe(late);
    assert.deepEqual(late.got, ['encoder', 'avc', 'aac', 'key@40', 'inter@73'], 'a late joiner gets the new GOP');
  });

  it('a staged leg that is not FLV is its own fault, not the feed’s; the current leg goes on', async () => {
    const feed = new MediaFeed(() => assert.fail('the feed is not at fault'));
    const s = sink();
    feed.subscribe(s);
    const current = new PassThrough();
    feed.attach(current);
    current.write(Buffer.concat([FLV_HEADER, flvTag(MSG.Video, 0, key(1))]));
    const faults: string[] = [];
    const bad = new PassThrough();
    feed.stage(
      bad,
      () => assert.fail('never taken'),
      (reason) => faults.push(reason),
    );
    bad.write('this is not FLV at all');
    await tick();
    assert.equal(faults.length, 1);
    current.write(flvTag(MSG.Video, 33, inter(2)));
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(s.got, ['encoder', 'key@0', 'inter@33']);
  });
});
