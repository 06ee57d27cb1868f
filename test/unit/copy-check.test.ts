import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyCheck } from '../../src/ingest/copy-check.js';
import { fromLatestKeyframe } from '../../src/ingest/copy-take.js';
import { findPlatform } from '../../src/platforms/table.js';
import { type Amf0Object, encodeAmf0 } from '../../src/rtmp/amf0.js';
import { MSG, type RtmpMessage } from '../../src/rtmp/message.js';
import { AVC_SEQUENCE_HEADER } from '../helpers/publisher.js';

const msg = (typeId: number, timestamp: number, payload: Buffer): RtmpMessage =>
  ({ csid: 4, typeId, streamId: 1, timestamp, payload }) as RtmpMessage;
const meta = (o: Amf0Object) => msg(MSG.DataAmf0, 0, encodeAmf0('onMetaData', o));
const frame = (key: boolean, bytes = 6, codec = 7) => {
  const b = Buffer.alloc(bytes);
  b[0] = ((key ? 1 : 2) << 4) | codec;
  b[1] = 1;
  return b;
};
const aac = Buffer.from([0xaf, 1, 0]);

/** A publisher: metadata and headers, then `seconds` of 30 fps video with a keyframe every `keyint` s, and audio. */
function stream(check: CopyCheck, o: { keyint: number; seconds: number; frameBytes?: number; codec?: number }) {
  const verdicts = [meta({ width: 1280, height: 720, framerate: 30, audiosamplerate: 48000, stereo: true })];
  const header = Buffer.from(AVC_SEQUENCE_HEADER);
  header[0] = 0x10 | (o.codec ?? 7);
  const out = [check.push(verdicts[0]!), check.push(msg(MSG.Video, 0, header))];
  for (let i = 0; i < o.seconds * 30; i++) {
    const t = Math.round((i * 1000) / 30);
    out.push(check.push(msg(MSG.Audio, t, aac)));
    out.push(check.push(msg(MSG.Video, t, frame(i % (o.keyint * 30) === 0, o.frameBytes, o.codec))));
  }
  return out.find((v) => v !== undefined);
}

describe('--copy: the publisher’s stream judged against the platforms before it goes out', () => {
  it('H.264 + AAC, a keyframe every 2 s, 720p30 within the caps: taken, with what was held from the headers on', () => {
    const check = new CopyCheck([findPlatform('twitch')!, findPlatform('youtube')!]);
    const verdict = stream(check, { keyint: 2, seconds: 3, frameBytes: 10_000 });
    assert.ok(verdict?.ok, JSON.stringify(verdict));
    assert.deepEqual(
      [verdict.stream.width, verdict.stream.height, verdict.stream.fps, verdict.stream.keyintS],
      [1280, 720, 30, 2],
    );
    assert.equal(verdict.stream.videoKbps, Math.round((60 * 10_000 * 8) / 2 / 1000));
    assert.equal(verdict.held[0]!.typeId, MSG.DataAmf0, 'the metadata first');
    assert.equal(
      verdict.held.filter((m) => m.typeId === MSG.Video && m.payload[0] === 0x17 && m.payload[1] === 1).length,
      2,
    );
  });

  it('a 10 s GOP is refused once 2.5 s pass with no keyframe, with the fix in OBS’s words', () => {
    const check = new CopyCheck([findPlatform('twitch')!]);
    const verdict = stream(check, { keyint: 10, seconds: 4 });
    assert.equal(verdict?.ok, false);
    assert.deepEqual(verdict.problems, [
      'a keyframe every 2.5 s or more: set OBS → Settings → Output → Keyframe Interval to 2 s',
    ]);
  });

  it('YouTube and Facebook accept up to 4 s', () => {
    const check = new CopyCheck([findPlatform('youtube')!, findPlatform('facebook')!]);
    assert.equal(check.maxKeyintS, 4);
    assert.ok(stream(check, { keyint: 3, seconds: 4 })?.ok);
  });

  it('not H.264 (HEVC in Enhanced RTMP terms, codec 12): refused at its first frame', () => {
    const verdict = stream(new CopyCheck([]), { keyint: 2, seconds: 1, codec: 12 });
    assert.equal(verdict?.ok, false);
    assert.match(verdict.problems[0]!, /^the video is not H\.264: set OBS → Settings → Output → Video Encoder/);
  });

  it('over a platform’s bitrate cap: refused, naming the cap to set', () => {
    const verdict = stream(new CopyCheck([findPlatform('twitch')!]), { keyint: 2, seconds: 3, frameBytes: 40_000 });
    assert.equal(verdict?.ok, false);
    assert.match(verdict.problems[0]!, /kbps of video is over Twitch's 6000: .*Video Bitrate to at most 6000 Kbps/);
  });

  it('what goes out of what was held: the headers, then from the keyframe that ended the judging (no burst)', () => {
    const check = new CopyCheck([]);
    const verdict = stream(check, { keyint: 8, seconds: 9, frameBytes: 1000 });
    assert.ok(verdict?.ok, JSON.stringify(verdict));
    const out = fromLatestKeyframe(verdict.held);
    assert.deepEqual(
      out.slice(0, 3).map((m) => m.typeId),
      [MSG.DataAmf0, MSG.Video, MSG.Video],
      'metadata, the AVC header, the keyframe',
    );
    assert.equal(out[1]!.payload[1], 0, 'the sequence header');
    assert.deepEqual([out[2]!.payload[0], out[2]!.payload[1], out[2]!.timestamp], [0x17, 1, 8000]);
    assert.equal(out.length, 3, 'nothing of the first GOP');
    // a verdict with one keyframe only (held past its cap): all of it
    const one = [meta({}), msg(MSG.Video, 0, frame(true)), msg(MSG.Video, 33, frame(false))];
    assert.deepEqual(fromLatestKeyframe(one), one);
  });
});
