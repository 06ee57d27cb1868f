import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SLOW_FOR_MS, SpeedWatch } from '../../src/run/speed-watch.js';

/** Progress once a second at `rate` seconds of stream per second, from `from` for `seconds`. */
function feed(w: SpeedWatch, from: { at: number; out: number }, rate: number, seconds: number) {
  const turns: { at: number; turn: string }[] = [];
  for (let i = 1; i <= seconds; i++) {
    from.at += 1000;
    from.out += 1000 * rate;
    const turn = w.sample(from.at, from.out);
    if (turn) turns.push({ at: from.at, turn });
  }
  return turns;
}

describe('SpeedWatch: an encoder that cannot keep up with real time', () => {
  it('said once after 10 s under 0.97×, with the figure; said again only after it kept up', () => {
    const w = new SpeedWatch();
    const t = { at: 0, out: 0 };
    w.sample(0, 0);
    assert.deepEqual(feed(w, t, 1.0, 30), [], 'real time: nothing');
    assert.equal(w.speed, 1);
    const slow = feed(w, t, 0.8, 30);
    assert.equal(slow.length, 1);
    assert.equal(slow[0]!.turn, 'slow');
    // the 10 s window holds some real-time seconds at first: it is said within the window, once it is under
    assert.ok(slow[0]!.at - 30_000 <= SLOW_FOR_MS, `after ${slow[0]!.at - 30_000} ms`);
    assert.equal(w.slow, true);
    assert.ok(Math.abs(w.speed! - 0.8) < 0.01, `speed ${w.speed}`);
    assert.deepEqual(
      feed(w, t, 1.0, 30).map((x) => x.turn),
      ['recovered'],
    );
    assert.equal(w.slow, false);
  });

  it('0.975× is not slow; a short stall inside 10 s that is made up is not slow', () => {
    const w = new SpeedWatch();
    const t = { at: 0, out: 0 };
    w.sample(0, 0);
    assert.deepEqual(feed(w, t, 0.975, 40), []);
    feed(w, t, 0.5, 3);
    assert.deepEqual(feed(w, t, 1.5, 3), [], 'made up within the window');
  });

  it('nothing is judged before 10 s of samples; a new encoder (its clock back at 0) starts again', () => {
    const w = new SpeedWatch();
    const t = { at: 0, out: 0 };
    w.sample(0, 0);
    assert.deepEqual(feed(w, t, 0.5, 9), []);
    assert.equal(w.speed, null);
    // a new encoder: out time restarts at 0
    t.out = 0;
    w.sample(t.at, 0);
    assert.deepEqual(feed(w, t, 0.5, 9), [], 'the window started again');
    assert.equal(feed(w, t, 0.5, 2)[0]?.turn, 'slow');
  });
});
