import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { isAvcHeader, isKeyframe, videoTags } from '../helpers/flv.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { childPids, commandOf, startCli } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

const KEYS = {
  KEY_A: 'reloadKeyAaa1',
  KEY_B: 'reloadKeyBbb2',
  KEY_C: 'reloadKeyCcc3',
  KEY_A2: 'reloadKeyAnew4',
  KEY_X: 'reloadKeyXxx5',
};
const ffmpegOf = (pid: number) => childPids(pid).find((p) => commandOf(p)[0]?.endsWith('ffmpeg'));

describe('SIGHUP: the config file read again, its destinations applied to the running stream', () => {
  const nginx = new NginxRtmp();
  const dir = tempDir('reload');
  const config = path.join(dir, 'show.json');
  const runtime = path.join(dir, 'run');
  const env = { ...KEYS, RTMPUSH_RUNTIME_DIR: runtime };
  let run: ReturnType<typeof startCli>;
  let ffmpeg: number | undefined;
  const writeConfig = (to: string[], a = 'KEY_A', extra: object = {}) => {
    const url = nginx.url('live', '').replace(/\/$/, '');
    const destinations = {
      a: { url, keyEnv: a },
      b: { url, keyEnv: 'KEY_B' },
      c: { url, keyEnv: 'KEY_C' },
      gone: { url, keyEnv: 'KEY_NOT_SET' },
    };
    writeFileSync(config, JSON.stringify({ destinations, defaults: { to, preset: '360p30', ...extra } }));
  };
  const status = async () => {
    const r = await runCli(['status', '--name', 'rl', '--json'], env);
    return JSON.parse(r.stdout) as { pid: number; destinations: { label: string; state: string }[] };
  };
  const labels = async () => (await status()).destinations.map((d) => `${d.label}:${d.state}`).sort();
  const nth = (type: string, n: number) => run.waitFor(() => run.events.filter((e) => e.type === type).length >= n);
  const hup = async (type: 'reload' | 'error', n: number) => {
    run.proc.kill('SIGHUP');
    await nth(type, n);
    return run.events.filter((e) => e.type === type)[n - 1]!;
  };

  before(async () => {
    await nginx.start();
    writeConfig(['a', 'b']);
    run = startCli(
      ['start', '--config', config, '--json', '--name', 'rl', '--duration', '90s', '--uplink', 'off'],
      env,
    );
    for (const l of ['a', 'b'])
      await run.waitFor((e) => e.type === 'state' && e.destination === l && e.state === 'live');
    ffmpeg = ffmpegOf(run.proc.pid!);
    // one the operator added through the socket: no config names it, a reload keeps it
    const added = await runCli(['add', `x=${nginx.url('live', KEYS.KEY_X)}`, '--name', 'rl'], env);
    assert.equal(added.exitCode, 0, added.stderr);
    await run.waitFor((e) => e.type === 'state' && e.destination === 'x' && e.state === 'live');
  });
  after(async () => {
    run.proc.kill('SIGKILL');
    await run.proc;
    await nginx.dispose();
  });

  it('one added and one removed: the others untouched, the same encoder, the added one from a keyframe', async () => {
    writeConfig(['a', 'c']);
    const reload = await hup('reload', 1);
    assert.deepEqual([reload.added, reload.removed, reload.replaced], [['c'], ['b'], []]);
    await run.waitFor((e) => e.type === 'state' && e.destination === 'c' && e.state === 'live');
    assert.ok(
      run.events.some((e) => e.type === 'state' && e.destination === 'b' && e.state === 'stopped'),
      'b unpublished',
    );
    assert.deepEqual(await labels(), ['a:live', 'c:live', 'x:live']);
    assert.equal(ffmpegOf(run.proc.pid!), ffmpeg, 'the encoder was not restarted');
    const aStates = run.events.filter((e) => e.type === 'state' && e.destination === 'a').map((e) => e.state);
    assert.deepEqual(aStates, ['connecting', 'live'], 'a never left live');
    const tags = videoTags(nginx.recording(KEYS.KEY_C));
    assert.ok(isAvcHeader(tags[0]!) && isKeyframe(tags[1]!), 'c: the AVC header, then a keyframe');
  });

  it('a new key: unpublished, published again with it; an encode change waits, with a warning', async () => {
    writeConfig(['a', 'c'], 'KEY_A2', { preset: '720p30' });
    const reload = await hup('reload', 2);
    assert.deepEqual([reload.added, reload.removed, reload.replaced], [[], [], ['a']]);
    const aLive = () => run.events.filter((e) => e.type === 'state' && e.destination === 'a' && e.state === 'live');
    await run.waitFor(() => aLive().length === 2);
    assert.deepEqual(await labels(), ['a:live', 'c:live', 'x:live']);
    const tags = videoTags(nginx.recording(KEYS.KEY_A2));
    assert.ok(isAvcHeader(tags[0]!) && isKeyframe(tags[1]!), 'a on its new key: the AVC header, then a keyframe');
    const warning = run.events.find((e) => e.type === 'warning' && /the encode would be 720p30/.test(e.message));
    assert.ok(warning, 'the preset change is reported');
    assert.match(warning.message, /it stays 360p30 .* until the next start/);
    assert.equal(ffmpegOf(run.proc.pid!), ffmpeg, 'the encoder was not restarted');
  });

  it('a config that does not validate changes nothing: an error event saying why', async () => {
    writeFileSync(config, '{"defaults": {"to": ["a",');
    const broken = await hup('error', 1);
    assert.equal(broken.code, 'reload-failed');
    assert.match(broken.message, /^reload: .*JSON.*; nothing was changed$/);
    writeConfig(['a', 'gone']);
    const missing = await hup('error', 2);
    assert.match(missing.message, /KEY_NOT_SET/);
    writeConfig(['local']);
    const local = await hup('error', 3);
    assert.match(local.message, /local cannot be added to a running stream/);
    assert.deepEqual(await labels(), ['a:live', 'c:live', 'x:live']);
    assert.equal(run.events.filter((e) => e.type === 'reload').length, 2, 'no reload was reported as applied');
  });

  it('the summary tells of the removed one; no key in anything printed', async () => {
    const stop = await runCli(['stop', '--name', 'rl'], env);
    assert.equal(stop.exitCode, 0, stop.stderr);
    await run.proc;
    const summary = run.events.at(-1)!;
    assert.equal(summary.type, 'summary');
    assert.equal(summary.exitCode, 0);
    assert.deepEqual(summary.destinations.b, {
      finalState: 'stopped',
      liveMs: summary.destinations.b.liveMs,
      reconnects: 0,
      reason: 'removed',
    });
    for (const l of ['a', 'c', 'x']) assert.equal(summary.destinations[l].finalState, 'stopped');
    const printed = JSON.stringify(run.events);
    for (const key of Object.values(KEYS)) assert.ok(!printed.includes(key), `${key} printed`);
  });
});
