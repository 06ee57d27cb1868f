import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAmf0, encodeAmf0 } from '../../src/rtmp/amf0.js';
import { ChunkReader } from '../../src/rtmp/chunk.js';
import { chunkInto, chunkedLength, writeChunks } from '../../src/rtmp/chunk-writer.js';
import { MSG, parseCommand, type ReceivedMessage, type RtmpMessage } from '../../src/rtmp/message.js';

const msg = (over: Partial<RtmpMessage>): RtmpMessage => ({
  csid: 6,
  typeId: MSG.Video,
  streamId: 1,
  timestamp: 0,
  payload: Buffer.alloc(0),
  ...over,
});

/** The chunk format written out plainly from the spec, piece by piece: what the chunker's output is checked against. */
function referenceChunks(m: RtmpMessage, chunkSize: number): Buffer {
  const basic = (fmt: number): Buffer => {
    if (m.csid < 64) return Buffer.from([(fmt << 6) | m.csid]);
    if (m.csid < 320) return Buffer.from([fmt << 6, m.csid - 64]);
    return Buffer.from([(fmt << 6) | 1, (m.csid - 64) & 0xff, (m.csid - 64) >> 8]);
  };
  const extended = m.timestamp >= 0xffffff;
  const ext = Buffer.alloc(4);
  ext.writeUInt32BE(m.timestamp >>> 0);
  const header = Buffer.alloc(11);
  header.writeUIntBE(extended ? 0xffffff : m.timestamp, 0, 3);
  header.writeUIntBE(m.payload.length, 3, 3);
  header[6] = m.typeId;
  header.writeUInt32LE(m.streamId, 7);
  const parts: Buffer[] = [basic(0), header];
  if (extended) parts.push(ext);
  for (let off = 0; off < m.payload.length; off += chunkSize) {
    if (off > 0) parts.push(basic(3), ...(extended ? [ext] : []));
    parts.push(m.payload.subarray(off, off + chunkSize));
  }
  return Buffer.concat(parts);
}

describe('AMF0', () => {
  it('round-trips the values RTMP commands use', () => {
    const values = [
      'connect',
      1,
      { app: 'live2', tcUrl: 'rtmp://h:1935/live2', fpad: false, n: null, nested: { a: [1, 'two'] } },
      null,
      undefined,
      true,
      'é',
    ];
    assert.deepEqual(decodeAmf0(encodeAmf0(...values)), values);
  });
  it('reads an ECMA array as an object and rejects a truncated value', () => {
    const ecma = Buffer.from([0x08, 0, 0, 0, 1, 0, 1, 0x78, 0x00, 0x40, 0x45, 0, 0, 0, 0, 0, 0, 0, 0, 0x09]);
    assert.deepEqual(decodeAmf0(ecma), [{ x: 42 }]);
    assert.throws(() => decodeAmf0(Buffer.from([0x02, 0, 5, 0x61])), /truncated/);
  });
  it('parseCommand gives name, transaction and the rest', () => {
    const m = msg({
      typeId: MSG.CommandAmf0,
      payload: encodeAmf0('onStatus', 0, null, { code: 'NetStream.Publish.Start' }),
    });
    assert.deepEqual(parseCommand(m), { name: 'onStatus', txn: 0, args: [null, { code: 'NetStream.Publish.Start' }] });
    assert.equal(parseCommand(msg({ payload: Buffer.from([0xff]) })), undefined);
  });
});

