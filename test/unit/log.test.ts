import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogClassifier } from '../../src/ffmpeg/log.js';

describe('LogClassifier', () => {
  it('maps a fifo to its leg from "Error opening", then follows that fifo', () => {
    const c = new LogClassifier([
      { label: 'good', url: 'rtmp://127.0.0.1:1/live/****' },
      { label: 'bad', url: 'rtmp://127.0.0.1:2/live/****' },
    ]);
    assert.deepEqual(c.classify('[fifo @ 0x55aa] [error] Error opening rtmp://127.0.0.1:2/live/****: Connection refused'), { kind: 'leg-error', label: 'bad', reason: 'Connection refused' });
    assert.deepEqual(c.classify('[fifo @ 0x55aa] [info] Recovery failed: Connection refused'), { kind: 'leg-error', label: 'bad', reason: 'Connection refused' });
    assert.deepEqual(c.classify('[fifo @ 0x55aa] [info] Recovery successful'), { kind: 'leg-recovered', label: 'bad' });
    // an unknown fifo is not blamed on any leg
    assert.equal(c.classify('[fifo @ 0x77bb] [info] Recovery failed: Broken pipe').kind, 'info');
    assert.equal(c.classify('[tcp @ 0x1] [error] Connection to tcp://127.0.0.1:2 failed').kind, 'error');
    assert.equal(c.classify('[flv @ 0x2] [warning] Failed to update header').kind, 'warning');
    assert.equal(c.classify('plain text').kind, 'info');
  });
});
