import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamTimeline } from '../../src/relay/timeline.js';
import { MSG, type RtmpMessage } from '../../src/rtmp/message.js';

// What the timeline looks at: the kind (first bytes) and the timestamp.
const msg = (typeId: number, timestamp: number, ...bytes: number[]): RtmpMessage => ({
  csid: 4,
  typeId,
  streamId: 1,
  timestamp,
  payload: Buffer.from(bytes),
});
const avc = (version = 1) => msg(MSG.Video, 0, 0x17, 0, 0, 0, 0, version);
const aac = () => msg(MSG.Audio, 0, 0xaf, 0, 0x11, 0x90);
const key = (ts: number) => msg(MSG.Video, ts, 0x17, 1, 0, 0, 0);
const inter = (ts: number) => msg(MSG.Video, ts, 0x27, 1, 0, 0, 0);
const audio = (ts: number) => msg(MSG.Audio, ts, 0xaf, 1, 9);
const end = (ts: number) => msg(MSG.Video, ts, 0x17, 2, 0, 0, 0);

const name = (m: RtmpMessage): string => {
  const [a, b] = [m.payload[0]!, m.payload[1]!];
  if (m.typeId === MSG.Audio)
    return b === 0 ? `aac@${m.timestamp}` : `${m.payload[2] === 9 ? 'audio' : 'silence'}@${m.timestamp}`;
  if (b === 0) return `avc${m.payload[5]}@${m.timestamp}`;
  if (b === 2) return `end@${m.timestamp}`;
  return `${a >> 4 === 1 ? 'key' : 'inter'}@${m.timestamp}`;
};

/** A timeline whose messages are noted by name. */
interface Noted {
  t: StreamTimeline;
  out: string[];
}
const timeline = (fps = 30): Noted => {
  const out: string[] = [];
  return { t: new StreamTimeline(fps, (m) => out.push(name(m))), out };
};

/** Places each message; what came out meanwhile, by name. */
const place = ({ t, out }: Noted, msgs: RtmpMessage[]): string[] => {
  const from = out.length;
  for (const m of msgs) t.place(m);
  return out.slice(from);
};

/** A first encoder, 30 fps (frames 0…30: the last at 1000) with AAC at 48 kHz (frames of 21.33 ms: the last at 981). */
function firstLeg(t: Noted): string[] {
  const video = Array.from({ length: 31 }, (_, i) => Math.round((i * 1000) / 30));
  const sound = Array.from({ length: 47 }, (_, i) => Math.round((i * 1024) / 48));
  const msgs = [avc(), aac()];
  while (video.length || sound.length) {
    if (sound.length && (!video.length || sound[0]! <= video[0]!)) msgs.push(audio(sound.shift()!));
    else {
      const v = video.shift()!;
      msgs.push(v === 0 ? key(0) : inter(v));
    }
  }
  return place(t, msgs);
}

