import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encoderReport, encoderReportText } from '../../src/doctor/encoders.js';
import { UsageError } from '../../src/errors.js';

describe('doctor: the encoders section', () => {
  it('one line per encoder: x264 always, each hardware one with ok or ffmpeg’s reason, and what auto takes', () => {
    const text = encoderReportText({
      ffmpeg: '/usr/bin/ffmpeg',
      encoders: [
        { name: 'x264', codec: 'libx264', ok: true },
        { name: 'nvenc', codec: 'h264_nvenc', ok: false, reason: 'Cannot load libcuda.so.1', ms: 120 },
        { name: 'vaapi', codec: 'h264_vaapi', ok: true, ms: 310 },
      ],
      auto: 'vaapi',
      cached: false,
    });
    assert.equal(
      text,
      'H.264 encoders with /usr/bin/ffmpeg:\n' +
        '  x264         ok    software (libx264), always available\n' +
        '  nvenc        fail  Cannot load libcuda.so.1\n' +
        '  vaapi        ok    works here (test encode 310 ms)\n' +
        '  --encoder auto uses vaapi here (probed now, kept a day)\n',
    );
  });

  it('no ffmpeg: says so instead of failing doctor', async () => {
    const report = await encoderReport({}, () => {
      throw new UsageError('ffmpeg not found: install it (sudo apt-get install -y ffmpeg (or pass --ffmpeg PATH))');
    });
    assert.deepEqual(report, {
      error: 'ffmpeg not found: install it (sudo apt-get install -y ffmpeg (or pass --ffmpeg PATH))',
      encoders: [],
      auto: 'x264',
      cached: false,
    });
    assert.match(encoderReportText(report), /^H\.264 encoders: ffmpeg not found/);
  });
});
