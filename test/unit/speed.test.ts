import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { measureSpeed, speedText } from '../../src/doctor/speed.js';
import { resolveDestinations } from '../../src/platforms/destinations.js';
import { buildPlan } from '../../src/plan/plan.js';
import { findPreset, loadPresets } from '../../src/presets/load.js';
import { tempDir } from '../helpers/tmp.js';

const entries = loadPresets();
const presets = entries.map((e) => e.preset);

/**
 * A stand-in ffmpeg whose encode speed is made on purpose: it makes 2 s of stream ("out_time_us") in about 0.2 s
 * when the x264 speed or the picture size is one that `fast` names, and 0.05 s otherwise.
 */
function fakeFfmpeg(fast: string[]): string {
  const file = path.join(tempDir('speed'), 'ffmpeg');
  const cases = fast.map((f) => `*"${f}"*) out=2000000;;`).join('\n  ');
  writeFileSync(
    file,
    `#!/bin/sh\nargs="$*"\nout=50000\ncase "$args" in\n  ${cases}\nesac\nsleep 0.2\n` +
      'printf "frame=10\\nout_time_us=%s\\nprogress=end\\n" "$out"\n',
  );
  chmodSync(file, 0o755);
  return file;
}

const encodes = (to: string, preset = '1080p30') =>
  buildPlan({
    preset: findPreset(entries, preset),
    presets: new Map(entries.map((e) => [e.preset.name, e.preset])),
    source: { kind: 'testsrc' },
    destinations: resolveDestinations([to], { env: {}, config: {} }),
  }).encodes;

describe('measureSpeed: whether this machine carries the encodes, and what would', () => {
  it('the plan fits: one trial, said so', async () => {
    const r = await measureSpeed(fakeFfmpeg(['veryfast']), encodes('local'), presets);
    assert.equal(r.trials.length, 1);
    assert.equal(r.planned.fits, true);
    assert.ok(r.planned.speed! > 5, `speed ${r.planned.speed}`);
    assert.match(speedText(r), /^encoding here: 1920x1080@30, x264 veryfast: \d+\.\d\d× real time — fits$/);
  });

  it('too slow: x264 one speed faster at a time until one fits, named with how to get it', async () => {
    const r = await measureSpeed(fakeFfmpeg(['ultrafast']), encodes('local'), presets);
    assert.deepEqual(
      r.trials.map((t) => [t.what, t.fits]),
      [
        ['1920x1080@30, x264 veryfast', false],
        ['1920x1080@30, x264 superfast', false],
        ['1920x1080@30, x264 ultrafast', true],
      ],
    );
    assert.ok(r.planned.speed! < 0.5, `speed ${r.planned.speed}`);
    assert.ok(
      speedText(r).includes(
        'too slow for this machine (needs 1.15×)\n  → x264 ultrafast fits: a preset of your own with "x264": ' +
          '{"preset": "ultrafast"}',
      ),
      speedText(r),
    );
  });

  it('no x264 speed fits: the next smaller preset of the same shape that does', async () => {
    const r = await measureSpeed(fakeFfmpeg(['size=1280x720']), encodes('local'), presets);
    assert.equal(r.fits?.advice, '--preset 720p30 fits');
    // never a higher frame rate than the plan's (720p60 is not tried for a 30 fps stream)
    assert.deepEqual(
      r.trials.slice(3).map((t) => [t.what, t.fits]),
      [['1280x720@30, x264 veryfast', true]],
    );
    // a vertical encode is stepped down to vertical presets only
    const v = await measureSpeed(fakeFfmpeg(['size=720x1280']), encodes('local', 'vertical-1080p30'), presets);
    assert.equal(v.fits?.advice, '--preset vertical-720p30 fits');
  });

  it('nothing fits: said, with what was tried', async () => {
    const r = await measureSpeed(fakeFfmpeg([]), encodes('local', '720p30'), presets);
    assert.equal(r.fits, undefined);
    assert.match(speedText(r), /→ nothing tried fits \(down to x264 ultrafast and the smallest preset\)/);
    assert.ok(r.trials.length >= 4);
  });
});
