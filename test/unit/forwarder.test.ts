import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACK_WINDOW, type LinkState, MediaForwarder, type Send } from '../../src/relay/forwarder.js';
import { MSG, type RtmpMessage } from '../../src/rtmp/message.js';
import { StreamStart } from '../../src/relay/stream-start.js';

// Synthetic FLV payloads: what the forwarder looks at is the first bytes.
const meta = (ts = 0): RtmpMessage => ({
  csid: 4,
  typeId: MSG.DataAmf0,
  streamId: 1,
  timestamp: ts,
  payload: Buffer.from('meta'),
});
const avc = (ts = 0): RtmpMessage => ({
  csid: 6,
  typeId: MSG.Video,
  streamId: 1,
  timestamp: ts,
  payload: Buffer.from([0x17, 0, 0, 0, 0]),
});
const aac = (ts = 0): RtmpMessage => ({
  csid: 4,
  typeId: MSG.Audio,
  streamId: 1,
  timestamp: ts,
  payload: Buffer.from([0xaf, 0, 0x12]),
});
const key = (ts: number, size = 100): RtmpMessage => ({
  csid: 6,
  typeId: MSG.Video,
  streamId: 1,
  timestamp: ts,
  payload: Buffer.concat([Buffer.from([0x17, 1]), Buffer.alloc(size)]),
});
const inter = (ts: number, size = 100): RtmpMessage => ({
  csid: 6,
  typeId: MSG.Video,
  streamId: 1,
  timestamp: ts,
  payload: Buffer.concat([Buffer.from([0x27, 1]), Buffer.alloc(size)]),
});
const audio = (ts: number): RtmpMessage => ({
  csid: 4,
  typeId: MSG.Audio,
  streamId: 1,
  timestamp: ts,
  payload: Buffer.from([0xaf, 1, 9]),
});

/** A name for each message, so the expectations read as what was sent: "key@0", "inter@33", "avc@0". */
const name = ({ msg, timestamp }: Send): string => {
  const p = msg.payload;
  const what =
    msg.typeId === MSG.DataAmf0
      ? 'meta'
      : msg.typeId === MSG.Audio
        ? p[1] === 0
          ? 'aac'
          : 'audio'
        : p[1] === 0
          ? 'avc'
          : p[0] === 0x17
            ? 'key'
            : 'inter';
  return `${what}@${timestamp}`;
};
const ALLOWANCE = 256 * 1024;
const healthy: LinkState = { queued: 0, burstPending: 0 };

/** Feeds messages while streaming on `link`; returns what was sent, by name. */
const feed = (f: MediaForwarder, msgs: RtmpMessage[], link: LinkState = healthy): string[] =>
  msgs.flatMap((m) => {
    const s = f.media(m, link);
    return s ? [name(s)] : [];
  });

/** The stream's start as the feed keeps it, after these messages. */
const startOf = (msgs: RtmpMessage[], maxGopBytes = ALLOWANCE): StreamStart => {
  const start = new StreamStart(maxGopBytes);
  for (const m of msgs) start.keep(m);
  return start;
};

