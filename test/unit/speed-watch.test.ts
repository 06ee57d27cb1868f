import assert from 'node:assert/strict';
import { formatSpeed } from '../../src/report/format.js';
import { describe, it } from 'node:test';
import { resolveDestinations } from '../../src/platforms/destinations.js';
import { buildPlan, type Plan } from '../../src/plan/plan.js';
import { findPreset, loadPresets } from '../../src/presets/load.js';
import { withX264Steps } from '../../src/source/plan-variants.js';
import { EncoderPace } from '../../src/adapt/encoder-pace.js';
import { SLOW_FOR_MS, STEP_BACK_AFTER_MS, SpeedStepper, SpeedWatch } from '../../src/adapt/speed-watch.js';

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

describe('SpeedStepper: one x264 speed faster each time it falls behind, back after a calm', () => {
  it('faster up to ultrafast; one step back after 5 min of keeping up; a failed step back doubles the wait', () => {
    const s = new SpeedStepper('veryfast', 0);
    assert.equal(s.calm(10 * 60_000, false), undefined, 'at the plan: nothing to step back to');
    assert.deepEqual(s.faster(11 * 60_000), { x264Preset: 'superfast', size: 1 });
    assert.deepEqual(s.faster(12 * 60_000), { x264Preset: 'ultrafast', size: 1 });
    // past ultrafast: a smaller picture, twice, then nothing
    assert.deepEqual(s.faster(12 * 60_000 + 1), { x264Preset: 'ultrafast', size: 0.67 });
    assert.deepEqual(s.faster(12 * 60_000 + 2), { x264Preset: 'ultrafast', size: 0.44 });
    assert.equal(s.steps, 4);
    assert.equal(s.faster(13 * 60_000), undefined, 'nothing faster');
    assert.deepEqual(s.calm(13 * 60_000 + STEP_BACK_AFTER_MS, false), { x264Preset: 'ultrafast', size: 0.67 });
    assert.deepEqual(s.calm(13 * 60_000 + 2 * STEP_BACK_AFTER_MS, false), { x264Preset: 'ultrafast', size: 1 });
    assert.equal(s.calm(13 * 60_000 + 3 * STEP_BACK_AFTER_MS - 1, false), undefined);
    assert.deepEqual(s.calm(13 * 60_000 + 3 * STEP_BACK_AFTER_MS, false), { x264Preset: 'superfast', size: 1 });
    // it falls behind again a minute later: that step back did not hold; the next waits twice as long
    const t = 29 * 60_000;
    assert.deepEqual(s.faster(t), { x264Preset: 'ultrafast', size: 1 });
    assert.equal(s.calm(t + STEP_BACK_AFTER_MS, false), undefined);
    assert.deepEqual(s.calm(t + 2 * STEP_BACK_AFTER_MS, false), { x264Preset: 'superfast', size: 1 });
    assert.equal(s.calm(t + 2 * STEP_BACK_AFTER_MS + 1000, true), undefined, 'slow: the calm starts again');
    assert.deepEqual(s.current, { x264Preset: 'superfast', size: 1 });
  });
});

