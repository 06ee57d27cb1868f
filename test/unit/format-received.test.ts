import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReceivedSummary } from '../../src/probe/summary.js';
import { formatReceived } from '../../src/report/format.js';

const summary: ReceivedSummary = {
  videoCodec: 'h264',
  videoProfile: 'High',
  audioCodec: 'aac',
  width: 1280,
  height: 720,
  fps: 30,
  videoFrames: 9000,
  durationS: 300,
  keyframeIntervalS: { min: 2, max: 2, avg: 2 },
  maxFrameGapS: 0.034,
  lostFrames: 0,
  videoKbps: 2900,
  audioSampleRate: 48000,
  audioChannels: 2,
  peak1sKbps: 3400,
  steadyKbps: 2900,
  avDriftS: 0.01,
};

describe('the received line (--to local)', () => {
  it('says when the recording holds only the first part of a longer publish', () => {
    const e = { type: 'received' as const, destination: 'local', summary, checks: [], meetsPreset: true };
    assert.match(formatReceived(e)[0]!, /^local received 300 s: h264 High 1280x720 30 fps/);
    const [line] = formatReceived({ ...e, recordedFirstS: 300 });
    assert.match(line!, /^local received 300 s \(the first 300 s; no more is recorded\): h264 High 1280x720/);
  });
});
