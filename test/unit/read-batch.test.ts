import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_BYTES, READ_BATCH_MS, nextRestMs } from '../../src/relay/leg.js';
import { RestClock, restPeriod, restSlot } from '../../src/relay/rest-clock.js';

describe('nextRestMs (how long the relay rests between reads of ffmpeg’s leg)', () => {
  it('lets about BATCH_BYTES gather at the leg’s rate', () => {
    // 6 Mbit/s = 750 bytes/ms
    assert.equal(nextRestMs(750 * 250, 250), Math.round(BATCH_BYTES / 750));
    // 19 Mbit/s
    assert.equal(nextRestMs(2375 * 50, 50), Math.round(BATCH_BYTES / 2375));
  });
  it('never rests longer than READ_BATCH_MS (slow legs, nothing read) nor shorter than 10 ms', () => {
    assert.equal(nextRestMs(100 * 250, 250), READ_BATCH_MS);
    assert.equal(nextRestMs(0, 250), READ_BATCH_MS);
    assert.equal(nextRestMs(1_000_000, 10), 10);
  });
});

describe('the shared rest clock', () => {
  it('rounds a rest to the nearest power-of-two period, 16 to 256 ms', () => {
    assert.deepEqual([5, 16, 40, 131, 190, 250, 1000].map(restPeriod), [16, 16, 32, 128, 256, 256, 256]);
  });
  it('ends a rest on its period’s grid, half a period to one and a half away', () => {
    for (const now of [0, 3.7, 1000.2, 123456.9]) {
      for (const rest of [20, 131, 250]) {
        const p = restPeriod(rest);
        const slot = restSlot(now, rest);
        assert.equal(slot % p, 0);
        assert.ok(slot - now >= p / 2 && slot - now < 1.5 * p, `${now} + ${rest} → ${slot}`);
      }
    }
  });
  it('legs at similar rates wake together, in one event-loop turn', async () => {
    const clock = new RestClock();
    const woke: { leg: number; turn: number }[] = [];
    let turn = 0;
    const wake = (leg: number) => () => {
      // the first wake of a turn ends that turn at the next check phase: a later wake in it sees the same number
      if (!woke.some((w) => w.turn === turn)) setImmediate(() => turn++);
      woke.push({ leg, turn });
    };
    // rests of 250, 240 and 200 ms all round to the 256 ms grid: one slot, one timer
    clock.rest(250, wake(1));
    clock.rest(240, wake(2));
    clock.rest(200, wake(3));
    await new Promise((r) => setTimeout(r, 450));
    assert.deepEqual(
      woke.map((w) => w.leg),
      [1, 2, 3],
    );
    assert.equal(new Set(woke.map((w) => w.turn)).size, 1, 'all three in one turn');
  });
  it('a shorter rest registered later still wakes first', async () => {
    const clock = new RestClock();
    const woke: string[] = [];
    clock.rest(250, () => woke.push('long'));
    clock.rest(16, () => woke.push('short'));
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(woke, ['short']);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(woke, ['short', 'long']);
  });
});