describe('RTMP chunks', () => {
  it('a large message split over chunks comes back whole, byte by byte', () => {
    const payload = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    const wire = writeChunks(msg({ payload, timestamp: 1234 }), 4096);
    const reader = new ChunkReader();
    reader.chunkSize = 4096;
    const out: RtmpMessage[] = [];
    for (const byte of wire) out.push(...reader.push(Buffer.from([byte])));
    assert.equal(out.length, 1);
    assert.deepEqual([out[0]!.timestamp, out[0]!.typeId, out[0]!.streamId, out[0]!.csid], [1234, MSG.Video, 1, 6]);
    assert.ok(out[0]!.payload.equals(payload));
  });

  it('extended timestamps (≥ 0xFFFFFF) survive, continuation chunks included', () => {
    const payload = Buffer.alloc(300, 7);
    const reader = new ChunkReader();
    const [m] = reader.push(writeChunks(msg({ payload, timestamp: 0x1234567 }), 128));
    assert.equal(m!.timestamp, 0x1234567);
    assert.equal(m!.payload.length, 300);
  });

  it('follows Set Chunk Size, and fmt 1/2/3 headers add deltas to the previous timestamp', () => {
    const reader = new ChunkReader();
    const setSize = writeChunks(
      { csid: 2, typeId: MSG.SetChunkSize, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0, 0x10, 0]) },
      128,
    );
    const first = writeChunks(msg({ timestamp: 1000, payload: Buffer.from([1, 2]) }), 4096);
    // fmt 1 (delta 33, length 2, type 9), fmt 2 (delta 40), fmt 3 (repeat delta 40)
    const fmt1 = Buffer.from([0x46, 0, 0, 33, 0, 0, 2, 9, 0xaa, 0xbb]);
    const fmt2 = Buffer.from([0x86, 0, 0, 40, 0xcc, 0xdd]);
    const fmt3 = Buffer.from([0xc6, 0xee, 0xff]);
    const out = reader.push(Buffer.concat([setSize, first, fmt1, fmt2, fmt3]));
    assert.equal(reader.chunkSize, 4096);
    assert.deepEqual(
      out.slice(1).map((m) => m.timestamp),
      [1000, 1033, 1073, 1113],
    );
    assert.deepEqual(out.at(-1)!.payload, Buffer.from([0xee, 0xff]));
  });

  it('two-byte and three-byte chunk stream ids', () => {
    for (const csid of [64, 319, 320, 1000]) {
      const [m] = new ChunkReader().push(writeChunks(msg({ csid, payload: Buffer.from([5]) }), 128));
      assert.equal(m!.csid, csid);
    }
  });

  it('any split of a stream of messages reads back the same, and payloads are slices of the reads (no copies)', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const setSize = writeChunks(
      { csid: 2, typeId: MSG.SetChunkSize, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0, 0x10, 0]) },
      128,
    );
    const sent = Array.from({ length: 40 }, (_, i) =>
      msg({
        csid: i % 2 ? 4 : 6,
        typeId: i % 2 ? MSG.Audio : MSG.Video,
        timestamp: i * 33 + (i > 30 ? 0xffffff : 0),
        payload: Buffer.from(Array.from({ length: rand(15_000) + 1 }, () => rand(256))),
      }),
    );
    const wire = Buffer.concat([setSize, ...sent.map((m) => writeChunks(m, 4096))]);
    for (let round = 0; round < 20; round++) {
      const reader = new ChunkReader();
      const got: RtmpMessage[] = [];
      const reads: Buffer[] = [];
      for (let at = 0; at < wire.length; ) {
        const n = Math.min(wire.length - at, 1 + rand(round < 10 ? 9000 : 70_000));
        const read = Buffer.from(wire.subarray(at, at + n));
        reads.push(read);
        got.push(...reader.push(read));
        at += n;
      }
      const media = got.filter((m) => m.typeId !== MSG.SetChunkSize);
      assert.equal(media.length, sent.length, `round ${round}`);
      media.forEach((m, i) => {
        assert.equal(m.timestamp, sent[i]!.timestamp >>> 0);
        assert.ok(m.payload.equals(sent[i]!.payload), `round ${round} message ${i}`);
      });
      // with reads the size the kernel gives (up to 64 KiB), most payload pieces point into the reads themselves
      if (round < 10) continue;
      const pieces = media.flatMap((m) => [...(m as ReceivedMessage).parts]);
      const inReads = pieces.filter((p) => reads.some((r) => r.buffer === p.buffer));
      assert.ok(inReads.length >= pieces.length * 0.8, `${inReads.length} of ${pieces.length} pieces in place`);
    }
  });

  it(
    'writeChunks of a received message, with a new stream id and timestamp, ' +
      'is the spec’s bytes; another chunk size reads back',
    () => {
      const payload = Buffer.from(Array.from({ length: 9_000 }, (_, i) => i % 7));
      const reader = new ChunkReader();
      reader.chunkSize = 4096;
      const [m] = reader.push(writeChunks(msg({ payload, timestamp: 500 }), 4096));
      const out = Buffer.alloc(chunkedLength(m!, 4096, 40));
      chunkInto(m!, 4096, { streamId: 3, timestamp: 40 }, out, 0);
      assert.deepEqual(out, referenceChunks(msg({ payload, timestamp: 40, streamId: 3 }), 4096));
      // re-chunked at another size
      const again = new ChunkReader();
      again.chunkSize = 1000;
      const [n] = again.push(writeChunks(m!, 1000));
      assert.ok(n!.payload.equals(payload));
    },
  );

  it('chunkInto writes exactly the spec’s bytes, at an offset, and chunkedLength says how much', () => {
    let seed = 11;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const out = Buffer.alloc(1_000_000, 0xee);
    let at = 5;
    const expected: Buffer[] = [];
    for (let i = 0; i < 60; i++) {
      const csid = [3, 4, 6, 63, 64, 319, 320, 1000][i % 8]!;
      const timestamp = i % 5 === 4 ? 0xffffff + i : i * 40;
      const payload = Buffer.from(Array.from({ length: i % 9 === 0 ? 0 : rand(13_000) + 1 }, () => rand(256)));
      // a message as the reader hands it over: its payload in pieces
      const reader = new ChunkReader();
      reader.chunkSize = 4096;
      const wire = writeChunks(msg({ csid, payload, timestamp: 7 }), 4096);
      const cut = 1 + rand(wire.length);
      const [m] = [...reader.push(Buffer.from(wire.subarray(0, cut))), ...reader.push(Buffer.from(wire.subarray(cut)))];
      const size = i % 2 ? 4096 : 128;
      const want = referenceChunks(msg({ csid, payload, timestamp, streamId: 9 }), size);
      assert.equal(chunkedLength(m!, size, timestamp), want.length, `message ${i} length`);
      const end = chunkInto(m!, size, { streamId: 9, timestamp }, out, at);
      assert.equal(end - at, want.length, `message ${i} written`);
      expected.push(want);
      at = end;
    }
    assert.deepEqual(out.subarray(5, at), Buffer.concat(expected));
    assert.equal(out[at], 0xee, 'nothing written past the end');
  });
});
