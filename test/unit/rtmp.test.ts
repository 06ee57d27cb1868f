import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAmf0, encodeAmf0 } from '../../src/rtmp/amf0.js';
import { ChunkReader, MSG, writeChunks, type RtmpMessage } from '../../src/rtmp/chunk.js';
import { parseCommand } from '../../src/relay/messages.js';

const msg = (over: Partial<RtmpMessage>): RtmpMessage => ({ csid: 6, typeId: MSG.Video, streamId: 1, timestamp: 0, payload: Buffer.alloc(0), ...over });

describe('AMF0', () => {
  it('round-trips the values RTMP commands use', () => {
    const values = ['connect', 1, { app: 'live2', tcUrl: 'rtmp://h:1935/live2', fpad: false, n: null, nested: { a: [1, 'two'] } }, null, undefined, true, 'é'];
    assert.deepEqual(decodeAmf0(encodeAmf0(...values)), values);
  });
  it('reads an ECMA array as an object and rejects a truncated value', () => {
    const ecma = Buffer.from([0x08, 0, 0, 0, 1, 0, 1, 0x78, 0x00, 0x40, 0x45, 0, 0, 0, 0, 0, 0, 0, 0, 0x09]);
    assert.deepEqual(decodeAmf0(ecma), [{ x: 42 }]);
    assert.throws(() => decodeAmf0(Buffer.from([0x02, 0, 5, 0x61])), /truncated/);
  });
  it('parseCommand gives name, transaction and the rest', () => {
    const m = msg({ typeId: MSG.CommandAmf0, payload: encodeAmf0('onStatus', 0, null, { code: 'NetStream.Publish.Start' }) });
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
    const setSize = writeChunks({ csid: 2, typeId: MSG.SetChunkSize, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0, 0x10, 0]) }, 128);
    const first = writeChunks(msg({ timestamp: 1000, payload: Buffer.from([1, 2]) }), 4096);
    // fmt 1 (delta 33, length 2, type 9), fmt 2 (delta 40), fmt 3 (repeat delta 40)
    const fmt1 = Buffer.from([0x46, 0, 0, 33, 0, 0, 2, 9, 0xaa, 0xbb]);
    const fmt2 = Buffer.from([0x86, 0, 0, 40, 0xcc, 0xdd]);
    const fmt3 = Buffer.from([0xc6, 0xee, 0xff]);
    const out = reader.push(Buffer.concat([setSize, first, fmt1, fmt2, fmt3]));
    assert.equal(reader.chunkSize, 4096);
    assert.deepEqual(out.slice(1).map((m) => m.timestamp), [1000, 1033, 1073, 1113]);
    assert.deepEqual(out.at(-1)!.payload, Buffer.from([0xee, 0xff]));
  });

  it('two-byte and three-byte chunk stream ids', () => {
    for (const csid of [64, 319, 320, 1000]) {
      const [m] = new ChunkReader().push(writeChunks(msg({ csid, payload: Buffer.from([5]) }), 128));
      assert.equal(m!.csid, csid);
    }
  });
});
