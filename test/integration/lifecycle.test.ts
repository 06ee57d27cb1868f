import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { videoTags } from '../helpers/flv.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { probe } from '../helpers/probe.js';
import { childPids, commandOf, isRunning, startCli } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

const ffmpegChild = (pid: number): number | undefined =>
  childPids(pid).find((c) => commandOf(c)[0]?.endsWith('ffmpeg'));

describe('stopping', () => {
  it('SIGTERM stops gracefully: destinations stopped, what arrived reported, exit 0', async () => {
    const run = startCli(['start', '--to', 'local', '--preset', '360p30', '--json']);
    await run.waitFor((e) => e.type === 'state' && e.state === 'live');
    const ffmpeg = ffmpegChild(run.proc.pid!);
    assert.ok(ffmpeg, 'ffmpeg is a child of rtmpush');
    run.proc.kill('SIGTERM');
    const r = await run.proc;
    assert.equal(r.exitCode, 0);
    assert.equal(run.events.at(-1)?.type, 'summary');
    assert.equal(run.events.at(-1)?.destinations.local.finalState, 'stopped');
    assert.ok(run.events.some((e) => e.type === 'received' && e.summary.videoFrames > 0));
    assert.equal(isRunning(ffmpeg), false);
  });

  it('when rtmpush is killed with SIGKILL, ffmpeg dies with it', async () => {
    const run = startCli(['start', '--to', 'local', '--preset', '360p30', '--json']);
    await run.waitFor((e) => e.type === 'state' && e.state === 'live');
    const ffmpeg = ffmpegChild(run.proc.pid!);
    assert.ok(ffmpeg && isRunning(ffmpeg));
    run.proc.kill('SIGKILL');
    await run.proc;
    const deadline = Date.now() + 3000;
    while (isRunning(ffmpeg) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(isRunning(ffmpeg), false, 'ffmpeg outlived rtmpush');
  });
});

describe('the encoder watchdog', () => {
  it('restarts a stalled ffmpeg; the destination keeps going on the same connection', async () => {
    const nginx = new NginxRtmp();
    await nginx.start();
    try {
      const env = { RTMPUSH_RUNTIME_DIR: path.join(tempDir('watchdog'), 'run') };
      const run = startCli(
        [
          ...['start', '--to', `w=${nginx.url('live', 'watchKey4321')}`, '--preset', '360p30', '--name', 'watch'],
          ...['--duration', '20s', '--watchdog', '3s', '--json'],
        ],
        env,
      );
      await run.waitFor((e) => e.type === 'state' && e.state === 'live');
      await new Promise((r) => setTimeout(r, 2000));
      const first = ffmpegChild(run.proc.pid!)!;
      process.kill(first, 'SIGSTOP');
      await run.waitFor((e) => e.type === 'warning' && /no progress for 3 s: restarting it/.test(e.message), 10_000);
      const deadline = Date.now() + 5000;
      let second: number | undefined;
      while (Date.now() < deadline && !(second && second !== first)) {
        second = ffmpegChild(run.proc.pid!);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(second && second !== first, 'a new ffmpeg runs');
      assert.equal(isRunning(first), false, 'the stalled one is gone');
      // counted as what it was: one restart, no slate, no swap
      const status = JSON.parse((await runCli(['status', '--name', 'watch', '--json'], env)).stdout);
      assert.deepEqual([status.encoder.restarts, status.encoder.slates, status.encoder.swaps], [1, 0, 0]);
      const r = await run.proc;
      assert.equal(r.exitCode, 0);
      const w = run.events.filter((e) => e.type === 'state' && e.destination === 'w').map((e) => e.state);
      assert.deepEqual(w, ['connecting', 'live', 'stopped'], 'the destination never dropped');
      const got = await probe(nginx.recording('watchKey4321'));
      assert.ok(got.videoFrames >= 12 * 30, `frames ${got.videoFrames}`);
      assert.ok(got.maxFrameGapS < 8, `gap ${got.maxFrameGapS} s`);
      // in file order: every video timestamp after the one before (the new encoder's clock starts at 0; its first
      // keyframe goes one frame after the last frame sent, and the destination's timeline goes on)
      const tags = videoTags(nginx.recording('watchKey4321'));
      // every tag, the new encoder's codec header included, at or after the one before: never back
      for (let i = 1; i < tags.length; i++)
        assert.ok(tags[i]!.timestamp >= tags[i - 1]!.timestamp, `tag ${i} goes back`);
      // frames (AVC packet type 1; not headers, nor the end-of-sequence tag at the last frame's time): a frame apart
      const video = tags.filter((t) => t.data[1] === 1);
      for (let i = 1; i < video.length; i++) {
        const step = video[i]!.timestamp - video[i - 1]!.timestamp;
        assert.ok(step >= 33 && step <= 34, `tag ${i}: ${video[i - 1]!.timestamp} → ${video[i]!.timestamp} ms`);
      }
    } finally {
      await nginx.dispose();
    }
  });
});

describe('the encoder watchdog without --duration', () => {
  it('a restarted encoder keeps streaming until stopped (no duration is invented)', async () => {
    const nginx = new NginxRtmp();
    await nginx.start();
    try {
      const run = startCli([
        'start',
        '--to',
        `w=${nginx.url('live', 'watchKey8765')}`,
        '--preset',
        '360p30',
        '--watchdog',
        '3s',
        '--json',
      ]);
      await run.waitFor((e) => e.type === 'state' && e.state === 'live');
      const first = ffmpegChild(run.proc.pid!)!;
      process.kill(first, 'SIGSTOP');
      await run.waitFor((e) => e.type === 'warning' && /restarting it/.test(e.message), 10_000);
      await new Promise((r) => setTimeout(r, 6000));
      const second = ffmpegChild(run.proc.pid!);
      assert.ok(
        second && second !== first && isRunning(second),
        'the new encoder is still running 6 s after the restart',
      );
      const lastStats = run.events.filter((e) => e.type === 'stats').at(-1)!;
      assert.ok(Date.now() - Date.parse(lastStats.time) < 2000, 'and still reporting progress');
      run.proc.kill('SIGTERM');
      const r = await run.proc;
      assert.equal(r.exitCode, 0);
    } finally {
      await nginx.dispose();
    }
  });
});
