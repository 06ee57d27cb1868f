import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThroughputMeter } from '../../src/board/throughput.js';

/**
 * Acknowledgements (ms, bytes) from nginx-rtmp behind a 400 kbit/s htb link, recorded by the relay: they came in
 * lumps after gaps of up to 5.4 s. Delivered over the whole trace: 379-387 kbit/s.
 */
const TRACES = [
  [
    [0, 0],
    [1887, 68109],
    [2597, 135930],
    [4386, 202219],
    [5797, 268267],
    [11189, 335784],
    [11189, 401729],
    [11189, 467716],
    [12618, 534164],
    [12668, 601178],
    [13917, 670404],
    [15382, 737671],
    [16716, 803731],
    [17988, 869652],
  ],
  [
    [0, 0],
    [1889, 67558],
    [2610, 135930],
    [5711, 202219],
    [5711, 268262],
    [7446, 335784],
    [9855, 401729],
    [9947, 467470],
    [10828, 535855],
    [12616, 603725],
    [14523, 670006],
    [15480, 738719],
    [16994, 804298],
  ],
  [
    [0, 0],
    [1928, 65736],
    [2658, 133222],
    [6444, 199023],
    [6444, 266721],
    [8610, 332408],
    [8610, 399505],
    [12627, 465217],
    [12627, 530936],
    [12749, 597305],
    [13736, 663351],
    [15189, 731572],
    [16644, 799580],
    [18100, 866847],
  ],
];

/**
 * What the session does once a second from `phase` over a trace: the latest acknowledged count, at the instant it
 * arrived, into a fresh meter; each tick with the meter as it then stands.
 */
function* replay(trace: number[][], phase: number): Generator<{ tick: number; at: number; m: ThroughputMeter }> {
  const m = new ThroughputMeter();
  for (let tick = phase; tick <= trace.at(-1)![0]!; tick += 1000) {
    const [at, bytes] = trace.filter(([ackAt]) => ackAt! <= tick).at(-1)!;
    m.add(at!, bytes!);
    yield { tick, at: at!, m };
  }
}

describe('ThroughputMeter', () => {
  it('is the slope over the window, from samples taken when the counter moved', () => {
    const m = new ThroughputMeter(6000);
    // 50 kB/s = 400 kbit/s, acknowledged in 64 KiB steps
    for (let bytes = 0, at = 0; at <= 10_000; bytes += 65_536, at = Math.round((bytes / 50_000) * 1000))
      m.add(at, bytes);
    const kbps = m.kbps()!;
    assert.ok(Math.abs(kbps - 400) <= 8, `${kbps}`);
  });
  it('over a shorter stretch: the rate since a fall, where the whole window still holds the faster seconds', () => {
    const m = new ThroughputMeter(10_000);
    let bytes = 0;
    // 8 s at 1000 kbit/s, then 6 s at 400 kbit/s, a sample every 250 ms
    for (let at = 0; at <= 14_000; at += 250) {
      m.add(at, bytes);
      bytes += ((at < 8000 ? 1000 : 400) * 1000 * 0.25) / 8;
    }
    const whole = m.kbps()!;
    const recent = m.kbps(5000)!;
    assert.ok(whole > 550, `the 10 s slope mixes both rates: ${whole}`);
    assert.ok(Math.abs(recent - 400) <= 10, `the last 5 s: ${recent}`);
    // never longer than the meter keeps
    assert.equal(m.kbps(60_000), whole);
  });
  it('stays near the true rate when a slow link delivers acknowledgements in lumps', () => {
    for (const trace of TRACES) {
      for (const phase of [0, 250, 500, 750]) {
        const seen: number[] = [];
        for (const { at, m } of replay(trace, phase)) {
          const kbps = m.kbps();
          // the first 2 s give the rate between two lumps (a figure from the first acks, not a steady one)
          if (kbps !== null && at >= 2000) seen.push(kbps);
          else if (kbps !== null) assert.ok(kbps > 200 && kbps < 800, `early: ${kbps}`);
        }
        assert.ok(seen.length >= 10, `${seen}`);
        assert.ok(
          seen.every((k) => k >= 300 && k <= 460),
          `phase ${phase}: ${seen}`,
        );
      }
    }
  });
  it('over the last 5 s of the lumpy traces: a figure only from 3 acknowledgements in them, near the rate', () => {
    let figures = 0;
    for (const trace of TRACES) {
      for (const phase of [0, 250, 500, 750]) {
        for (const { tick, at, m } of replay(trace, phase)) {
          const recent = m.kbps(5000);
          const inWindow = trace.filter(([ackAt]) => ackAt! > at - 5000 && ackAt! <= at).length;
          if (recent === null) continue;
          figures++;
          assert.ok(inWindow >= 3, `a figure from ${inWindow} acknowledgements at ${tick} ms`);
          // what the governor aims from: the lower of the two figures
          const aim = Math.min(recent, m.kbps()!);
          assert.ok(aim >= 320 && recent <= 480, `phase ${phase} at ${tick} ms: ${recent} (10 s: ${m.kbps()})`);
        }
      }
    }
    assert.ok(figures >= 40, `${figures} figures`);
    // a stalled write (a server that never acknowledges: the count sampled as time goes on) gives 0, not a rate
    const m = new ThroughputMeter();
    for (let at = 0; at <= 12_000; at += 500) m.add(at, at < 6000 ? at * 50 : 300_000);
    assert.equal(m.kbps(5000), 0);
    assert.equal(m.kbps(0), null);
    assert.equal(m.kbps(-1), null);
  });

  it('null with one sample; the rate between two ends until 2 s; a counter that restarts starts over', () => {
    const m = new ThroughputMeter();
    m.add(0, 0);
    assert.equal(m.kbps(), null);
    m.add(1000, 100_000);
    assert.equal(m.kbps(), 800);
    m.add(1500, 200_000);
    assert.equal(m.kbps(), 1067);
    m.add(3000, 300_000);
    assert.equal(m.kbps(), 811);
    m.add(4000, 10);
    assert.equal(m.kbps(), null);
  });
  it('repeated samples at the same instant are ignored', () => {
    const m = new ThroughputMeter();
    m.add(0, 0);
    m.add(0, 0);
    m.add(2500, 250_000);
    assert.equal(m.kbps(), 800);
  });
});

describe('the rate as it stands now', () => {
  it('between the latest acknowledgement and the last one at least the window before it', () => {
    const m = new ThroughputMeter();
    for (const [at, bytes] of [
      [0, 0],
      [500, 62_500],
      [1000, 125_000],
      [1500, 150_000],
      [2000, 175_000],
    ] as const)
      m.add(at, bytes);
    // from 500 to 2000: 112 500 bytes in 1.5 s
    assert.equal(m.kbpsAt(2000, 1500), 600);
    assert.equal(m.kbpsAt(2000, 5000), null, 'no sample that old: no figure');
  });

  it('acknowledgements that stopped coming: up to now, so the link reads low at once', () => {
    const m = new ThroughputMeter();
    for (const [at, bytes] of [
      [0, 0],
      [1000, 125_000],
      [2000, 250_000],
    ] as const)
      m.add(at, bytes);
    assert.equal(m.kbpsAt(4000, 1500), 1000, 'two seconds since the last (a lump may come): still its own figure');
    // 3 s without one: from 500 ms before the window (the sample at 1000) up to now
    assert.equal(m.kbpsAt(5000, 1500), Math.round((125_000 * 8) / 4000));
  });
});
