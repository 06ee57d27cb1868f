import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { aacSilence } from '../../src/rtmp/aac.js';
import { MSG } from '../../src/rtmp/message.js';
import { FLV_HEADER, flvTag } from '../helpers/publisher.js';

describe('aacSilence: a frame of AAC-LC silence for a stream, from its sequence header', () => {
  const cases: [string, number[], string | undefined][] = [
    // FLV sound byte, packet type 0, AudioSpecificConfig
    ['LC, 48 kHz, stereo (what ffmpeg and OBS send)', [0xaf, 0, 0x11, 0x90], 'af01210049900219002380'],
    ['LC, 44.1 kHz, mono', [0xaf, 0, 0x12, 0x08], 'af0101402007'],
    ['HE-AAC (object type 5): not made', [0xaf, 0, 0x2b, 0x92], undefined],
    ['5.1 channels: not made', [0xaf, 0, 0x11, 0xb0], undefined],
    ['an explicit sampling rate (index 15): not made', [0xaf, 0, 0x17, 0x80, 0, 0, 0x10], undefined],
    ['a frame, not a header', [0xaf, 1, 0x21, 0x00], undefined],
    ['too short', [0xaf, 0, 0x11], undefined],
  ];
  for (const [what, header, want] of cases)
    it(what, () => assert.equal(aacSilence(Buffer.from(header))?.toString('hex'), want));
});

describe('the frames of silence decode to silence (ffmpeg’s own AAC decoder)', {
  skip: spawnSync('ffmpeg', ['-version']).status === 0 ? false : 'no ffmpeg here',
}, () => {
  for (const [what, header] of [
    ['48 kHz stereo', [0xaf, 0, 0x11, 0x90]],
    ['44.1 kHz mono', [0xae, 0, 0x12, 0x08]],
  ] as const) {
    it(what, () => {
      const config = Buffer.from(header);
      const frame = aacSilence(config)!;
      const tags = [flvTag(MSG.Audio, 0, config)];
      for (let i = 0; i < 20; i++) tags.push(flvTag(MSG.Audio, i * 21, frame));
      const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'flv', '-i', 'pipe:0', '-f', 's16le', '-'], {
        input: Buffer.concat([FLV_HEADER, ...tags]),
      });
      assert.equal(r.stderr.toString(), '', 'no decode error');
      assert.ok(r.stdout.length >= 20 * 1024 * 2, `${r.stdout.length} bytes decoded`);
      assert.ok(
        r.stdout.every((b) => b === 0),
        'every sample 0',
      );
    });
  }
});