describe('MediaForwarder (pure: what a relay sends upstream, and when)', () => {
  it('a new session starts with the headers at 0, then the latest keyframe and every frame since, rebased to 0', () => {
    const f = new MediaForwarder(ALLOWANCE);
    const start = startOf([
      meta(),
      avc(),
      aac(),
      key(1000),
      inter(1033),
      audio(1040),
      key(2000),
      inter(2033),
      audio(2050),
    ]);
    f.sessionReset();
    assert.deepEqual(f.sessionStarted(start).map(name), ['meta@0', 'avc@0', 'aac@0', 'key@0', 'inter@33', 'audio@50']);
    assert.deepEqual(feed(f, [inter(2066), key(3000)]), ['inter@66', 'key@1000']);
  });

  it('no keyframe seen yet: headers only, then it waits for a keyframe and starts the timeline there', () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionReset();
    assert.deepEqual(f.sessionStarted(startOf([meta(), avc(), inter(500)])).map(name), ['meta@0', 'avc@0']);
    assert.deepEqual(feed(f, [inter(533), audio(540), key(600), inter(633)], healthy), ['key@0', 'inter@33']);
    assert.deepEqual(feed(f, [inter(666)]), ['inter@66']);
    assert.equal(f.droppedFrames, 1, 'the inter frame before the keyframe');
  });

  it('a group of pictures too big to replay (over the allowance): it waits for the next keyframe', () => {
    const f = new MediaForwarder(10_000);
    const start = startOf([avc(), key(0, 4000), inter(33, 4000), inter(66, 4000)], 8 * 1024 * 1024);
    f.sessionReset();
    assert.deepEqual(f.sessionStarted(start).map(name), ['avc@0']);
    assert.deepEqual(feed(f, [inter(100), key(2000)]), ['key@0']);
  });

  it('no session ever started from nothing: before the stream has anything, it sends nothing', () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionReset();
    assert.deepEqual(f.sessionStarted(undefined), []);
    assert.deepEqual(f.sessionStarted(startOf([])), []);
  });

  it('no keyframe kept at Publish.Start, an hour into the stream: its first keyframe still starts at 0', () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionReset();
    assert.deepEqual(f.sessionStarted(startOf([avc(), inter(3_600_000)])).map(name), ['avc@0']);
    assert.deepEqual(feed(f, [inter(3_600_033), key(3_600_066), inter(3_600_100)]), ['key@0', 'inter@34']);
  });

  it('a new session after a long one starts at 0 again, on the latest keyframe', () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionStarted(startOf([key(500_000)]));
    assert.deepEqual(feed(f, [inter(500_033)]), ['inter@33']);
    f.sessionReset(); // the destination was dialled again
    assert.deepEqual(f.sessionStarted(startOf([avc(), key(900_000), inter(900_033)])).map(name), [
      'avc@0',
      'key@0',
      'inter@33',
    ]);
  });

  it('congestion: past the window plus the allowance the video drops to the next keyframe, the sound goes on', () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionStarted(startOf([key(0)]));
    const jammed: LinkState = { ...healthy, queued: ACK_WINDOW + ALLOWANCE + 1 };
    assert.deepEqual(feed(f, [inter(33), audio(40), inter(66)], jammed), ['audio@40']);
    assert.equal(f.congested, true);
    assert.equal(f.droppedFrames, 2, 'video frames are counted, audio is not');
    // the queue drains: the sound goes on, the pictures wait for a keyframe, then go on from there
    assert.deepEqual(feed(f, [inter(100), audio(120), key(2000), inter(2033)]), [
      'audio@120',
      'key@2000',
      'inter@2033',
    ]);
    assert.equal(f.congested, false);
    assert.equal(f.droppedFrames, 3);
  });

  it('far past the allowance (a quarter of it more) the sound is dropped too', () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionStarted(startOf([key(0)]));
    const stuck: LinkState = { ...healthy, queued: ACK_WINDOW + ALLOWANCE * 1.25 + 1 };
    assert.deepEqual(feed(f, [inter(33), audio(40)], stuck), []);
    assert.equal(f.congested, true);
    assert.deepEqual(feed(f, [audio(60), inter(66), key(2000)]), ['audio@60', 'key@2000']);
  });

  it('a session that has sent no frame yet sends no sound before its first keyframe, congested or not', () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionReset();
    f.sessionStarted(startOf([avc()]));
    const jammed: LinkState = { ...healthy, queued: ACK_WINDOW + ALLOWANCE + 1 };
    assert.deepEqual(feed(f, [audio(10)], jammed), []);
    assert.deepEqual(feed(f, [audio(20), inter(33), key(66), audio(70)]), ['key@0', 'audio@4']);
  });

  it('still congested at a keyframe with the queue over half the limit; clear once it drains, no drop needed', () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionStarted(startOf([key(0)]));
    const limit = ACK_WINDOW + ALLOWANCE;
    feed(f, [inter(33)], { ...healthy, queued: limit + 1 });
    assert.equal(f.congested, true);
    // the keyframe goes out with the queue at 60 % of the limit: still congested
    assert.deepEqual(feed(f, [key(2000)], { ...healthy, queued: limit * 0.6 }), ['key@2000']);
    assert.equal(f.congested, true);
    // the rate fell (or the link came back): the queue drains, and no frame is dropped again
    assert.deepEqual(feed(f, [inter(2033)], { ...healthy, queued: limit * 0.1 }), ['inter@2033']);
    assert.equal(f.congested, false, 'not congested for ever (the bitrate would never step back up)');
  });

  it("a new session's first burst is not congestion until the server has acknowledged it", () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionStarted(startOf([key(0)]));
    const burst: LinkState = { ...healthy, queued: ACK_WINDOW + ALLOWANCE + 500, burstPending: 1000 };
    assert.deepEqual(feed(f, [inter(33)], burst), ['inter@33']);
    assert.equal(f.congested, false);
  });

  it('codec headers are sent first on every new session, and at once when the stream has new ones', () => {
    const f = new MediaForwarder(ALLOWANCE);
    f.sessionStarted(startOf([avc(), key(0)]));
    f.sessionReset(); // lost, dialled again
    assert.deepEqual(f.sessionStarted(startOf([avc(), key(0), inter(33)])).map(name), ['avc@0', 'key@0', 'inter@33']);
    assert.deepEqual(feed(f, [avc(66)]), ['avc@66'], 'a new header goes out at once, on the timeline');
  });

  it('before a session publishes, nothing is sent', () => {
    const f = new MediaForwarder(ALLOWANCE);
    assert.equal(f.media(key(0)), undefined);
    assert.equal(f.media(inter(33)), undefined);
    assert.equal(f.droppedFrames, 0);
  });
});
