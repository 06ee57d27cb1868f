import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childPids, commandOf, isRunning, startCli } from '../helpers/spawn.js';

const ffmpegChild = (pid: number): number | undefined => childPids(pid).find((c) => commandOf(c)[0]?.endsWith('ffmpeg'));

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
