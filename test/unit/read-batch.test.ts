import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_BYTES, READ_BATCH_MS, nextRestMs } from '../../src/relay/downstream.js';

describe('nextRestMs (how long the relay rests between reads of ffmpeg’s leg)', () => {
  it('lets about BATCH_BYTES gather at the leg’s rate', () => {
    // 3 Mbit/s = 375 bytes/ms
    assert.equal(nextRestMs(375 * 250, 250), Math.round(BATCH_BYTES / 375));
    // 19 Mbit/s
    assert.equal(nextRestMs(2375 * 50, 50), Math.round(BATCH_BYTES / 2375));
  });
  it('never rests longer than READ_BATCH_MS (slow legs, nothing read) nor shorter than 10 ms', () => {
    assert.equal(nextRestMs(100 * 250, 250), READ_BATCH_MS);
    assert.equal(nextRestMs(0, 250), READ_BATCH_MS);
    assert.equal(nextRestMs(1_000_000, 10), 10);
  });
});
