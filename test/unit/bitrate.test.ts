import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BitrateGovernor, type DeliverySample } from '../../src/adapt/bitrate.js';

const live = (deliveredKbps: number, congested = false): DeliverySample => ({
  state: 'live',
  congested,
  deliveredKbps,
});

/** Feeds one sample a second from `from` for `seconds`; the changes, with the second each came. */
function feed(g: BitrateGovernor, from: number, seconds: number, sample: (t: number) => DeliverySample[]) {
  const changes: { at: number; kbps: number; previousKbps: number; reason: string }[] = [];
  for (let t = from; t < from + seconds; t++) {
    const c = g.sample(t * 1000, sample(t));
    if (c) changes.push({ at: t, ...c });
  }
  return changes;
}

describe('the bitrate follows the uplink', () => {
  it('all congested 5 s: one step down (×0.7); 3 s more once the new encoder settled: another', () => {
    const g = new BitrateGovernor(3000, 128, 0);
    const changes = feed(g, 0, 14, () => [live(3100, true), live(3000, true)]);
    assert.deepEqual(
      changes.map((c) => [c.at, c.kbps, c.previousKbps]),
      [
        [5, 2100, 3000],
        [11, 1470, 2100],
      ],
    );
    assert.equal(changes[0]!.reason, 'every destination congested for 5 s');
  });

  it('a link that fell far: at once to what the best destination delivered, less 15 % and the audio', () => {
    const g = new BitrateGovernor(4000, 128, 0);
    const [first] = feed(g, 0, 6, () => [live(1600, true), live(1350, true)]);
    assert.deepEqual([first!.at, first!.kbps], [5, Math.round(1600 * 0.85 - 128)]);
  });

  it("a link that just fell: the aim is what its last 5 s delivered, not the window's faster seconds before", () => {
    const g = new BitrateGovernor(3000, 128, 0);
    // the 10 s figure still holds seconds at the old rate; the last 5 s show the link as it is now
    const recent = (deliveredKbps: number, recentKbps: number): DeliverySample => ({
      ...live(deliveredKbps, true),
      recentKbps,
    });
    const [first] = feed(g, 0, 6, () => [recent(2600, 1500), recent(1200, 1300)]);
    assert.deepEqual([first!.at, first!.kbps], [5, Math.round(1500 * 0.85 - 128)]);
    // a last 5 s faster than the window (a link coming back) does not raise the aim
    const g2 = new BitrateGovernor(3000, 128, 0);
    const [second] = feed(g2, 0, 6, () => [recent(1600, 2900)]);
    assert.deepEqual([second!.at, second!.kbps], [5, Math.round(1600 * 0.85 - 128)]);
    // 0 over the last 5 s (a write that stalled, where the server never acknowledges) is no figure: not the floor
    const g3 = new BitrateGovernor(3000, 128, 0);
    const [third] = feed(g3, 0, 6, () => [recent(1600, 0)]);
    assert.deepEqual([third!.at, third!.kbps], [5, Math.round(1600 * 0.85 - 128)]);
  });

  it('under 85 % delivered without the congested flag also counts; never under 30 % of the plan', () => {
    const g = new BitrateGovernor(3000, 128, 0);
    const changes = feed(g, 0, 120, () => [live(100)]);
    assert.match(changes[0]!.reason, /delivered under 85 % of the stream for 5 s/);
    assert.equal(changes.at(-1)!.kbps, 900);
    assert.equal(g.kbps, 900);
    assert.ok(changes.every((c) => c.kbps >= 900));
  });

  it('one slow destination among healthy ones lowers nobody', () => {
    const g = new BitrateGovernor(3000, 128, 0);
    assert.deepEqual(
      feed(g, 0, 60, () => [live(400, true), live(3120)]),
      [],
    );
  });

  it('destinations not live (reconnecting, connecting) are not judged; none live: no change', () => {
    const g = new BitrateGovernor(3000, 128, 0);
    const reconnecting = { state: 'reconnecting', congested: false, deliveredKbps: 0 };
    assert.deepEqual(
      feed(g, 0, 30, () => [reconnecting, live(3100)]),
      [],
    );
    assert.deepEqual(
      feed(g, 30, 30, () => [reconnecting]),
      [],
    );
  });

  it('60 s without a struggle: one step up (÷0.7), never above the plan', () => {
    const g = new BitrateGovernor(3000, 128, 0);
    feed(g, 0, 6, () => [live(3000, true)]);
    assert.equal(g.kbps, 2100);
    const ups = feed(g, 6, 200, () => [live(g.kbps + 128)]);
    assert.deepEqual(
      ups.map((c) => c.kbps),
      [3000],
    );
    assert.match(ups[0]!.reason, /no destination struggled for 60 s/);
    assert.ok(ups[0]!.at >= 65, `up at ${ups[0]!.at} s`);
  });
});

