import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration, parseKbps } from '../../src/util/duration.js';
import { setLongTimeout } from '../../src/util/timers.js';

describe('parseDuration', () => {
  const ok: [string, number][] = [
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['20', 20_000],
    ['1.5s', 1500],
    ['600h', 2_160_000_000],
    ['2d', 172_800_000],
  ];
  for (const [raw, ms] of ok) it(`${raw} = ${ms} ms`, () => assert.equal(parseDuration(raw), ms));
  for (const raw of ['', 'abc', '5x', '-3s', '5 m']) {
    it(`rejects "${raw}"`, () => assert.throws(() => parseDuration(raw), /--duration .*not a duration/));
  }
  // 0 streamed forever and 0.4 s stopped at once: a duration is 1 s to 366 days
  for (const raw of ['0', '0s', '0.4', '250ms', '367d']) {
    it(`rejects "${raw}" with the valid range`, () =>
      assert.throws(() => parseDuration(raw), /--duration .*: give a duration from 1s to 366d/));
  }
  it('takes the range of the flag', () => {
    const range = { min: 2000, max: 3_600_000, text: 'from 2s to 1h' };
    assert.equal(parseDuration('2s', '--watchdog', range), 2000);
    assert.throws(
      () => parseDuration('0', '--watchdog', range),
      /^UsageError: --watchdog 0: give a duration from 2s to 1h$/,
    );
    assert.throws(() => parseDuration('2h', '--watchdog', range), /from 2s to 1h/);
  });
});

describe('parseKbps', () => {
  const ok: [string, number][] = [
    ['3000k', 3000],
    ['6M', 6000],
    ['2500', 2500],
    ['1.5m', 1500],
    ['128kbps', 128],
  ];
  for (const [raw, kbps] of ok) it(`${raw} = ${kbps}`, () => assert.equal(parseKbps(raw, '--video-bitrate'), kbps));
  for (const raw of ['fast', '0k', '-1M', '0.4']) {
    it(`rejects "${raw}"`, () => assert.throws(() => parseKbps(raw, '--video-bitrate'), /--video-bitrate/));
  }
  it('takes the range of the flag', () => {
    const range = { min: 100, max: 1_000_000, text: 'from 100k to 1000M' };
    assert.throws(
      () => parseKbps('99k', '--video-bitrate', range),
      /^UsageError: --video-bitrate 99k: give a bitrate from 100k to 1000M$/,
    );
    assert.equal(parseKbps('400M', '--video-bitrate', range), 400_000);
  });
});

describe('setLongTimeout', () => {
  it('fires after a delay Node holds, and can be cleared', async () => {
    let fired = 0;
    setLongTimeout(() => fired++, 20);
    const cleared = setLongTimeout(() => fired++, 20);
    cleared.clear();
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(fired, 1);
  });
  it('does not fire at once for a delay past 2^31 ms (600 h): setTimeout alone would', async () => {
    let fired = false;
    const t = setLongTimeout(() => (fired = true), 600 * 3_600_000);
    await new Promise((r) => setTimeout(r, 50));
    t.clear();
    assert.equal(fired, false);
  });
});
