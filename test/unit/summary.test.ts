import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkReceived, summarizeProbe, type ProbeJson, type ReceivedSummary } from '../../src/probe/summary.js';

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

  it('hours of packets (an hour’s audio alone is ~170 000) are summarized, not a stack overflow', () => {
    const s = summarizeProbe(fakeProbe(60, 216_000));
    assert.equal(s.videoFrames, 216_000);
    assert.equal(s.durationS, 7200);
    assert.equal(s.lostFrames, 0);
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

describe('platformChecks: every rule fails on its own, with its fix', () => {
  const good: ReceivedSummary = {
    videoCodec: 'h264',
    audioCodec: 'aac',
    width: 1280,
    height: 720,
    fps: 30,
    videoFrames: 450,
    durationS: 15,
    keyframeIntervalS: { min: 2, max: 2, avg: 2 },
    maxFrameGapS: 0.034,
    lostFrames: 0,
    videoKbps: 3000,
    audioSampleRate: 48000,
    audioChannels: 2,
    peak1sKbps: 3200,
    steadyKbps: 3000,
    avDriftS: 0.02,
  };
  const cases: [string, Partial<ReceivedSummary>, string, RegExp][] = [
    ['video codec', { videoCodec: 'hevc' }, 'video codec', /rtmpush encodes H\.264/],
    ['resolution', { width: 2560, height: 1440 }, 'resolution', /choose a smaller --preset/],
    ['frame rate', { fps: 120 }, 'frame rate', /choose a preset at 30 or 60 fps/],
    ['no keyframes', { keyframeIntervalS: null }, 'keyframe interval', /stream longer, or check the source/],
    [
      'irregular keyframes',
      { keyframeIntervalS: { min: 1.2, max: 2, avg: 1.8 } },
      'keyframe regularity',
      /scene-cut keyframes are on/,
    ],
    [
      'average bitrate',
      { steadyKbps: 9600, peak1sKbps: 9800 },
      'average video bitrate',
      /average 9600 kbps: Facebook Live caps video at 9000 kbps/,
    ],
    ['peaks only', { peak1sKbps: 12_000 }, 'peak video bitrate (1 s)', /peaks of 12000 kbps/],
    ['audio codec', { audioCodec: 'mp3' }, 'audio codec', /must carry AAC audio/],
    ['audio channels', { audioChannels: 6 }, 'audio channels', /stereo or mono source/],
    ['A/V drift', { avDriftS: 0.8 }, 'A/V drift', /audio and video clocks disagree/],
  ];
  for (const [name, change, rule, fix] of cases) {
    it(name, async () => {
      const { platformChecks } = await import('../../src/rehearse/rules.js');
      const { findPlatform } = await import('../../src/platforms/table.js');
      const facebook = findPlatform('facebook')!;
      assert.deepEqual(
        platformChecks(good, facebook, {}).filter((c) => !c.ok),
        [],
        'the good summary passes',
      );
      const failed = platformChecks({ ...good, ...change }, facebook, {}).filter((c) => !c.ok);
      assert.deepEqual(
        failed.map((c) => c.rule),
        [rule],
      );
      assert.match(failed[0]!.fix!, fix);
    });
  }
});
