import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckCounter, NGINX_ACK_RESET } from '../../src/rtmp/ack.js';

/** Feeds [sequence, sent] pairs and returns the acknowledged totals. */
const run = (steps: [number, number][]): number[] => {
  const acks = new AckCounter();
  return steps.map(([seq, sent]) => acks.update(seq, sent));
};
const GiB = 2 ** 30;

describe('AckCounter: acknowledged bytes from 32-bit sequence numbers', () => {
  it('a server that counts from 0 is taken as it is', () => {
    assert.deepEqual(
      run([
        [65_536, 80_000],
        [131_072, 150_000],
        [196_608, 200_000],
      ]),
      [65_536, 131_072, 196_608],
    );
  });

  it('never above what was sent, never backwards (a late, older acknowledgement changes nothing)', () => {
    assert.deepEqual(
      run([
        [65_536, 60_000],
        [65_000, 70_000],
        [131_072, 140_000],
      ]),
      [60_000, 60_000, 125_536],
    );
  });

  it('a reset to 0 from below 2^31 (a large step back) is a reset, not a late acknowledgement', () => {
    assert.deepEqual(
      run([
        [GiB, GiB + 10_000],
        [30_000, GiB + 90_000],
      ]),
      [GiB, GiB + 90_000],
    );
  });

  it('wraps at 2^32: the count goes on past 4 GiB', () => {
    const before = 2 ** 32 - 1000;
    const got = run([
      [before, before + 5000],
      [3000, 2 ** 32 + 5000],
    ]);
    assert.deepEqual(got, [before, 2 ** 32 + 3000]);
  });

  it("nginx-rtmp's reset at 0xF0000000: the count goes on from where nginx set it back to 0", () => {
    const last = NGINX_ACK_RESET - 40_000; // nginx's last ack before its count passed the reset point
    const sent = NGINX_ACK_RESET + 100_000;
    // after the reset nginx counts from 0 again: 50_000 bytes since the reset point
    const got = run([
      [last, last + 64_000],
      [50_000, sent],
    ]);
    assert.deepEqual(got, [last, NGINX_ACK_RESET + 50_000]);
    // and keeps counting exactly
    const acks = new AckCounter();
    acks.update(last, last + 64_000);
    acks.update(50_000, sent);
    assert.equal(acks.update(115_536, sent + 80_000), NGINX_ACK_RESET + 115_536);
  });

  it('a counter that starts anywhere (near the wrap): taken as all sent at first, exact from then on', () => {
    const start = 2 ** 32 - 100_000;
    const acks = new AckCounter();
    assert.equal(acks.update(start + 65_536, 70_000), 70_000);
    // the next ack is 65_536 further on, across the wrap
    assert.equal(acks.update((start + 131_072) % 2 ** 32, 140_000), 70_000 + 65_536);
    assert.equal(acks.update((start + 196_608) % 2 ** 32, 210_000), 70_000 + 131_072);
  });

  it('an unknown reset: everything sent is taken as acknowledged, never a 4 GiB backlog', () => {
    const got = run([
      [3 * GiB, 3 * GiB + 10_000],
      [20_000, 3 * GiB + 90_000],
    ]);
    assert.deepEqual(got, [3 * GiB, 3 * GiB + 90_000]);
  });

  it('a server that also counts the 3073 handshake bytes is not a reset', () => {
    assert.deepEqual(
      run([
        [65_536 + 3073, 65_536],
        [131_072 + 3073, 131_072 + 10_000],
      ]),
      [65_536, 131_072],
    );
  });
});
