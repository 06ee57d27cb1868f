import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchWriter } from '../../src/relay/batch-writer.js';
import { ChunkReader } from '../../src/rtmp/chunk.js';
import { MSG, type RtmpMessage } from '../../src/rtmp/message.js';

const video = (n: number, size: number): RtmpMessage => ({
  csid: 6,
  typeId: MSG.Video,
  streamId: 1,
  timestamp: n * 33,
  payload: Buffer.alloc(size, n),
});
const turn = () => new Promise((r) => setImmediate(r));

/** A socket that completes each write later (as TLS does), keeping a copy of what it was given at the time. */
class LateSink {
  readonly writes: { bytes: Buffer; copy: Buffer; done: () => void }[] = [];
  write(bytes: Buffer, done: () => void): boolean {
    this.writes.push({ bytes, copy: Buffer.from(bytes), done });
    return true;
  }
}

describe('BatchWriter', () => {
  it('one write per batch (a read of the leg), the messages chunked in order', async () => {
    const sink = new LateSink();
    const writer = new BatchWriter(4096, () => 1);
    writer.reset(sink);
    for (let i = 0; i < 5; i++) writer.add(video(i, 5000), i * 33);
    await turn();
    assert.equal(sink.writes.length, 1);
    const reader = new ChunkReader();
    reader.chunkSize = 4096;
    const got = reader.push(sink.writes[0]!.copy);
    assert.deepEqual(
      got.map((m) => [m.timestamp, m.payload.length, m.payload[0]]),
      [0, 1, 2, 3, 4].map((i) => [i * 33, 5000, i]),
    );
  });

  it('reuses its buffer once the last write completed, and never overwrites a write still under way', async () => {
    const sink = new LateSink();
    const writer = new BatchWriter(4096, () => 1);
    writer.reset(sink);
    writer.add(video(1, 1000), 0);
    await turn();
    // the first write is not completed: the next batch must not go into the same bytes
    writer.add(video(2, 1000), 33);
    await turn();
    const [first, second] = sink.writes;
    assert.ok(first!.bytes.equals(first!.copy), 'the write under way was left as it was');
    assert.notEqual(first!.bytes.byteOffset, second!.bytes.byteOffset, 'the second batch went after it');
    first!.done();
    second!.done();
    // both completed: the next batch starts at the buffer's beginning again, in the same buffer
    writer.add(video(3, 1000), 66);
    await turn();
    const third = sink.writes[2]!;
    assert.equal(third.bytes.buffer, first!.bytes.buffer, 'the same buffer, not a new one');
    assert.equal(third.bytes.byteOffset, first!.bytes.byteOffset);
  });

  it('a new session drops what was gathered and leaves a write under way alone', async () => {
    const sink = new LateSink();
    const writer = new BatchWriter(4096, () => 1);
    writer.reset(sink);
    writer.add(video(1, 1000), 0);
    await turn();
    writer.add(video(2, 1000), 33); // gathered, not yet written
    const next = new LateSink();
    writer.reset(next);
    await turn();
    assert.equal(next.writes.length, 0, 'nothing of the last session goes to the next');
    writer.add(video(3, 1000), 0);
    await turn();
    assert.ok(sink.writes[0]!.bytes.equals(sink.writes[0]!.copy), 'the last session’s write is untouched');
    assert.notEqual(
      next.writes[0]!.bytes.buffer,
      sink.writes[0]!.bytes.buffer,
      'a fresh buffer, as the old one is still in use',
    );
  });
});
