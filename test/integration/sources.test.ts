import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { runCli } from '../helpers/cli.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { probe } from '../helpers/probe.js';
import { childPids, commandOf, startCli } from '../helpers/spawn.js';

describe('sources and the record leg, against nginx-rtmp', () => {
  const nginx = new NginxRtmp();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-src-'));
  const clip = path.join(dir, 'clip.mp4');
  const silent = path.join(dir, 'silent.mkv');
  const piped = path.join(dir, 'piped.ts');

  before(async () => {
    await nginx.start();
    // a 3 s clip with sound and a 3 s clip without, made here
    await execa('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=300',
      '-t',
      '3',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-c:a',
      'aac',
      '-shortest',
      clip,
    ]);
    await execa('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-t',
      '3',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      silent,
    ]);
    // what one pipes into stdin: a streamable container (MPEG-TS)
    await execa('ffmpeg', ['-v', 'error', '-i', clip, '-c', 'copy', '-f', 'mpegts', piped]);
  });
  after(async () => {
    await nginx.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'a looped file plays for the whole duration, ' + 'scaled to the preset, and --record keeps a Matroska copy',
    async () => {
      const record = path.join(dir, 'archive.mkv');
      const r = await runCli([
        'start',
        '--to',
        `a=${nginx.url('live', 'loopKey1234')}`,
        '--source',
        clip,
        '--loop',
        '--preset',
        '360p30',
        '--duration',
        '8s',
        '--record',
        record,
        '--json',
      ]);
      assert.equal(r.exitCode, 0, r.stderr);
      const got = await probe(nginx.recording('loopKey1234'));
      assert.deepEqual([got.width, got.height, got.audioCodec], [640, 360, 'aac']);
      assert.ok(got.videoFrames >= 7 * 30, `looped: ${got.videoFrames} frames`);
      const archived = await probe(record);
      assert.equal(archived.videoCodec, 'h264');
      assert.equal(archived.audioCodec, 'aac');
      assert.ok(
        Math.abs(archived.videoFrames - got.videoFrames) <= 30,
        `archive ${archived.videoFrames} vs sent ${got.videoFrames}`,
      );
    },
  );

  it('a file without audio gets a silent track (platforms need both)', async () => {
    const r = await runCli([
      'start',
      '--to',
      `a=${nginx.url('live', 'silentKey1234')}`,
      '--source',
      silent,
      '--preset',
      '360p30',
      '--json',
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    const got = await probe(nginx.recording('silentKey1234'));
    assert.equal(got.audioCodec, 'aac');
    assert.ok(got.videoFrames >= 2.5 * 30, `frames ${got.videoFrames}`);
  });

  it('a URL source is restreamed: what one server receives goes to another destination', async () => {
    // the upstream feed: a plain ffmpeg publishing to nginx; rtmpush pulls it and pushes it on
    const feed = execa(
      'ffmpeg',
      [
        '-v',
        'error',
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        clip,
        '-c',
        'copy',
        '-f',
        'flv',
        nginx.url('live', 'feedKey1'),
      ],
      { reject: false, stdin: 'ignore' },
    );
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const run = startCli([
        'start',
        '--to',
        `out=${nginx.url('live', 'restreamKey1')}`,
        '--source',
        nginx.url('live', 'feedKey1'),
        '--preset',
        '360p30',
        '--duration',
        '6s',
        '--json',
      ]);
      await run.waitFor((e) => e.type === 'state' && e.state === 'live');
      // the source's stream name is a credential too: not in ffmpeg's command line, which every local user can read
      const argv = commandOf(childPids(run.proc.pid!)[0]!);
      assert.ok(argv.length > 10 && !argv.some((a) => a.includes('feedKey1')), argv.join(' '));
      assert.equal(argv[argv.indexOf('concat') + 4], 'pipe:4', 'ffmpeg reads the URL from a pipe: nothing on disk');
      const r = await run.proc;
      assert.equal(r.exitCode, 0);
      const got = await probe(nginx.recording('restreamKey1'));
      assert.deepEqual([got.videoCodec, got.width, got.height], ['h264', 640, 360]);
      assert.ok(got.videoFrames >= 4 * 30, `frames ${got.videoFrames}`);
      const printed = run.events.map((e) => JSON.stringify(e)).join('');
      assert.ok(!printed.includes('feedKey1') && !printed.includes('restreamKey1'));
    } finally {
      feed.kill('SIGKILL');
      await feed;
    }
  });

  it('stdin (-) is read as a stream', async () => {
    const r = await runCli(
      ['start', '--to', `a=${nginx.url('live', 'stdinKey1234')}`, '--source', '-', '--preset', '360p30', '--json'],
      {},
      { input: readFileSync(piped) },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const got = await probe(nginx.recording('stdinKey1234'));
    assert.equal(got.videoCodec, 'h264');
    assert.ok(got.videoFrames >= 2.5 * 30, `frames ${got.videoFrames}`);
  });
});
