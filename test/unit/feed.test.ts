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
const END = Buffer.from([0x17, 2, 0, 0, 0]);

/** `key@ts`, `inter@ts`, `audio@ts`, `avc`, `aac`, `end@ts`: what a message is, and where. */
const name = (m: RtmpMessage): string => {
  if (m.typeId === MSG.DataAmf0) return 'meta';
  const [a, b] = [m.payload[0]!, m.payload[1]!];
  if (m.typeId === MSG.Audio) return b === 0 ? 'aac' : `audio@${m.timestamp}`;
  if (b === 0) return 'avc';
  if (b === 2) return `end@${m.timestamp}`;
  return `${a >> 4 === 1 ? 'key' : 'inter'}@${m.timestamp}`;
};

/** A sink that notes what it got, by name. */
function sink(): MediaSink & { got: string[]; joins: number } {
  const s = {
    got: [] as string[],
    joins: 0,
    joined: () => void s.joins++,
    media: (m: RtmpMessage) => s.got.push(name(m)),
  };
  return s;
}

const tick = () => new Promise((r) => setImmediate(r));
/** Each leg rests between reads (at most ~0.4 s), as in a run. */
const rest = () => new Promise((r) => setTimeout(r, 600));

describe('MediaFeed: one encode, read once, for every destination', () => {
  it('every sink gets each message; the stream start holds the headers and the latest group of pictures', async () => {
    const feed = new MediaFeed(30, () => assert.fail('no fault'));
    const first = sink();
    feed.subscribe(first);
    assert.equal(first.joins, 1);
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
    // each audio frame goes once the video at its time has gone
    assert.deepEqual(first.got, ['avc', 'aac', 'key@0', 'inter@33', 'key@2000', 'inter@2033', 'audio@2010']);
    assert.deepEqual(feed.start.messages.map(name), ['avc', 'aac', 'key@2000', 'inter@2033', 'audio@2010']);
    leg.write(flvTag(MSG.Video, 2066, inter(6)));
    await rest();
    assert.equal(first.got.at(-1), 'inter@2066');
    assert.equal(feed.bytes, AVC_SEQUENCE_HEADER.length + AAC_HEADER.length + 5 * 6 + 3);
  });

  it('a new encoder goes on from where the last one was: one frame on, the same headers not sent again', async () => {
    const feed = new MediaFeed(30, () => {});
    const a = sink();
    const b = sink();
    feed.subscribe(a);
    feed.subscribe(b);
    const leg = new PassThrough();
    feed.attach(leg);
    leg.write(FLV_HEADER);
    leg.write(flvTag(MSG.Video, 0, AVC_SEQUENCE_HEADER));
    leg.write(flvTag(MSG.Video, 0, key(1)));
    leg.write(flvTag(MSG.Video, 33, inter(2)));
    // ffmpeg's FLV muxer ends with an end of sequence: the stream has not ended
    leg.write(flvTag(MSG.Video, 33, END));
    await tick();
    feed.unsubscribe(b);
    const next = new PassThrough();
    feed.attach(next);
    next.write(FLV_HEADER);
    next.write(flvTag(MSG.Video, 0, AVC_SEQUENCE_HEADER));
    next.write(flvTag(MSG.Video, 0, inter(3)));
    await rest();
    assert.deepEqual(feed.start.gop.map(name), ['key@0', 'inter@33'], 'no keyframe from the new one yet');
    next.write(flvTag(MSG.Video, 40, key(4)));
    next.write(flvTag(MSG.Video, 73, inter(5)));
    await rest();
    assert.deepEqual(a.got, ['avc', 'key@0', 'inter@33', 'key@66', 'inter@99']);
    assert.deepEqual(b.got, ['avc', 'key@0', 'inter@33']);
    assert.deepEqual(feed.start.messages.map(name), ['avc', 'key@66', 'inter@99']);
    // at the very end the encoder's end of sequence goes out, after its last frame
    next.write(flvTag(MSG.Video, 73, END));
    next.end();
    await feed.drain();
    assert.equal(a.got.at(-1), 'end@99');
  });

  it('a leg that is not FLV is a fault, reported once', async () => {
    const faults: string[] = [];
    const feed = new MediaFeed(30, (reason) => faults.push(reason));
    const leg = new PassThrough();
    feed.attach(leg);
    leg.write(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
    await tick();
    assert.equal(faults.length, 1);
    assert.match(faults[0]!, /FLV/);
  });
});

describe('MediaFeed.stage: a new encoder takes over on its first keyframe (the slate, the source back)', () => {
  it('until then the current leg goes on; then it is spliced on from that keyframe; the old leg closed', async () => {
    const feed = new MediaFeed(30, () => assert.fail('no fault'));
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
    next.write(flvTag(MSG.Audio, 20, audio(8)));
    next.write(flvTag(MSG.Video, 5, inter(9)));
    old.write(flvTag(MSG.Video, 33, inter(2)));
    await rest();
    assert.equal(taken, 0, 'no keyframe yet: not taken');
    assert.deepEqual(s.got, ['avc', 'key@0', 'inter@33'], 'the old leg goes on; the new one waits');
    next.write(flvTag(MSG.Video, 40, key(10)));
    next.write(flvTag(MSG.Video, 73, inter(11)));
    await rest();
    assert.equal(taken, 1);
    // the same AVC header is not sent again; the new AAC header is; its audio from before the keyframe fills in
    assert.deepEqual(s.got.slice(3), ['aac', 'key@66', 'audio@46', 'inter@99']);
    assert.ok(old.destroyed, 'the old leg is closed');
    assert.deepEqual(feed.start.messages.map(name), ['avc', 'aac', 'key@66', 'audio@46', 'inter@99']);
  });

  it('a staged leg that is not FLV is its own fault, not the feed’s; the current leg goes on', async () => {
    const feed = new MediaFeed(30, () => assert.fail('the feed is not at fault'));
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
    await rest();
    assert.deepEqual(s.got, ['key@0', 'inter@33']);
  });

  it('one given up in the moment it takes over (its publisher left): the leg before it goes on feeding', async () => {
    const feed = new MediaFeed(30, () => assert.fail('no fault'));
    const s = sink();
    feed.subscribe(s);
    const current = new PassThrough();
    feed.attach(current);
    current.write(Buffer.concat([FLV_HEADER, flvTag(MSG.Video, 0, key(1))]));
    await rest();
    const next = new PassThrough();
    const staged = feed.stage(
      next,
      () => assert.fail('never taken'),
      () => {},
    );
    next.write(Buffer.concat([FLV_HEADER, flvTag(MSG.Video, 0, key(9))]));
    await tick();
    // within the 100 ms the leg before it is read out, the new one is given up
    staged.close();
    await new Promise((r) => setTimeout(r, 150));
    current.write(flvTag(MSG.Video, 33, inter(2)));
    current.write(flvTag(MSG.Video, 66, inter(3)));
    await rest();
    assert.deepEqual(s.got, ['key@0', 'inter@33', 'inter@66'], 'the stream goes on: no dead air');
  });
});
