import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeAmf0 } from '../../src/rtmp/amf0.js';
import { asFlvTag, FlvError, FlvReader } from '../../src/rtmp/flv.js';
import { MSG, ReceivedMessage } from '../../src/rtmp/message.js';
import { FLV_HEADER, flvTag } from '../helpers/publisher.js';

const stream = Buffer.concat([
  FLV_HEADER,
  flvTag(MSG.DataAmf0, 0, Buffer.from('meta')),
  flvTag(MSG.Video, 0, Buffer.from([0x17, 0, 1, 2, 3])),
  flvTag(MSG.Audio, 23, Buffer.alloc(0)),
  flvTag(MSG.Video, 0x12345678, Buffer.alloc(70_000, 7)),
]);

const read = (pieces: Buffer[]) => {
  const reader = new FlvReader();
  return pieces
    .flatMap((p) => reader.push(p))
    .map((m) => ({ type: m.typeId, ts: m.timestamp, csid: m.csid, payload: Buffer.from(m.payload) }));
};

describe('FlvReader (the encoder leg: FLV on a pipe → RTMP messages)', () => {
  const whole = read([stream]);

  it('reads every tag with its type, 32-bit timestamp and payload', () => {
    assert.deepEqual(
      whole.map((m) => [m.type, m.ts, m.payload.length]),
      [
        [18, 0, 4],
        [9, 0, 5],
        [8, 23, 0],
        [9, 0x12345678, 70_000],
      ],
    );
    assert.deepEqual([...whole[1]!.payload], [0x17, 0, 1, 2, 3]);
    assert.ok(whole[3]!.payload.equals(Buffer.alloc(70_000, 7)));
    assert.deepEqual(
      whole.map((m) => m.csid),
      [4, 6, 4, 6],
      'audio and metadata on 4, video on 6, as ffmpeg publishes',
    );
  });

  it('gives the same messages however the bytes are split across reads (every split point, and byte by byte)', () => {
    for (let at = 1; at < stream.length; at++) {
      // every point in the headers and small tags; inside the big payload, every 997th byte and its last ones
      if (at > 80 && at < stream.length - 20 && at % 997 !== 0) continue;
      assert.deepEqual(read([stream.subarray(0, at), stream.subarray(at)]), whole, `split at ${at}`);
    }
    const head = stream.subarray(0, 80);
    assert.deepEqual(read([...head].map((b) => Buffer.from([b]))), read([head]));
  });

  it('refuses a stream that is not FLV, or a tag type FLV does not have', () => {
    assert.throws(() => new FlvReader().push(Buffer.from('GIF89a and more bytes')), FlvError);
    const bad = Buffer.concat([FLV_HEADER, flvTag(7, 0, Buffer.alloc(3))]);
    assert.throws(() => new FlvReader().push(bad), /unexpected FLV tag type 7/);
  });

  it('a tag longer than a read is put together from the reads it spans', () => {
    const reader = new FlvReader();
    const big = flvTag(MSG.Video, 0, Buffer.alloc(1_000_000, 1));
    assert.equal(reader.push(Buffer.concat([FLV_HEADER, big.subarray(0, 500_000)])).length, 0);
    const [m] = reader.push(big.subarray(500_000));
    assert.equal(m!.payload.length, 1_000_000);
  });

  it("past 24.8 days: ffmpeg's 31-bit timestamps go back to 0; the reader's keep rising", () => {
    const near = 2 ** 31 - 40;
    const tags = [near, near + 33, 26, 59].map((t) => flvTag(MSG.Video, t % 2 ** 31, Buffer.from([0x27, 1])));
    const got = read([Buffer.concat([FLV_HEADER, ...tags])]).map((m) => m.ts);
    assert.deepEqual(got, [near, near + 33, 2 ** 31 + 26, 2 ** 31 + 59]);
  });
});

describe('asFlvTag (a published message as a recording or the ingest leg writes it)', () => {
  const pieces = [Buffer.from([0x17, 1]), Buffer.alloc(5000, 3), Buffer.alloc(7, 9)];
  const video = new ReceivedMessage(6, MSG.Video, 1, 0x01020304, pieces, 5009);

  it("writes a message's chunk pieces straight into the tag, without joining them first", (t) => {
    const concat = t.mock.method(Buffer, 'concat');
    const tag = asFlvTag(video);
    assert.equal(concat.mock.callCount(), 0);
    assert.deepEqual(tag, flvTag(MSG.Video, 0x01020304, Buffer.concat(pieces)));
    assert.deepEqual(asFlvTag(video, 40), flvTag(MSG.Video, 40, Buffer.concat(pieces)));
  });

  it('metadata loses the @setDataFrame an RTMP publisher puts before it', () => {
    const body = Buffer.concat([encodeAmf0('onMetaData'), encodeAmf0({ width: 640 })]);
    const published = [Buffer.concat([encodeAmf0('@setDataFrame'), body.subarray(0, 9)]), body.subarray(9)];
    const meta = new ReceivedMessage(4, MSG.DataAmf0, 1, 0, published, published[0]!.length + published[1]!.length);
    assert.deepEqual(asFlvTag(meta), flvTag(MSG.DataAmf0, 0, body));
  });
});
