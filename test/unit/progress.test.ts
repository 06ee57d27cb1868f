import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressParser } from '../../src/ffmpeg/progress.js';

const block = (fields: Record<string, string>, end = 'continue'): string[] => [
  ...Object.entries(fields).map(([k, v]) => `${k}=${v}`),
  `progress=${end}`,
];

describe('ProgressParser', () => {
  it('emits one snapshot per block, with numbers', () => {
    const p = new ProgressParser();
    const lines = block({
      frame: '180',
      fps: '29.97',
      bitrate: ' 834.2kbits/s',
      total_size: '123456',
      out_time_us: '6016000',
      out_time_ms: '6016000',
      dup_frames: '1',
      drop_frames: '2',
      speed: '0.999x',
    });
    const out = lines.map((l) => p.push(l)).filter(Boolean);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0], {
      frame: 180,
      fps: 29.97,
      bitrateKbps: 834.2,
      totalSize: 123456,
      outTimeMs: 6016,
      dupFrames: 1,
      droppedFrames: 2,
      speed: 0.999,
      done: false,
    });
  });

  it('N/A values become null; end marks done; negative out_time clamps to 0', () => {
    const p = new ProgressParser();
    const out = block(
      { frame: '0', fps: '0.00', bitrate: 'N/A', total_size: 'N/A', out_time_us: '-9223372036854775807', speed: 'N/A' },
      'end',
    )
      .map((l) => p.push(l))
      .filter(Boolean);
    assert.deepEqual(out[0], {
      frame: 0,
      fps: 0,
      bitrateKbps: null,
      totalSize: null,
      outTimeMs: 0,
      dupFrames: 0,
      droppedFrames: 0,
      speed: null,
      done: true,
    });
  });

  it('ignores junk and keeps blocks apart', () => {
    const p = new ProgressParser();
    const out = [...block({ frame: '1' }), 'garbage', ...block({ frame: '2' })].map((l) => p.push(l)).filter(Boolean);
    assert.deepEqual(
      out.map((o) => o!.frame),
      [1, 2],
    );
  });
});
