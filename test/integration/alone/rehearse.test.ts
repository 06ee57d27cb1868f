import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';

const ALL = 'youtube,twitch,facebook,kick,x,restream,trovo';
const failures = (events: Record<string, any>[], platform: string) =>
  events.find((e) => e.type === 'rehearsal' && e.platform === platform)!.checks.filter((c: { ok: boolean }) => !c.ok);

describe('start --rehearse: the planned pipeline into the embedded server, checked against each platform', () => {
  for (const preset of ['360p30', '480p30', '720p30', '720p60', '1080p30', '1080p60']) {
    it(`${preset} passes every built-in platform's rules (no keys needed, nothing sent to them)`, async () => {
      const r = await runCli(['start', '--rehearse', '--to', ALL, '--preset', preset, '--duration', '5s', '--json']);
      assert.equal(r.exitCode, 0, JSON.stringify(r.events.filter((e) => e.type === 'rehearsal' && !e.ok)));
      const rehearsals = r.events.filter((e) => e.type === 'rehearsal');
      assert.deepEqual(rehearsals.map((e) => e.platform).sort(), ALL.split(',').sort());
      assert.ok(rehearsals.every((e) => e.ok && e.checks.length >= 6));
      // X takes at most 128k audio: with a 160k preset it gets its own leg (the same video encoder)
      const start = r.events.find((e) => e.type === 'start')!;
      const legs = ['720p60', '1080p30', '1080p60'].includes(preset) ? ['local-e1', 'local-e2'] : ['local'];
      assert.deepEqual(start.destinations, legs);
      assert.equal(new Set(start.encodes.map((e: { width: number }) => e.width)).size, 1, 'one picture');
      const x = rehearsals.find((e) => e.platform === 'x')!;
      assert.equal(x.destination, legs.length === 2 ? 'local-e2' : undefined);
    });
  }

  it('--keyint 5 is flagged for Twitch with its fix, and only that', async () => {
    const r = await runCli([
      'start',
      '--rehearse',
      '--to',
      'twitch',
      '--preset',
      '360p30',
      '--keyint',
      '5',
      '--duration',
      '11s',
      '--json',
    ]);
    assert.equal(r.exitCode, 3);
    const f = failures(r.events, 'twitch');
    assert.deepEqual(
      f.map((c: { rule: string }) => c.rule),
      ['keyframe interval'],
    );
    assert.equal(f[0].fix, 'keyframe every 5.0 s: Twitch needs 2 s — remove --keyint 5');
  });

  it("a bitrate above Twitch's cap (kept by --allow-over-cap) is flagged", async () => {
    const r = await runCli([
      'start',
      '--rehearse',
      '--to',
      'twitch',
      '--preset',
      '360p30',
      '--video-bitrate',
      '8000k',
      '--allow-over-cap',
      '--duration',
      '6s',
      '--json',
    ]);
    assert.equal(r.exitCode, 3);
    const rules = failures(r.events, 'twitch').map((c: { rule: string }) => c.rule);
    assert.ok(rules.includes('average video bitrate'), rules.join());
    assert.ok(
      rules.every((x: string) => /video bitrate/.test(x)),
      rules.join(),
    );
    assert.match(failures(r.events, 'twitch')[0].fix, /Twitch caps video at 6000 kbps — drop --allow-over-cap/);
  });

  it('audio at 22.05 kHz instead of 48 kHz is flagged', async () => {
    const r = await runCli([
      'start',
      '--rehearse',
      '--to',
      'twitch,youtube',
      '--preset',
      '360p30',
      '--audio-rate',
      '22050',
      '--duration',
      '6s',
      '--json',
    ]);
    assert.equal(r.exitCode, 3);
    const f = failures(r.events, 'twitch');
    assert.deepEqual(
      f.map((c: { rule: string }) => c.rule),
      ['audio sample rate'],
    );
    assert.equal(f[0].fix, 'audio at 22050 Hz: Twitch accepts 44100 or 48000 Hz — remove --audio-rate 22050');
    // YouTube publishes no sample-rate rule: it passes
    assert.equal(r.events.find((e) => e.type === 'rehearsal' && e.platform === 'youtube')!.ok, true);
  });
});