describe('EncoderPace: what the session tells and swaps', () => {
  const plan = {
    video: { x264Preset: 'veryfast' },
    encodes: [{ video: { width: 1920, height: 1080, fps: 60, encoder: 'x264', x264Preset: 'veryfast' } }],
  } as unknown as Plan;
  /** The machine's CPU as EncoderPace reads it: `idle` of each second idle. */
  const cpuAt = (idle: number) => {
    let t = 0;
    return () => {
      t++;
      return { idle: t * 1000 * idle, total: t * 1000 };
    };
  };
  const run = (canSwap: boolean, idle = 0.02) => {
    const pace = new EncoderPace(plan, canSwap, 0, cpuAt(idle));
    const swaps: number[] = [];
    const events = [];
    for (let s = 0; s <= 12; s++) events.push(...pace.sample(s * 1000, s * 600, (p) => swaps.push(p)));
    return { events, swaps, status: pace.status };
  };

  it('a source the director can swap: the warning, then one x264 speed faster (a `speed` event)', () => {
    const { events, swaps, status } = run(true);
    assert.deepEqual(
      events.map((e) => e.type),
      ['warning', 'speed'],
    );
    assert.match((events[0] as { message: string }).message, /^the encoder makes 0\.60 s of stream per second/);
    assert.deepEqual(events[1], {
      type: 'speed',
      x264Preset: 'superfast',
      size: 1,
      previous: 'veryfast',
      previousSize: 1,
      reason: 'the encoder made 0.60 s of stream per second',
    });
    assert.deepEqual(swaps, [1], 'one speed faster than planned, for every x264 encode');
    assert.deepEqual(status, { realtime: 0.6, slow: true });
  });

  it('the CPU mostly idle meanwhile: the source is slow, said so; nothing stepped', () => {
    const { events, swaps } = run(true, 0.6);
    assert.deepEqual(
      events.map((e) => e.type),
      ['warning'],
    );
    assert.match(
      (events[0] as { message: string }).message,
      /^the encoder makes 0\.60 s of stream per second \(the last 10 s\) while the CPU is 60 % idle: the source gives/,
    );
    assert.deepEqual(swaps, []);
  });

  it('after a swap the new encoder is judged afresh: still slow, one more step', () => {
    const pace = new EncoderPace(plan, true, 0, cpuAt(0.02));
    const swaps: number[] = [];
    const kinds: string[] = [];
    for (let s = 0; s <= 12; s++)
      for (const e of pace.sample(s * 1000, s * 600, (n) => swaps.push(n))) kinds.push(e.type);
    // the swapped-in encoder: its clock from 0 again, still at 0.6×
    for (let s = 1; s <= 12; s++)
      for (const e of pace.sample(12_000 + s * 1000, s * 600, (n) => swaps.push(n))) kinds.push(e.type);
    assert.deepEqual(swaps, [1, 2]);
    assert.deepEqual(kinds, ['warning', 'speed', 'warning', 'speed']);
  });

  it('past ultrafast: the speed event says the smaller picture in its own field', () => {
    const fastest = {
      video: { x264Preset: 'ultrafast' },
      encodes: [{ video: { width: 1920, height: 1080, fps: 60, encoder: 'x264', x264Preset: 'ultrafast' } }],
    } as unknown as Plan;
    const pace = new EncoderPace(fastest, true, 0, cpuAt(0.02));
    const events = [];
    for (let s = 0; s <= 12; s++) events.push(...pace.sample(s * 1000, s * 600, () => {}));
    const { reason: _, ...step } = events.find((e) => e.type === 'speed')!;
    assert.deepEqual(step, {
      type: 'speed',
      x264Preset: 'ultrafast',
      size: 0.67,
      previous: 'ultrafast',
      previousSize: 1,
    });
  });

  it('one it cannot swap (a file, the test pattern): the warning only', () => {
    const { events, swaps } = run(false);
    assert.deepEqual(
      events.map((e) => e.type),
      ['warning'],
    );
    assert.deepEqual(swaps, []);
  });
});

describe('withX264Steps: each x264 encode faster from its own speed, then every picture smaller', () => {
  const entries = loadPresets();
  const plan = buildPlan({
    preset: findPreset(entries, '720p30'),
    presets: new Map(entries.map((e) => [e.preset.name, e.preset])),
    source: { kind: 'testsrc' },
    destinations: resolveDestinations(['a=rtmp://h.example/live/keyAaaa1,b=rtmp://h.example/live/keyBbbb2'], {
      env: {},
      config: { destinations: {} },
    }),
  });
  const shape = (p: Plan) => p.encodes.map((e) => `${e.video.width}x${e.video.height} ${e.video.x264Preset}`);
  it('one and two steps: faster x264 at full size; three: ultrafast at 2/3 a side; five: 4/9 (no more)', () => {
    assert.deepEqual(shape(withX264Steps(plan, 1)), ['1280x720 superfast']);
    assert.deepEqual(shape(withX264Steps(plan, 2)), ['1280x720 ultrafast']);
    assert.deepEqual(shape(withX264Steps(plan, 3)), ['854x480 ultrafast']);
    assert.deepEqual(shape(withX264Steps(plan, 4)), ['568x320 ultrafast']);
    assert.deepEqual(shape(withX264Steps(plan, 9)), ['568x320 ultrafast']);
    assert.equal(withX264Steps(plan, 3).video.kbps, plan.video.kbps, 'the bitrate is kept');
  });
});

describe('formatSpeed: the line a person reads', () => {
  it('a speed, then the picture size past ultrafast', () => {
    const e = (x264Preset: string, size: number, previous: string, previousSize: number) =>
      ({ type: 'speed', x264Preset, size, previous, previousSize, reason: 'slow' }) as const;
    assert.equal(formatSpeed(e('superfast', 1, 'veryfast', 1)), 'x264 veryfast → superfast: slow');
    assert.equal(formatSpeed(e('ultrafast', 0.67, 'ultrafast', 1)), 'x264 ultrafast → ultrafast at 67 % size: slow');
    assert.equal(
      formatSpeed(e('ultrafast', 0.67, 'ultrafast', 0.44)),
      'x264 ultrafast at 44 % size → ultrafast at 67 % size: slow',
    );
  });
});
