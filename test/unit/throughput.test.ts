import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThroughputMeter } from '../../src/run/throughput.js';

describe('ThroughputMeter', () => {
  it('is the slope over the window, from samples taken when the counter moved', () => {
    const m = new ThroughputMeter(6000);
    // 50 kB/s = 400 kbit/s, acknowledged in 64 KiB steps
    for (let bytes = 0, at = 0; at <= 10_000; bytes += 65_536, at = Math.round((bytes / 50_000) * 1000)) m.add(at, bytes);
    const kbps = m.kbps()!;
    assert.ok(Math.abs(kbps - 400) <= 8, `${kbps}`);
  });
  it('null until 2 s of samples; a counter that restarts (new session) starts over', () => {
    const m = new ThroughputMeter();
    m.add(0, 0);
    m.add(1000, 100_000);
    assert.equal(m.kbps(), null);
    m.add(3000, 300_000);
    assert.equal(m.kbps(), 800);
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