describe('StreamTimeline: every encoder that feeds a stream, spliced into one timeline', () => {
  it('the first leg is placed as it comes, from its first keyframe (frames before it cannot be decoded)', () => {
    const t = timeline();
    t.t.beginLeg();
    // each audio frame goes once the video at its time has gone: the sound never runs ahead of the pictures
    assert.deepEqual(place(t, [avc(), aac(), audio(0), inter(0), key(33), audio(21), inter(66)]), [
      'avc1@0',
      'aac@0',
      'key@33',
      'audio@0',
      'inter@66',
      'audio@21',
    ]);
  });

  // each row: what the new encoder sends (its clock from 0), and what goes on the stream after the first leg
  // (its last video frame at 1000, its last audio frame at 981; 33.3 ms frames, 21.3 ms audio)
  const rows: [string, RtmpMessage[], string[]][] = [
    [
      'the same headers are not sent again; its keyframe one frame on; a frame of silence where its sound starts late',
      [avc(), aac(), audio(0), key(0), audio(21), inter(33), audio(43)],
      ['key@1033', 'silence@1002', 'audio@1033', 'inter@1066', 'audio@1054'],
    ],
    [
      'a sound that starts later still: as many frames of silence as fill the hole, each one frame on',
      [key(0), inter(33), audio(80), inter(66)],
      [
        'key@1033',
        'inter@1066',
        'inter@1099',
        'silence@1002',
        'silence@1024',
        'silence@1045',
        'silence@1066',
        'silence@1087',
        'audio@1113',
      ],
    ],
    [
      'new parameter sets (another encode) go out at the splice, before its keyframe',
      [avc(2), aac(), key(0), inter(33)],
      ['avc2@1033', 'key@1033', 'inter@1066'],
    ],
    [
      'frames before its first keyframe are dropped; its audio just before it fills the splice',
      [avc(), aac(), audio(100), inter(100), audio(121), key(133), inter(166)],
      ['key@1033', 'audio@1000', 'audio@1021', 'inter@1066'],
    ],
    [
      'audio that would overlap what was sent is dropped (its encoder started its sound earlier)',
      [audio(0), audio(21), audio(43), key(100), audio(64), inter(133)],
      ['key@1033', 'inter@1066', 'audio@997'],
    ],
    [
      'its end of sequence (an encoder ending mid-stream) never goes out',
      [key(0), inter(33), end(33)],
      ['key@1033', 'inter@1066'],
    ],
  ];
  for (const [what, leg, want] of rows) {
    it(what, () => {
      const t = timeline();
      t.t.beginLeg();
      const first = firstLeg(t);
      assert.equal(first.filter((n) => /^(key|inter)/.test(n)).at(-1), 'inter@1000');
      assert.equal(first.filter((n) => n.startsWith('audio')).at(-1), 'audio@981');
      t.t.beginLeg();
      assert.deepEqual(place(t, leg), want);
    });
  }

  it('the frame duration is the leg’s own (25 fps: 40 ms), and audio keeps its own step (44.1 kHz: 23.2 ms)', () => {
    const t = timeline();
    t.t.beginLeg();
    const msgs: RtmpMessage[] = [];
    for (let i = 0; i < 50; i++) msgs.push(i % 50 === 0 ? key(i * 40) : inter(i * 40));
    for (let i = 0; i < 85; i++) msgs.push(audio(Math.round((i * 1024000) / 44100)));
    place(t, msgs);
    t.t.beginLeg();
    // last video 1960 → 2000; last audio 1950 (+23.2): new audio at 1990 overlaps less than half a frame: kept
    assert.deepEqual(place(t, [audio(0), key(10), audio(23), inter(50)]), [
      'key@2000',
      'audio@1990',
      'inter@2040',
      'audio@2013',
    ]);
  });

  it('at the very end the last encoder’s end of sequence goes out after its last frame (not a replaced one’s)', () => {
    const t = timeline();
    t.t.beginLeg();
    // ffmpeg writes it as it stops, before anyone knows the stream ends: it is held until then
    assert.deepEqual(place(t, [key(0), inter(33), end(33)]), ['key@0', 'inter@33']);
    t.t.end();
    assert.deepEqual(t.out.slice(-1), ['end@33']);
    // an encoder replaced after it wrote its end of sequence: the stream ends with the next one, which wrote none
    const replaced = timeline();
    replaced.t.beginLeg();
    place(replaced, [key(0), end(0)]);
    replaced.t.beginLeg();
    place(replaced, [key(0), inter(33)]);
    const before = replaced.out.length;
    replaced.t.end();
    assert.deepEqual(replaced.out.slice(before), []);
  });

  it('a leg whose keyframe never comes puts nothing on the stream; the next one goes on from the last sent', () => {
    const t = timeline();
    t.t.beginLeg();
    place(t, [key(0), inter(33), inter(66)]);
    t.t.beginLeg();
    assert.deepEqual(place(t, [audio(0), inter(0), inter(33)]), []);
    t.t.beginLeg();
    assert.deepEqual(place(t, [key(500), inter(533)]), ['key@99', 'inter@132']);
  });

  it('audio held before a keyframe is bounded (a leg that sends audio for minutes and no picture)', () => {
    const t = timeline();
    t.t.beginLeg();
    const out = place(t, [...Array.from({ length: 5000 }, (_, i) => audio(i * 21)), key(105_000)]);
    assert.ok(out.length <= 49, `${out.length} messages held`);
    assert.equal(out[0], 'key@105000');
  });

  it('encoders that reorder differently (x264 with B-frames, then without, and back): shown one frame apart', () => {
    // frames as [type, decoding time, shown time] in decoding order; B-frames shown before the P-frame they follow
    const frame = ([type, dts, pts]: [string, number, number]): RtmpMessage => {
      const payload = Buffer.from([type === 'I' ? 0x17 : 0x27, 1, 0, 0, 0]);
      payload.writeIntBE(pts - dts, 2, 3);
      return { csid: 6, typeId: MSG.Video, streamId: 1, timestamp: dts, payload };
    };
    const reordered = (from: number, whole = false): RtmpMessage[] =>
      [
        ['I', 0, 67],
        ['P', 33, 200],
        ['B', 67, 133],
        ['B', 100, 100],
        ['B', 133, 167],
        ['P', 167, 333],
        ['B', 200, 267],
        ['B', 233, 233],
        ...(whole ? [['B', 267, 300]] : []),
      ].map(([t, d, p]) => frame([t as string, (d as number) + from, (p as number) + from]));
    const plain = (from: number, n: number): RtmpMessage[] =>
      Array.from({ length: n }, (_, i) =>
        frame([i === 0 ? 'I' : 'P', from + Math.round(i * 33.33), from + Math.round(i * 33.33)]),
      );
    const shown: number[] = [];
    const decoded: number[] = [];
    const t = new StreamTimeline(30, (m) => {
      decoded.push(m.timestamp);
      shown.push(m.timestamp + m.payload.readIntBE(2, 3));
    });
    for (const legs of [reordered(0), plain(0, 10), reordered(5000, true)]) {
      t.beginLeg();
      for (const m of legs) t.place(m);
    }
    t.end();
    // the group cut off at the end of the first leg (P333 without one of its B-frames) never went out; its last
    // picture shown, the next encoder's first goes one frame on (decoded 100 ms after the last, so it is not
    // shown before it). Into one that reorders, decoded a frame after the last, its keyframe is shown later by
    // its reordering: the pictures skip 2 frames once
    const sorted = [...shown].sort((a, b) => a - b);
    const steps = sorted.map((p, i) => (i === 0 ? 33 : p - sorted[i - 1]!));
    assert.deepEqual(
      steps.filter((step) => step < 33 || step > 34),
      [100],
      `shown ${sorted.join(' ')}`,
    );
    assert.equal(sorted[14], 533, 'the first leg to 200, the second from 233: one frame on');
    assert.ok(
      decoded.every((d, i) => i === 0 || d > decoded[i - 1]!),
      `decoded ${decoded.join(' ')}`,
    );
  });
});
