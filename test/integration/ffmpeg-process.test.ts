import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FfmpegProcess } from '../../src/encoder/ffmpeg-process.js';
import { tempDir } from '../helpers/tmp.js';

/** A stand-in for ffmpeg that behaves badly on purpose: a shell script. */
function script(name: string, body: string): string {
  const file = path.join(tempDir('encoder'), name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const start = (file: string) =>
  new FfmpegProcess(file, [], { onProgressLine: () => {}, onLogLine: () => {} }, { stdinIsSource: false, pipes: 0 });

describe('stopping the encoder: q, then SIGTERM, then SIGKILL', () => {
  it('an encoder that quits on q stops at once, cleanly', async () => {
    const proc = start(script('quits.sh', 'head -c 1 >/dev/null\nexit 0'));
    const t = Date.now();
    const exit = await proc.stop(3000);
    assert.deepEqual([exit.exitCode, exit.signal], [0, undefined]);
    assert.ok(Date.now() - t < 1000, `${Date.now() - t} ms`);
  });

  it('one that ignores q gets SIGTERM after the grace', async () => {
    const proc = start(script('deaf.sh', 'while :; do sleep 0.1; done'));
    const t = Date.now();
    const exit = await proc.stop(600);
    assert.equal(exit.signal, 'SIGTERM');
    const took = Date.now() - t;
    assert.ok(took >= 550 && took < 2000, `${took} ms`);
  });

  it('one that ignores q and SIGTERM gets SIGKILL 2 s later', async () => {
    const proc = start(script('stubborn.sh', "trap '' TERM INT\nwhile :; do sleep 0.1; done"));
    const t = Date.now();
    const exit = await proc.stop(600);
    assert.equal(exit.signal, 'SIGKILL');
    const took = Date.now() - t;
    assert.ok(took >= 2500 && took < 4000, `${took} ms`);
  });
});
