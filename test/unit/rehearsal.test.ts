import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rehearsalPlan } from '../../src/cli/rehearsal.js';
import { resolveDestinations } from '../../src/platforms/destinations.js';
import { buildPlan } from '../../src/plan/plan.js';
import { findPlatform } from '../../src/platforms/table.js';
import { findPreset, loadPresets } from '../../src/presets/load.js';
import { platformChecks } from '../../src/rehearse/rules.js';
import type { ReceivedSummary } from '../../src/probe/summary.js';

const entries = loadPresets();
const env = {
  RTMPUSH_YOUTUBE_KEY: 'ytkey1',
  RTMPUSH_TWITCH_KEY: 'twkey1',
  RTMPUSH_TIKTOK_URL: 'rtmp://t.example/live',
  RTMPUSH_TIKTOK_KEY: 'ttkey1',
};

describe('--rehearse with several encodes', () => {
  it('one local destination per encode, each checked against its own destinations’ platforms', () => {
    const plan = buildPlan({
      preset: findPreset(entries, '720p30'),
      presets: new Map(entries.map((e) => [e.preset.name, e.preset])),
      source: { kind: 'testsrc' },
      destinations: resolveDestinations(['youtube,twitch,tiktok@vertical-720p30'], { env, config: {} }),
    });
    const { plan: r, rehearse } = rehearsalPlan(plan, { to: [] }, env);
    assert.deepEqual(
      r.destinations.map((d) => [d.label, d.kind]),
      [
        ['local-e1', 'local'],
        ['local-e2', 'local'],
      ],
    );
    assert.deepEqual(
      r.encodes.map((e) => e.destinations),
      [['local-e1'], ['local-e2']],
    );
    assert.notEqual(r.destinations[0]!.key.reveal(), r.destinations[1]!.key.reveal());
    assert.deepEqual(
      Object.fromEntries(Object.entries(rehearse.platforms).map(([l, ps]) => [l, ps.map((p) => p.id)])),
      { 'local-e1': ['youtube', 'twitch'], 'local-e2': ['tiktok'] },
    );
    assert.equal(r.durationMs, 15_000);
  });

  it('a platform’s size limit holds a portrait recording turned: 1080x1920 passes Facebook’s 1920x1080', () => {
    const got: ReceivedSummary = {
      videoCodec: 'h264',
      audioCodec: 'aac',
      width: 1080,
      height: 1920,
      fps: 30,
      videoFrames: 300,
      durationS: 10,
      keyframeIntervalS: { min: 2, max: 2, avg: 2 },
      maxFrameGapS: 0.034,
      lostFrames: 0,
      videoKbps: 3000,
      audioSampleRate: 48000,
      audioChannels: 2,
      peak1sKbps: 3100,
      steadyKbps: 3000,
      avDriftS: 0,
    };
    const resolution = (w: number, h: number) =>
      platformChecks({ ...got, width: w, height: h }, findPlatform('facebook')!, {}).find(
        (c) => c.rule === 'resolution',
      )!;
    assert.equal(resolution(1080, 1920).ok, true);
    assert.equal(resolution(1920, 1080).ok, true);
    assert.equal(resolution(1440, 2560).ok, false);
    assert.equal(resolution(2560, 1440).ok, false);
  });

  it('keyframe regularity: a swap for the machine’s pace may end one group early, never make one longer', () => {
    const got = (min: number, max: number): ReceivedSummary => ({
      videoCodec: 'h264',
      audioCodec: 'aac',
      width: 1920,
      height: 1080,
      fps: 60,
      videoFrames: 600,
      durationS: 10,
      keyframeIntervalS: { min, max, avg: 1.9 },
      maxFrameGapS: 0.017,
      lostFrames: 0,
      videoKbps: 6000,
      audioSampleRate: 48000,
      audioChannels: 2,
      peak1sKbps: 6200,
      steadyKbps: 6000,
      avDriftS: 0,
    });
    const regular = (r: ReceivedSummary, swaps?: number) =>
      platformChecks(r, findPlatform('twitch')!, swaps === undefined ? {} : { swaps }).find(
        (c) => c.rule === 'keyframe regularity',
      )!;
    assert.equal(regular(got(0.2, 2)).ok, false, 'no swap: a short group is scene-cut keyframes');
    const swapped = regular(got(0.2, 2), 1);
    assert.equal(swapped.ok, true);
    assert.equal(swapped.actual, "1800 ms (the encoder was swapped 1× for this machine's pace)");
    assert.equal(regular(got(2, 2.5), 1).ok, false, 'a longer group is never a swap');
  });
});
