import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkReceived, summarizeProbe, type ProbeJson } from '../../src/probe/summary.js';

// 4 s of 30 fps video at 100 kB/s with a keyframe every 60 frames, plus audio packets.
function fakeProbe(keyEvery = 60, frames = 120, bytesPerFrame = 3333): ProbeJson {
  const packets = [];
  for (let i = 0; i < frames; i++)
    packets.push({
      stream_index: 0,
      pts_time: (i / 30).toFixed(6),
      size: String(bytesPerFrame),
      flags: i % keyEvery === 0 ? 'K__' : '___',
    });
  for (let i = 0; i < Math.ceil(frames / 12); i++)
    packets.push({ stream_index: 1, pts_time: String(i * 0.4), size: '500', flags: 'K__' });
  return {
    streams: [
      { index: 0, codec_type: 'video', codec_name: 'h264', profile: 'Main', width: 640, height: 360 },
      { index: 1, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2 },
    ],
    packets,
  };
}

const expectation = { width: 640, height: 360, fps: 30, kbps: 800, keyintSeconds: 2, sampleRate: 48000, channels: 2 };

describe('summarizeProbe / checkReceived', () => {
  it('counts fps, keyframe interval and bitrate from packets', () => {
    const s = summarizeProbe(fakeProbe());
    assert.equal(s.videoFrames, 120);
    assert.equal(s.fps, 30);
    assert.equal(s.durationS, 4);
    assert.deepEqual(s.keyframeIntervalS, { min: 2, max: 2, avg: 2 });
    assert.equal(s.videoKbps, 800);
    assert.equal(s.maxFrameGapS, 0.033);
    assert.equal(s.lostFrames, 0);
    assert.deepEqual([s.steadyKbps, s.peak1sKbps], [800, 800]);
    assert.ok(checkReceived(s, expectation).every((c) => c.ok));
  });

  it('counts frames missing from a dropout', () => {
    const json = fakeProbe();
    json.packets = json.packets!.filter(
      (p) => !(p.stream_index === 0 && Number(p.pts_time) > 1.5 && Number(p.pts_time) < 1.7),
    );
    const s = summarizeProbe(json);
    assert.equal(s.lostFrames, 5);
    assert.equal(s.maxFrameGapS, 0.2);
  });

  it('flags a 5 s keyframe interval and a bitrate off by more than 15 %', () => {
    const s = summarizeProbe(fakeProbe(150, 450, 5000));
    const failed = checkReceived(s, expectation)
      .filter((c) => !c.ok)
      .map((c) => c.rule);
    assert.deepEqual(failed, ['keyframe interval', 'video bitrate']);
  });
});

describe('platformChecks', () => {
  it('names the rule, the figures and the fix', async () => {
    const { platformChecks } = await import('../../src/rehearse/rules.js');
    const { findPlatform } = await import('../../src/platforms/table.js');
    const s = summarizeProbe(fakeProbe(150, 450));
    const failed = platformChecks(s, findPlatform('twitch')!, { keyintSeconds: 5 }).filter((c) => !c.ok);
    assert.deepEqual(
      failed.map((c) => c.rule),
      ['keyframe interval'],
    );
    assert.equal(failed[0]!.fix, 'keyframe every 5.0 s: Twitch needs 2 s — remove --keyint 5');
    const yt = platformChecks(s, findPlatform('youtube')!, {}).filter((c) => !c.ok);
    assert.equal(yt[0]!.fix, 'keyframe every 5.0 s: YouTube Live needs at most 4 s (2 s recommended) — use --keyint 2');
  });
});