describe('the bitrate on a link between two steps', () => {
  it('does not swing for ever: a step up taken back doubles the wait before the next', () => {
    const g = new BitrateGovernor(3000, 128, 0);
    // a 2000 kbit/s link: what is sent above it is not delivered (congested); below it all is
    const link = () => {
      const sent = g.kbps + 128;
      return [live(Math.min(sent, 2000), sent > 2000 * 0.97)];
    };
    const changes = feed(g, 0, 3600, link);
    const ups = changes.filter((c) => c.kbps > c.previousKbps);
    assert.ok(ups.length >= 1 && ups.length <= 6, `${ups.length} steps up in an hour`);
    assert.ok(changes.length <= 12, `${changes.length} changes in an hour`);
    assert.ok(g.kbps + 128 <= 2000, `ends at ${g.kbps} kbps, within the link`);
  });

  it('an operator’s ceiling: down to it at once, never up past it; lifted, calm steps it back up to the plan', () => {
    const g = new BitrateGovernor(3000, 128, 0, 10_000);
    const down = g.cap(1500, 0);
    assert.deepEqual(
      [down?.kbps, down?.previousKbps, down?.reason],
      [1500, 3000, 'an operator asked for at most 1500 kbps (rtmpush bitrate)'],
    );
    assert.equal(g.cap(2000, 1000), undefined, 'above the rate now: nothing to do at once');
    const healthy = () => [live(g.kbps + 128)];
    // calm: one step up (÷0.7 = 2143), held at the ceiling of 2000
    assert.deepEqual(
      feed(g, 2, 30, healthy).map((c) => c.kbps),
      [2000],
    );
    assert.equal(g.cap(undefined, 40_000), undefined, 'lifted: no change at once');
    assert.deepEqual(
      feed(g, 41, 30, healthy).map((c) => c.kbps),
      [2857, 3000],
    );
    assert.equal(g.cap(9000, 80_000), undefined, 'never above the plan');
  });
});

