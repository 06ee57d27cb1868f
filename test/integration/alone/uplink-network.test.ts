import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { tempDir } from '../../helpers/tmp.js';

const KEY = 'netKey4242';
const TAIL = 'not applied — run rtmpush uplink to measure this one';
/** 360p30 is 800 kbps; a 1000 kbps uplink leaves 0.7 × 1000 − 96 (audio) = 604 for one destination. */
const PRESET_KBPS = 800;
const CAPPED_KBPS = 604;

describe('a cached uplink measurement is applied only on the network it was made on', () => {
  const nginx = new NginxRtmp();
  const cache = tempDir('uplink-network');
  const file = path.join(cache, 'rtmpush', 'uplink.json');
  // the plan's destination is on loopback: counted as crossing the uplink, as a server elsewhere would
  const env = { XDG_CACHE_HOME: cache, RTMPUSH_UPLINK_LOOPBACK: 'count' };
  let measured: Record<string, any>;
  before(() => nginx.start());
  after(() => nginx.dispose());

  const plan = (...extra: string[]) =>
    runCli(['plan', '--to', 'a=rtmp://127.0.0.1:1/live/planKey77', '--preset', '360p30', ...extra], env);
  /** The measurement made here, at 1000 kbps (so the cap shows), from `hoursAgo`, on `network`. */
  const cacheWith = (network: unknown, hoursAgo = 3) => {
    const { network: _, ...rest } = measured;
    const measuredAt = new Date(Date.now() - hoursAgo * 3600_000).toISOString();
    writeFileSync(file, JSON.stringify({ ...rest, kbps: 1000, measuredAt, ...(network ? { network } : {}) }));
  };

  it('rtmpush uplink records the way to its target, says which network it measured, and never the key', async () => {
    const r = await runCli(['uplink', '--target', nginx.url('sink', KEY), '--seconds', '4'], env);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    measured = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(measured.network, {
      localAddress: '127.0.0.1',
      interface: 'lo',
      target: '127.0.0.1',
      port: nginx.port,
    });
    assert.match(
      r.stdout,
      /^measured on lo 127\.0\.0\.1 \(the way to 127\.0\.0\.1\): start applies it on this network only$/m,
    );
    assert.ok(!(r.stdout + r.stderr + readFileSync(file, 'utf8')).includes(KEY));
  });

  it('a cache folder others may write into: measured and said (exit 0), not kept there', async () => {
    const shared = tempDir('uplink-shared');
    mkdirSync(path.join(shared, 'rtmpush'), { mode: 0o777 });
    chmodSync(path.join(shared, 'rtmpush'), 0o777);
    const r = await runCli(['uplink', '--target', nginx.url('sink', KEY), '--seconds', '4', '--json'], {
      ...env,
      XDG_CACHE_HOME: shared,
    });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const [u] = r.events.filter((e) => e.type === 'uplink');
    assert.ok(u && u.kbps > 0, r.stdout);
    assert.match(u.notKept, /^not kept: .*rtmpush is not a folder of this user's that only this user can write to$/);
    assert.deepEqual(readdirSync(path.join(shared, 'rtmpush')), []);
  });

  it('(a) on the same network: applied, the bitrate capped by it', async () => {
    cacheWith(measured.network);
    const r = await plan('--json');
    const [p] = r.events;
    assert.equal(p?.bitrate.by, 'uplink', r.stdout + r.stderr);
    assert.equal(p?.video.kbps, CAPPED_KBPS);
    assert.ok(!r.stdout.includes(TAIL));
  });

  const elsewhere = { localAddress: '192.0.2.7', interface: 'wlan9', target: '127.0.0.1', port: 1935 };
  const networks = '(wlan9 192.0.2.7; now lo 127.0.0.1)';
  const another = `uplink: the measurement from 3 h ago was made on another network ${networks}: ${TAIL}`;

  it('(b) on another network: not applied, said once, the bitrate is the preset’s', async () => {
    cacheWith(elsewhere);
    const r = await plan('--json');
    const [p] = r.events;
    assert.equal(p?.bitrate.by, 'preset', r.stdout + r.stderr);
    assert.equal(p?.video.kbps, PRESET_KBPS);
    assert.deepEqual(
      p?.notes.filter((n: string) => n.startsWith('uplink:')),
      [another],
    );
    const text = await plan();
    assert.equal(text.stdout.split(another).length, 2, text.stdout);
    assert.match(text.stdout, /^note {5}uplink: the measurement from 3 h ago was made on another network/m);
  });

  it('(b) start says it once too, in the start event, and streams at the preset’s bitrate', async () => {
    cacheWith(elsewhere);
    const args = ['start', '--to', `a=${nginx.url('sink', 'startKey5')}`, '--preset', '360p30', '--json'];
    const r = await runCli([...args, '--duration', '3s'], env);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const start = r.events.find((e) => e.type === 'start');
    assert.deepEqual(
      start?.notes.filter((n: string) => n.startsWith('uplink:')),
      [another],
      r.stdout + r.stderr,
    );
    assert.match(start?.video, new RegExp(` ${PRESET_KBPS} kbps`));
    assert.equal((r.stdout + r.stderr).split('made on another network').length, 2);
  });

  it('(c) a measurement from before rtmpush recorded networks: not applied, with its own words', async () => {
    cacheWith(undefined, 0.5);
    const r = await plan('--json');
    const [p] = r.events;
    assert.equal(p?.video.kbps, PRESET_KBPS, r.stdout + r.stderr);
    assert.deepEqual(
      p?.notes.filter((n: string) => n.startsWith('uplink:')),
      [`uplink: the measurement from 30 min ago was made before rtmpush recorded networks: ${TAIL}`],
    );
  });
});
