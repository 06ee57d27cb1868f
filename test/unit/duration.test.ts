import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration, parseKbps } from '../../src/util/duration.js';

describe('parseDuration', () => {
  const ok: [string, number][] = [['90s', 90_000], ['5m', 300_000], ['1h', 3_600_000], ['1h30m', 5_400_000], ['250ms', 250], ['20', 20_000], ['1.5s', 1500]];
  for (const [raw, ms] of ok) it(`${raw} = ${ms} ms`, () => assert.equal(parseDuration(raw), ms));
  for (const raw of ['', 'abc', '5x', '-3s', '0s', '5 m']) {
    it(`rejects "${raw}"`, () => assert.throws(() => parseDuration(raw), /--duration .*(not a duration|longer than zero)/));
  }
});

describe('parseKbps', () => {
  const ok: [string, number][] = [['3000k', 3000], ['6M', 6000], ['2500', 2500], ['1.5m', 1500], ['128kbps', 128]];
  for (const [raw, kbps] of ok) it(`${raw} = ${kbps}`, () => assert.equal(parseKbps(raw, '--video-bitrate'), kbps));
  for (const raw of ['fast', '0k', '-1M']) {
    it(`rejects "${raw}"`, () => assert.throws(() => parseKbps(raw, '--video-bitrate'), /--video-bitrate/));
  }
});
