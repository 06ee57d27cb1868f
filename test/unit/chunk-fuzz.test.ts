import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkReader, RtmpProtocolError } from '../../src/rtmp/chunk.js';
import { writeChunks } from '../../src/rtmp/chunk-writer.js';
import { MSG } from '../../src/rtmp/message.js';

/** A small deterministic random source, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const LIMITS = { maxMessageBytes: 64 * 1024, maxChunkStreams: 16 };

/** Feeds bytes in random-sized pieces; only RtmpProtocolError may come out. (What it may hold: the bound tests.) */
function feed(reader: ChunkReader, bytes: Buffer, random: () => number): 'ok' | 'refused' {
  let at = 0;
  while (at < bytes.length) {
    const n = 1 + Math.floor(random() * 9000);
    try {
      reader.push(bytes.subarray(at, at + n));
    } catch (error) {
      assert.ok(error instanceof RtmpProtocolError, `threw ${String(error)}`);
      return 'refused';
    }
    at += n;
  }
  return 'ok';
}

describe('ChunkReader under random and hostile input', () => {
  it('random bytes (200 × 64 KiB): never throws anything but RtmpProtocolError', () => {
    const random = prng(1);
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.alloc(64 * 1024);
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      feed(new ChunkReader(LIMITS), bytes, random);
    }
  });

  it('well-formed headers with random fields (types, lengths, chunk streams, sizes): only protocol errors', () => {
    const random = prng(4);
    const int = (n: number) => Math.floor(random() * n);
    let reached = 0;
    for (let i = 0; i < 2000; i++) {
      const reader = new ChunkReader(LIMITS);
      const parts: Buffer[] = [];
      const seen = new Set<number>();
      for (let c = 0; c < 40; c++) {
        const csid = 3 + int(4);
        const fmt = seen.has(csid) ? int(4) : 0;
        seen.add(csid);
        const head = Buffer.alloc([12, 8, 4, 1][fmt]!);
        head[0] = (fmt << 6) | csid;
        if (fmt <= 2) head.writeUIntBE(int(0x1000000), 1, 3);
        if (fmt <= 1) {
          head.writeUIntBE(int(3) === 0 ? int(70_000) : int(600), 4, 3);
          head[7] = [1, 3, 8, 9, 18, 20][int(6)]!;
        }
        const body = Buffer.alloc(int(300));
        if (head[7] === 1 && body.length >= 4) body.writeUInt32BE(int(3) === 0 ? int(8) : 1 + int(5000));
        parts.push(head, body);
      }
      if (feed(reader, Buffer.concat(parts), random) === 'ok') reached++;
    }
    assert.ok(reached > 0, 'some inputs were read to their end (the generator does reach deep)');
  });

  it('valid messages with random bytes flipped: never throws anything but RtmpProtocolError', () => {
    const random = prng(2);
    for (let i = 0; i < 300; i++) {
      const messages = Array.from({ length: 20 }, (_, k) =>
        writeChunks(
          {
            csid: 3 + (k % 5),
            typeId: k % 3 === 0 ? MSG.SetChunkSize : MSG.CommandAmf0,
            streamId: 0,
            timestamp: k * 10,
            payload: Buffer.alloc(k % 3 === 0 ? 4 : 300, k),
          },
          128,
        ),
      );
      const bytes = Buffer.concat(messages);
      for (let f = 0; f < 5; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      feed(new ChunkReader(LIMITS), bytes, random);
    }
  });

  /** A type-0 chunk on chunk stream `csid` (64–319) starting a message of `length`, with `body` bytes of it. */
  const start = (csid: number, length: number, body: number): Buffer => {
    const head = Buffer.alloc(13);
    head[1] = csid - 64; // fmt 0, two-byte basic header
    head.writeUIntBE(length, 5, 3);
    head[8] = MSG.Video;
    return Buffer.concat([head, Buffer.alloc(body)]);
  };
  const chunkSize = (n: number): Buffer => {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(n);
    return writeChunks({ csid: 2, typeId: MSG.SetChunkSize, streamId: 0, timestamp: 0, payload }, 128);
  };

  it('messages left unfinished on many chunk streams: refused past the stream bound', () => {
    const bytes = Buffer.concat(Array.from({ length: 200 }, (_, i) => start(64 + i, 60_000, 100)));
    assert.equal(feed(new ChunkReader(LIMITS), bytes, prng(3)), 'refused');
  });

  it('unfinished messages on few streams: refused before the reader holds more than two messages', () => {
    const reader = new ChunkReader(LIMITS);
    reader.push(chunkSize(4096));
    let held = 0;
    let refused = false;
    for (let i = 0; i < 12 && !refused; i++) {
      // five whole chunks of a 60 000-byte message on chunk stream 64 + i: 20 480 bytes held, the rest never sent
      const csid = 64 + i;
      const more = Array.from({ length: 4 }, () => Buffer.concat([Buffer.from([0xc0, csid - 64]), Buffer.alloc(4096)]));
      try {
        reader.push(Buffer.concat([start(csid, 60_000, 4096), ...more]));
        held += 5 * 4096;
      } catch (error) {
        assert.ok(error instanceof RtmpProtocolError, String(error));
        assert.match(error.message, /too many unfinished messages/);
        refused = true;
      }
    }
    assert.ok(refused, 'refused');
    assert.ok(held <= 2 * LIMITS.maxMessageBytes, `held ${held} bytes`);
  });

  it(
    'a header that shortens a message already under way: ' +
      'refused, never read backwards (in one read or across two)',
    () => {
      const first = writeChunks(
        { csid: 3, typeId: MSG.CommandAmf0, streamId: 0, timestamp: 0, payload: Buffer.alloc(300, 1) },
        128,
      ).subarray(0, 12 + 128);
      const shorter = writeChunks(
        { csid: 3, typeId: MSG.CommandAmf0, streamId: 0, timestamp: 0, payload: Buffer.alloc(10, 2) },
        128,
      );
      assert.throws(() => new ChunkReader(LIMITS).push(Buffer.concat([first, shorter])), RtmpProtocolError);
      const reader = new ChunkReader(LIMITS);
      reader.push(first);
      assert.throws(() => reader.push(shorter), /shortens a message already 128 bytes long/);
    },
  );

  it('a continuation (type 1–3) on a chunk stream that never started a message: refused', () => {
    assert.throws(() => new ChunkReader(LIMITS).push(Buffer.from([0xc5, 1, 2, 3])), /type-3 chunk on chunk stream 5/);
  });

  it('one chunk stream declaring a message past the limit: refused at its header', () => {
    const msg = writeChunks(
      { csid: 3, typeId: MSG.CommandAmf0, streamId: 0, timestamp: 0, payload: Buffer.alloc(65 * 1024) },
      128,
    );
    assert.throws(() => new ChunkReader(LIMITS).push(msg.subarray(0, 20)), /a message of 66560 bytes/);
  });

  for (const size of [0, 0x80000000]) {
    it(`Set Chunk Size ${size} closes the session (it would turn a flood into endless empty chunks)`, () => {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(size);
      const msg = writeChunks({ csid: 2, typeId: MSG.SetChunkSize, streamId: 0, timestamp: 0, payload }, 128);
      assert.throws(() => new ChunkReader(LIMITS).push(msg), RtmpProtocolError);
    });
  }

  it('a flood of empty messages at chunk size 1 is read in bounded time per read', () => {
    const reader = new ChunkReader(LIMITS);
    const one = Buffer.alloc(4);
    one.writeUInt32BE(1);
    reader.push(writeChunks({ csid: 2, typeId: MSG.SetChunkSize, streamId: 0, timestamp: 0, payload: one }, 128));
    // one empty message on csid 3, then its header repeated alone (fmt 3): each byte is another empty message
    reader.push(
      writeChunks({ csid: 3, typeId: MSG.CommandAmf0, streamId: 0, timestamp: 0, payload: Buffer.alloc(0) }, 1),
    );
    const flood = Buffer.alloc(64 * 1024, 0xc3);
    const started = performance.now();
    for (let i = 0; i < 16; i++) reader.push(flood);
    assert.ok(performance.now() - started < 2000, `${Math.round(performance.now() - started)} ms for 1 MiB`);
  });
});

