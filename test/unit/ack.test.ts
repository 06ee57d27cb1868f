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
    // nginx set its count back to 0 after the read that crossed the point, which took up to 4114 bytes past it
    const READ = 4096 + 18;
    const acks = new AckCounter();
    acks.update(last, last + 64_000);
    const after = acks.update(50_000, sent);
    assert.ok(after >= NGINX_ACK_RESET + 50_000 && after <= NGINX_ACK_RESET + 50_000 + READ, `${after}`);
    // and keeps counting exactly from there
    assert.equal(acks.update(115_536, sent + 80_000), after + 65_536);
  });

  it('a thousand nginx resets (a month at 12 Mbit/s): the count never falls behind what nginx took', () => {
    // nginx loses up to one read at each reset; were that taken as lost, the count would fall further behind at
    // each reset, and after weeks the relay would see a backlog that is not there (false congestion)
    const acks = new AckCounter();
    let truth = 65_536; // what nginx really received
    const inFlight = 100_000;
    acks.update(65_536, truth + inFlight);
    for (let reset = 0; reset < 1000; reset++) {
      const before = NGINX_ACK_RESET - 30_000; // its last ack before the crossing read
      truth += before - 65_536;
      acks.update(before, truth + inFlight);
      const over = (reset * 997) % 4114; // how far that read went past the point: lost from nginx's count
      truth += 30_000 + over + 65_536; // then its count starts again, and it acks at 64 KiB
      const got = acks.update(65_536, truth + inFlight);
      assert.ok(got >= truth, `reset ${reset}: ${truth - got} bytes behind`);
      assert.ok(got <= truth + inFlight, 'never above what was sent');
    }
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
