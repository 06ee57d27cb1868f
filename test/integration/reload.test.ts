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
  KEY_DEAD: 'reloadKeyDead6',
};
const ffmpegOf = (pid: number) => childPids(pid).find((p) => commandOf(p)[0]?.endsWith('ffmpeg'));

describe('reload (SIGHUP, rtmpush reload): the config file read again, its destinations applied while live', () => {
  const nginx = new NginxRtmp();
  const dir = tempDir('reload');
  const config = path.join(dir, 'show.json');
  const runtime = path.join(dir, 'run');
  const env = { ...KEYS, RTMPUSH_RUNTIME_DIR: runtime };
  const printed: string[] = [];
  let run: ReturnType<typeof startCli>;
  let ffmpeg: number | undefined;
  const writeConfig = (to: string[], a = 'KEY_A', extra: object = {}) => {
    const url = nginx.url('live', '').replace(/\/$/, '');
    const destinations = {
      a: { url, keyEnv: a },
      b: { url, keyEnv: 'KEY_B' },
      c: { url, keyEnv: 'KEY_C' },
      // nothing listens on port 1: it never goes live (a port from freePort could be taken by another test's server)
      dead: { url: 'rtmp://127.0.0.1:1/live', keyEnv: 'KEY_DEAD' },
      unset: { url, keyEnv: 'KEY_NOT_SET' },
    };
    writeFileSync(config, JSON.stringify({ destinations, defaults: { to, preset: '360p30', ...extra } }));
  };
  const client = async (...args: string[]) => {
    const r = await runCli([...args, '--name', 'rl'], env);
    printed.push(r.stdout, r.stderr);
    return r;
  };
  const labels = async () => {
    const s = JSON.parse((await client('status', '--json')).stdout) as { destinations: Record<string, string>[] };
    return s.destinations.map((d) => `${d.label}:${d.state}`).sort();
  };
  const states = (label: string) =>
    run.events.filter((e) => e.type === 'state' && e.destination === label).map((e) => e.state);
  const count = (type: string) => run.events.filter((e) => e.type === type).length;
  const hup = async (type: 'reload' | 'error') => {
    const n = count(type) + 1;
    run.proc.kill('SIGHUP');
    await run.waitFor(() => count(type) >= n);
    return run.events.filter((e) => e.type === type)[n - 1]!;
  };

  before(async () => {
    await nginx.start();
    writeConfig(['a', 'b']);
    // as a service runs: no controlling terminal (there SIGHUP would mean the terminal was closed)
    run = startCli(
      ['start', '--config', config, '--json', '--name', 'rl', '--duration', '300s', '--uplink', 'off'],
      env,
      { detached: true },
    );
    for (const l of ['a', 'b'])
      await run.waitFor((e) => e.type === 'state' && e.destination === l && e.state === 'live');
    ffmpeg = ffmpegOf(run.proc.pid!);
    // one the operator added through the socket: no config names it, a reload keeps it
    const added = await client('add', `x=${nginx.url('live', KEYS.KEY_X)}`);
    assert.equal(added.exitCode, 0, added.stderr);
    await run.waitFor((e) => e.type === 'state' && e.destination === 'x' && e.state === 'live');
  });
  after(async () => {
    run.proc.kill('SIGKILL');
    await run.proc;
    await nginx.dispose();
  });

  it('SIGHUP: added and removed, the others untouched, the same encoder, the added one from a keyframe', async () => {
    writeConfig(['a', 'c', 'dead']);
    const reload = await hup('reload');
    assert.deepEqual([reload.added, reload.removed, reload.replaced], [['c', 'dead'], ['b'], []]);
    await run.waitFor((e) => e.type === 'state' && e.destination === 'c' && e.state === 'live');
    await run.waitFor((e) => e.type === 'state' && e.destination === 'dead' && e.state === 'reconnecting');
    assert.deepEqual(states('b'), ['connecting', 'live', 'stopped'], 'b unpublished');
    assert.deepEqual(await labels(), ['a:live', 'c:live', 'dead:reconnecting', 'x:live']);
    assert.equal(ffmpegOf(run.proc.pid!), ffmpeg, 'the encoder was not restarted');
    assert.deepEqual(states('a'), ['connecting', 'live'], 'a never left live');
    const tags = videoTags(nginx.recording(KEYS.KEY_C));
    assert.ok(isAvcHeader(tags[0]!) && isKeyframe(tags[1]!), 'c: the AVC header, then a keyframe');
  });

  it('a new key: unpublished, published again with it; an encode change waits, with a warning', async () => {
    writeConfig(['a', 'c'], 'KEY_A2', { preset: '720p30' });
    const reload = await hup('reload');
    assert.deepEqual([reload.added, reload.removed, reload.replaced], [[], ['dead'], ['a']]);
    await run.waitFor(() => states('a').filter((s) => s === 'live').length === 2);
    assert.deepEqual(await labels(), ['a:live', 'c:live', 'x:live']);
    const tags = videoTags(nginx.recording(KEYS.KEY_A2));
    assert.ok(isAvcHeader(tags[0]!) && isKeyframe(tags[1]!), 'a on its new key: the AVC header, then a keyframe');
    const warning = run.events.find((e) => e.type === 'warning' && /this config would encode 720p30/.test(e.message));
    assert.ok(warning, 'the preset change is reported');
    assert.match(warning.message, /the stream goes on with 360p30 .* until the next start/);
    assert.equal(ffmpegOf(run.proc.pid!), ffmpeg, 'the encoder was not restarted');
  });

  it('rtmpush reload: what changed in one line; one the operator removed stays removed', async () => {
    assert.equal((await client('remove', 'c')).exitCode, 0);
    const same = await client('reload');
    assert.equal(same.exitCode, 0, same.stderr);
    assert.equal(same.stdout, 'config reloaded: no destination changed');
    writeConfig(['a', 'c', 'b'], 'KEY_A2', { preset: '720p30' });
    const json = await client('reload', '--json');
    assert.deepEqual(JSON.parse(json.stdout), { added: ['b'], removed: [], replaced: [] });
    // its second `live` (the first was before it was removed): waiting on the event itself could find the first
    await run.waitFor(() => states('b').filter((s) => s === 'live').length === 2);
    assert.deepEqual(await labels(), ['a:live', 'b:live', 'x:live']);
  });

  it('a config that does not validate changes nothing: an error event, or exit 2 with one line', async () => {
    writeFileSync(config, `{"defaults": {"to": [${KEYS.KEY_A}],`);
    const broken = await hup('error');
    assert.equal(broken.code, 'reload-failed');
    assert.match(broken.message, /^reload: .*not valid JSON \(at line 1, column 22\).*; nothing was changed$/);
    writeConfig(['a', 'unset']);
    assert.match((await hup('error')).message, /KEY_NOT_SET/);
    writeConfig(['local']);
    const local = await client('reload');
    assert.equal(local.exitCode, 2);
    assert.equal(local.stderr, 'rtmpush: reload: local cannot be added to a running stream; nothing was changed');
    assert.deepEqual(await labels(), ['a:live', 'b:live', 'x:live']);
  });

  it('the summary: removed ones stopped whatever their state (exit 0); no key in anything printed', async () => {
    const stop = await client('stop');
    assert.equal(stop.exitCode, 0, stop.stderr);
    assert.equal(stop.stdout, 'stopping');
    await run.proc;
    const summary = run.events.at(-1)!;
    assert.equal(summary.type, 'summary');
    assert.equal(summary.exitCode, 0);
    assert.deepEqual(summary.destinations.dead, { finalState: 'stopped', liveMs: 0, reconnects: 0, reason: 'removed' });
    assert.equal(summary.destinations.c.reason, 'removed');
    for (const l of ['a', 'b', 'x']) assert.equal(summary.destinations[l].finalState, 'stopped');
    // x, added through the API, lived through every reload
    assert.deepEqual(states('x'), ['connecting', 'live', 'stopped']);
    const xLive = Date.parse(run.events.find((e) => e.destination === 'x' && e.state === 'live')!.time);
    const xStopped = Date.parse(run.events.find((e) => e.destination === 'x' && e.state === 'stopped')!.time);
    assert.ok(
      Math.abs(summary.destinations.x.liveMs - (xStopped - xLive)) < 500,
      `x live ${summary.destinations.x.liveMs}`,
    );
    const all = JSON.stringify(run.events) + printed.join('\n');
    for (const key of Object.values(KEYS)) assert.ok(!all.includes(key), `${key} printed`);
  });
});