describe('ChunkReader: chunks split across reads', () => {
  // timestamps past 0xffffff take the extended field; chunk streams past 63 and 319 the 2- and 3-byte basic headers
  const message = (csid: number, n: number, fill: number) => ({
    csid,
    typeId: MSG.Video,
    streamId: 1,
    timestamp: fill % 2 ? 0xffffff + n : n * 33,
    payload: Buffer.alloc(n, fill),
  });
  const setChunkSize = (n: number) => {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(n);
    return writeChunks({ csid: 2, typeId: MSG.SetChunkSize, streamId: 0, timestamp: 0, payload }, 128);
  };

  for (const size of [128, 4096, 1024 * 1024]) {
    it(`chunk size ${size}, reads of random sizes (1 byte to 9 kB): every message whole and in order`, () => {
      const random = prng(size);
      const csids = [3, 64, 300, 320, 65599];
      const sent = Array.from({ length: 30 }, (_, i) => message(csids[i % 5]!, Math.floor(random() * 300_000), i));
      const bytes = Buffer.concat([setChunkSize(size), ...sent.map((m) => writeChunks(m, size))]);
      const reader = new ChunkReader({ maxMessageBytes: 1024 * 1024, maxChunkStreams: 8, maxChunkSize: size });
      const got = [];
      for (let at = 0; at < bytes.length; ) {
        const n = random() < 0.2 ? 1 + Math.floor(random() * 20) : 1 + Math.floor(random() * 9000);
        got.push(...reader.push(bytes.subarray(at, at + n)).filter((m) => m.typeId === MSG.Video));
        at += n;
      }
      assert.equal(got.length, sent.length);
      for (const [i, m] of got.entries()) {
        assert.equal(m.csid, sent[i]!.csid);
        assert.equal(m.timestamp, sent[i]!.timestamp);
        assert.ok(m.payload.equals(sent[i]!.payload), `message ${i}'s payload`);
      }
    });
  }

  it('a 1 MiB chunk in 4 kB reads: a few MiB made (each read re-joined everything so far: 259 MiB)', (t) => {
    const size = 1024 * 1024;
    const bytes = Buffer.concat([setChunkSize(size), writeChunks(message(3, size, 7), size)]);
    const reader = new ChunkReader({ maxMessageBytes: size, maxChunkStreams: 8, maxChunkSize: size });
    let made = 0;
    const concat = Buffer.concat;
    const allocUnsafe = Buffer.allocUnsafe;
    t.mock.method(Buffer, 'concat', (list: readonly Uint8Array[], length?: number) => {
      const b = concat(list, length);
      made += b.length;
      return b;
    });
    t.mock.method(Buffer, 'allocUnsafe', (n: number) => {
      made += n;
      return allocUnsafe(n);
    });
    const got = [];
    for (let at = 0; at < bytes.length; at += 4096) got.push(...reader.push(bytes.subarray(at, at + 4096)));
    t.mock.restoreAll();
    assert.equal(got.at(-1)?.payload.length, size);
    assert.ok(got.at(-1)?.payload.every((b) => b === 7));
    assert.ok(made < 3 * size, `${(made / 1024 / 1024).toFixed(1)} MiB made for a 1 MiB chunk`);
  });

  it("a header's promise sets nothing aside: a 1 MiB chunk declared, 29 bytes sent, little held", (t) => {
    const size = 1024 * 1024;
    const reader = new ChunkReader({ maxMessageBytes: 16 * size, maxChunkStreams: 8, maxChunkSize: size });
    reader.push(setChunkSize(size));
    const head = writeChunks(message(3, 2 * size, 2), size).subarray(0, 29);
    let made = 0;
    const allocUnsafe = Buffer.allocUnsafe;
    t.mock.method(Buffer, 'allocUnsafe', (n: number) => {
      made += n;
      return allocUnsafe(n);
    });
    for (let i = 0; i < head.length; i++) assert.deepEqual(reader.push(head.subarray(i, i + 1)), []);
    t.mock.restoreAll();
    assert.ok(made < 4096, `${made} bytes made for 29 sent`);
  });
});
