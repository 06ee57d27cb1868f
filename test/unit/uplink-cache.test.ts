import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cacheFile, readCachedUplink, STALE_MS, writeCachedUplink } from '../../src/uplink/cache.js';
import type { UplinkMeasurement } from '../../src/uplink/measure.js';
import { tempDir } from '../helpers/tmp.js';

const measurement = (measuredAt: string): UplinkMeasurement => ({
  kbps: 8000,
  method: 'rtmp-acknowledgements',
  target: 'twitch',
  perSecondKbps: [8000],
  variationPct: 0,
  seconds: 10,
  measuredAt,
  senderSideKbps: null,
});

describe('the uplink measurement cache', () => {
  it('lives in $XDG_CACHE_HOME/rtmpush/uplink.json, else ~/.cache/rtmpush/uplink.json', () => {
    assert.equal(cacheFile({ XDG_CACHE_HOME: '/c' }), '/c/rtmpush/uplink.json');
    assert.equal(cacheFile({ HOME: '/h' }), '/h/.cache/rtmpush/uplink.json');
  });

  it('is kept for a day: read back within it, not after; the file is private to its user', () => {
    const env = { XDG_CACHE_HOME: tempDir('cache') };
    const at = Date.parse('2026-11-29T10:00:00Z');
    writeCachedUplink(env, measurement(new Date(at).toISOString()));
    assert.ok(existsSync(path.join(env.XDG_CACHE_HOME, 'rtmpush', 'uplink.json')));
    assert.equal(statSync(cacheFile(env)).mode & 0o077, 0);
    assert.equal(readCachedUplink(env, at + STALE_MS - 1000)?.kbps, 8000);
    assert.equal(readCachedUplink(env, at + STALE_MS + 1000), undefined);
  });

  it('is written whole through a rename: a reader never sees half of it, nothing is left beside it', () => {
    const env = { XDG_CACHE_HOME: tempDir('cache-rename') };
    writeCachedUplink(env, measurement('2026-11-29T10:00:00Z'));
    const before = statSync(cacheFile(env)).ino;
    // a reader that opened the first file goes on reading it whole while the second is written
    const fd = openSync(cacheFile(env), 'r');
    try {
      writeCachedUplink(env, { ...measurement('2026-11-29T11:00:00Z'), kbps: 9000 });
      assert.notEqual(statSync(cacheFile(env)).ino, before, 'a new file renamed over the old, not the old rewritten');
      assert.equal(JSON.parse(readFileSync(fd, 'utf8')).kbps, 8000);
    } finally {
      closeSync(fd);
    }
    assert.equal(readCachedUplink(env, Date.parse('2026-11-29T12:00:00Z'))?.kbps, 9000);
    assert.deepEqual(readdirSync(path.dirname(cacheFile(env))), ['uplink.json']);
    assert.equal(statSync(path.dirname(cacheFile(env))).mode & 0o077, 0, 'its folder private too');
  });

  it('a folder others may write into is neither written nor read; a failed write leaves nothing behind', () => {
    const at = '2026-11-29T10:00:00Z';
    const env = { XDG_CACHE_HOME: tempDir('cache-shared') };
    const dir = path.dirname(cacheFile(env));
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    assert.throws(() => writeCachedUplink(env, measurement(at)), /only this user can write to/);
    // a figure someone else put there does not cap anything
    writeFileSync(cacheFile(env), JSON.stringify(measurement(at)));
    assert.equal(readCachedUplink(env, Date.parse(at) + 1000), undefined);
    chmodSync(dir, 0o700);
    assert.equal(readCachedUplink(env, Date.parse(at) + 1000)?.kbps, 8000, 'read once the folder is private');
    // the rename fails (a folder where the file should be): the new file is removed, the error said
    const blocked = { XDG_CACHE_HOME: tempDir('cache-blocked') };
    mkdirSync(cacheFile(blocked), { recursive: true });
    assert.throws(() => writeCachedUplink(blocked, measurement(at)));
    assert.deepEqual(readdirSync(path.dirname(cacheFile(blocked))), ['uplink.json']);
  });

  it('a folder another user owns is refused (root only: it hands the folder to nobody)', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to give the folder away');
    const env = { XDG_CACHE_HOME: tempDir('cache-theirs') };
    const dir = path.dirname(cacheFile(env));
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    assert.throws(() => writeCachedUplink(env, measurement('2026-11-29T10:00:00Z')), /only this user can write to/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a missing or broken file is no measurement', () => {
    assert.equal(readCachedUplink({ XDG_CACHE_HOME: tempDir('empty') }), undefined);
    for (const text of ['{"kbps": 8000, "measuredAt": "2026-11-29T1', 'null', '[]', '{"kbps": "8000"}', '\u0000'])
      assert.equal(readCachedUplink(written(text)), undefined, text);
  });

  it('keeps the network it was made on', () => {
    const env = { XDG_CACHE_HOME: tempDir('network') };
    const network = { localAddress: '192.168.1.20', interface: 'wlan0', target: 'live.twitch.tv', port: 1935 };
    const m = { ...measurement(new Date().toISOString()), network };
    writeCachedUplink(env, m);
    assert.deepEqual(readCachedUplink(env), m);
  });

  it('a file from before networks were recorded, or with a broken network: read, the network unknown', () => {
    const old = measurement(new Date().toISOString());
    assert.deepEqual(readCachedUplink(written(JSON.stringify(old))), old);
    for (const network of ['wlan0', null, { localAddress: '192.168.1.20', interface: 'wlan0' }]) {
      const read = readCachedUplink(written(JSON.stringify({ ...old, network })));
      assert.deepEqual(read, old, JSON.stringify(network));
      assert.equal(read && 'network' in read, false);
    }
  });
});

/** An environment whose cache file holds `text`. */
function written(text: string): { XDG_CACHE_HOME: string } {
  const env = { XDG_CACHE_HOME: tempDir('written') };
  mkdirSync(path.dirname(cacheFile(env)), { recursive: true });
  writeFileSync(cacheFile(env), text);
  return env;
}