describe('the quick step: a shortfall seen in the queues, absorbed while the bitrate steps', () => {
  /** A destination whose server took `nowKbps` over the last 1.5 s while `queuedMs` of a `totalKbps` stream waits. */
  const short = (nowKbps: number, queuedMs: number, totalKbps: number): DeliverySample => ({
    ...live(totalKbps),
    nowKbps,
    queuedBytes: (queuedMs * totalKbps) / 8,
  });
  /** Samples every 500 ms from `from` ms for `ms`, as the session takes them; the changes with their time. */
  function tick(
    g: BitrateGovernor,
    from: number,
    ms: number,
    sample: (t: number) => DeliverySample[],
    encoded?: () => number,
  ) {
    const out: { at: number; kbps: number; reason: string }[] = [];
    for (let t = from; t < from + ms; t += 500) {
      const c = g.sample(t, sample(t), encoded?.());
      if (c) out.push({ at: t, kbps: c.kbps, reason: c.reason });
    }
    return out;
  }

  it('a halving: one step within a second of the queues growing, to what they took less headroom and drain', () => {
    const g = new BitrateGovernor(2000, 128, 0);
    // healthy for 10 s, then the link takes 1064 of 2128 kbps: the queue grows 0.5 s of stream each second
    const changes = tick(g, 0, 14_000, (t) => {
      if (t < 10_000) return [live(2128), live(2128)];
      const queuedMs = ((t - 10_000) / 1000) * 500 + 600;
      return [short(1064, queuedMs, 2128), short(1100, queuedMs, 2128)];
    });
    assert.equal(changes.length, 1, JSON.stringify(changes));
    const [step] = changes;
    assert.equal(step!.at, 10_500, 'confirmed by the second sample');
    // on average 1082 × 0.8 − 128 = 738; less what drains the 850 ms queue (226 KB) in 10 s: 181 kbps, at most 15 %
    const fits = 1082 * 0.8 - 128;
    const drain = (((850 * 2128) / 8) * 8) / 10_000;
    assert.ok(drain > fits * 0.15);
    assert.equal(step!.kbps, Math.round(fits - fits * 0.15));
    assert.match(step!.reason, /^the link took 1082 kbps of the 2128 sent, and the queue grew \(all 2 destinations\)$/);
  });

  it('one destination short among healthy ones lowers nobody', () => {
    const g = new BitrateGovernor(2000, 128, 0);
    const changes = tick(g, 0, 30_000, () => [
      short(500, 3000, 2128),
      { ...live(2128), nowKbps: 2128, queuedBytes: 0 },
    ]);
    assert.deepEqual(changes, []);
  });

  it('a queue that is a burst (the server still takes the whole stream) is not a shortfall', () => {
    const g = new BitrateGovernor(2000, 128, 0);
    assert.deepEqual(
      tick(g, 0, 20_000, () => [short(2100, 1000, 2128)]),
      [],
    );
  });

  it('a standing queue the server drains fast (over 110 % of the stream): left to drain, no step', () => {
    const g = new BitrateGovernor(2000, 128, 0);
    assert.deepEqual(
      tick(g, 0, 10_000, () => [short(2128 * 1.2, 2000, 2128)]),
      [],
    );
  });

  it('by its own encode: a second, smaller encode’s destination taking its whole stream is not short', () => {
    const g = new BitrateGovernor(6000, 128, 0);
    // the vertical encode sends 2628 kbps; its server takes all of it, with the usual queue
    const vertical: DeliverySample = { ...live(2628), nowKbps: 2600, queuedBytes: (400 * 2628) / 8, streamKbps: 2628 };
    const main = (took: number): DeliverySample => ({ ...short(took, 800, 6128), streamKbps: 6128 });
    assert.deepEqual(
      tick(g, 0, 5000, () => [main(3000), vertical]),
      [],
    );
    // both short by half: one step, by the median share (half), not by their kbps averaged
    const half = (): DeliverySample[] => [main(3064), { ...vertical, nowKbps: 1314, queuedBytes: (800 * 2628) / 8 }];
    const [step] = tick(g, 5000, 1000, half);
    const fits = 0.5 * 6128 * 0.8 - 128;
    assert.equal(step!.kbps, Math.round(fits - fits * 0.15));
  });

  it('the embedded server on this machine is not behind the uplink: it neither vetoes nor steps', () => {
    const g = new BitrateGovernor(2000, 128, 0);
    const local: DeliverySample = { ...live(2128), nowKbps: 2128, queuedBytes: 0, uplink: false };
    const [step] = tick(g, 0, 1000, () => [short(1064, 850, 2128), local]);
    assert.ok(step && step.kbps < 1000, JSON.stringify(step));
  });

  it('while the encoder is still taking a step, only a link that fell far below it makes another at once', () => {
    const g = new BitrateGovernor(2000, 128, 0);
    let encoded = 2000;
    let took = 1800;
    const shortNow = () => [short(took, 2000, g.kbps + 128)];
    const first = tick(g, 0, 1000, shortNow, () => encoded);
    assert.equal(first.length, 1);
    const wanted = first[0]!.kbps;
    // the swap takes 4 s; a little less taken meanwhile: that step stands
    took = 1500;
    assert.deepEqual(
      tick(g, 1000, 4000, shortNow, () => encoded),
      [],
    );
    assert.equal(g.kbps, wanted);
    // far less: another step at once, the swap under way given up for it (the source machine's part)
    took = 800;
    const again = tick(g, 5000, 2000, shortNow, () => encoded);
    assert.deepEqual(
      again.map((c) => c.kbps),
      [600],
    );
    assert.ok(again[0]!.kbps < wanted * 0.7);
    encoded = 600;
    assert.deepEqual(
      tick(g, 7000, 5000, shortNow, () => encoded),
      [],
      'at the floor: nothing lower',
    );
  });

  it('a quarter of the stream: to the floor at once, and a warning once that even the floor does not fit', () => {
    const g = new BitrateGovernor(2000, 128, 0);
    const changes = tick(g, 0, 20_000, () => [short(450, 2000, g.kbps + 128)]);
    assert.deepEqual(
      changes.map((c) => c.kbps),
      [600],
    );
    const notice = g.takeNotice();
    assert.match(notice ?? '', /^the link takes about 450 kbps, under even the lowest bitrate \(600 kbps/);
    assert.equal(g.takeNotice(), undefined, 'said once');
    tick(g, 20_000, 5000, () => [short(450, 2000, g.kbps + 128)]);
    assert.equal(g.takeNotice(), undefined, 'not again while it lasts');
  });
});

describe('a queue that stands', () => {
  it('the link takes about the stream, so what waits never drains: a step down all the same', () => {
    const g = new BitrateGovernor(2000, 128, 0);
    // 2 s of the stream waits, and the server takes 2100 of 2128 kbps: not a sagging link, a standing queue
    const standing: DeliverySample = { ...live(2128), nowKbps: 2100, queuedBytes: (2000 * 2128) / 8 };
    // not in the encoder's first 3 s at its rate (what waits may be from before)
    assert.deepEqual([0, 500, 1000, 1500, 2000, 2500].map((t) => g.sample(t, [standing])).filter(Boolean), []);
    const changes = [3000, 3500].map((t) => g.sample(t, [standing])).filter(Boolean);
    assert.equal(changes.length, 1);
    assert.match(changes[0]!.reason, /and the queue does not drain \(the destination\)$/);
    assert.ok(changes[0]!.kbps < 2100 * 0.8, `${changes[0]!.kbps}`);
  });
});
