import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PictureGroups } from '../../src/relay/picture-groups.js';
import { MSG, type RtmpMessage } from '../../src/rtmp/message.js';

/** An H.264 frame decoded at `dts` and shown at `pts` (the offset in bytes 2–4), named by its picture type. */
const frame = (type: 'I' | 'P' | 'B', dts: number, pts: number): RtmpMessage => {
  const payload = Buffer.from([type === 'I' ? 0x17 : 0x27, 1, 0, 0, 0, type.charCodeAt(0)]);
  payload.writeIntBE(pts - dts, 2, 3);
  return { csid: 6, typeId: MSG.Video, streamId: 1, timestamp: dts, payload };
};
const name = (m: RtmpMessage) => `${String.fromCharCode(m.payload[5]!)}${m.timestamp + m.payload.readIntBE(2, 3)}`;

/** x264 with B-frames, in decoding order (10 ms frames): each P-frame comes before the B-frames shown before it. */
const REORDERED = [
  frame('I', 0, 20),
  frame('P', 10, 60),
  frame('B', 20, 40),
  frame('B', 30, 30),
  frame('B', 40, 50),
  frame('P', 50, 100),
  frame('B', 60, 80),
  frame('B', 70, 70),
];

/** Pushes each frame; after each, what was let out by then (names, shown time). */
function run(groups: PictureGroups, frames: RtmpMessage[]): string[][] {
  const out: string[] = [];
  return frames.map((f) => {
    groups.push(f, 10, (m) => out.push(name(m)));
    return [...out];
  });
}

describe('PictureGroups: video let out in whole groups, so a cut never leaves an anchor without its B-frames', () => {
  it('without B-frames every frame goes at once', () => {
    const frames = [frame('I', 0, 0), frame('P', 10, 10), frame('P', 20, 20)];
    assert.deepEqual(run(new PictureGroups(), frames).at(-1), ['I0', 'P10', 'P20']);
    assert.deepEqual(
      run(new PictureGroups(), frames).map((o) => o.length),
      [1, 2, 3],
    );
  });

  it('with them, a P-frame waits for the B-frames shown before it, then all go in decoding order', () => {
    const after = run(new PictureGroups(), REORDERED);
    assert.deepEqual(
      after.map((o) => o.length),
      [1, 1, 1, 1, 5, 5, 5, 5],
    );
    assert.deepEqual(after[4], ['I20', 'P60', 'B40', 'B30', 'B50']);
  });

  it('cut mid-group (a swap): what was held is dropped, and the next leg starts groups of its own', () => {
    const groups = new PictureGroups();
    const out = run(groups, REORDERED).at(-1)!;
    assert.equal(groups.cut(), 3, 'P100 and the two B-frames that came: their third never will');
    assert.deepEqual(out, ['I20', 'P60', 'B40', 'B30', 'B50']);
    assert.deepEqual(run(groups, [frame('I', 110, 130)]).at(-1), ['I130'], 'a new leg: its keyframe at once');
  });

  it('the stream ends: what is held goes out (the encoder finished its groups)', () => {
    const groups = new PictureGroups();
    run(groups, REORDERED);
    const out: string[] = [];
    groups.flush((m) => out.push(name(m)));
    assert.deepEqual(out, ['P100', 'B80', 'B70']);
  });

  it('a group whose times never add up (a frame lost) goes with the next anchor; none waits past 32 frames', () => {
    const lost = [frame('I', 0, 20), frame('P', 10, 60), frame('B', 20, 40), frame('B', 40, 50), frame('P', 50, 100)];
    assert.deepEqual(run(new PictureGroups(), lost).at(-1), ['I20', 'P60', 'B40', 'B50']);
    // a publisher whose B-frames go back for ever is not held for ever
    const back = [
      frame('I', 0, 20),
      frame('P', 10, 900),
      ...Array.from({ length: 100 }, (_, i) => frame('B', 20 + i, 30)),
    ];
    const out = run(new PictureGroups(), back);
    // never more than 32 frames held: after each push, what went out is within 32 of what came in
    assert.ok(
      out.every((o, i) => i + 1 - o.length <= 32),
      out.map((o, i) => i + 1 - o.length).join(' '),
    );
  });
});
