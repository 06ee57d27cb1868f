import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { BIN, ISOLATED, ROOT } from '../helpers/cli.js';
import { probe } from '../helpers/probe.js';
import { childPids, startCli } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

const events = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('--record when the disk fills up', () => {
  it(
    'the failure is reported at once with its cause, ' + 'the stream goes on, what was written is kept, exit 3',
    async () => {
      const dir = path.join(tempDir('record-full'), 'small');
      mkdirSync(dir);
      const file = path.join(dir, 'archive.mkv');
      // a 400 KB disk of its own, in a mount namespace of the run's own
      const script =
        `mount -t tmpfs -o size=400k tmpfs '${dir}' && exec node '${BIN}' ` +
        `start --to local --preset 360p30 --duration 8s --json --record '${file}' --uplink off --name full`;
      const r = await execa('unshare', ['--mount', 'sh', '-c', script], {
        env: { ...process.env, ...ISOLATED, RTMPUSH_RUNTIME_DIR: tempDir('record-full-run') },
        cwd: ROOT,
        reject: false,
        timeout: 60_000,
        stdin: 'ignore',
      });
      const got = events(String(r.stdout));
      const failed = got.find((e) => e.type === 'error' && e.code === 'record-failed');
      assert.ok(failed, String(r.stdout).slice(0, 2000) + String(r.stderr));
      assert.match(
        failed.message,
        new RegExp(
          /recording to .*archive\.mkv failed: the disk is full \(ENOSPC\): /.source +
            /what was recorded up to now is kept in .*archive\.mkv; the stream goes on/.source,
        ),
      );
      const start = Date.parse(got.find((e) => e.type === 'start')!.time);
      assert.ok(Date.parse(failed.time) - start < 6000, 'reported when it happened, not at the end');
      const summary = got.at(-1)!;
      assert.equal(summary.type, 'summary');
      assert.equal(summary.exitCode, 3);
      assert.equal(r.exitCode, 3);
      assert.match(summary.record.failed, /ENOSPC/);
      assert.equal(summary.destinations.local.finalState, 'stopped', 'the stream went on to the end');
    },
  );
});

describe('--record across an encoder restart', () => {
  it('the restarted encoder records into a new numbered file: nothing recorded before is lost', async () => {
    const dir = tempDir('record-restart');
    const file = path.join(dir, 'show.mkv');
    const run = startCli([
      'start',
      '--to',
      'local',
      '--preset',
      '360p30',
      '--duration',
      '16s',
      '--watchdog',
      '3s',
      '--json',
      '--record',
      file,
      '--uplink',
      'off',
    ]);
    await run.waitFor((e) => e.type === 'state' && e.state === 'live');
    await new Promise((r) => setTimeout(r, 3000));
    const [ffmpeg] = childPids(run.proc.pid!);
    process.kill(ffmpeg!, 'SIGSTOP');
    const next = await run.waitFor((e) => e.type === 'warning' && /the recording goes on in/.test(e.message), 12_000);
    assert.match(next.message, /show-2\.mkv/);
    const r = await run.proc;
    assert.equal(r.exitCode, 0);
    const second = path.join(dir, 'show-2.mkv');
    assert.ok(existsSync(second));
    const [a, b] = [await probe(file), await probe(second)];
    assert.ok(a.videoFrames >= 3 * 30, `the first file kept ${a.videoFrames} frames`);
    assert.ok(b.videoFrames >= 4 * 30, `the second file has ${b.videoFrames} frames`);
    assert.ok(statSync(file).size > 50_000);
    assert.deepEqual(run.events.at(-1)!.record, { files: [file, second] });
  });
});
