import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveStream } from '../../src/cli/options.js';
import { ago, type CheckedUplink, checkCachedUplink, judgeCachedUplink } from '../../src/uplink/check.js';
import type { UplinkMeasurement } from '../../src/uplink/measure.js';
import { findRoute, interfaceOf, sameNetwork, type UplinkNetwork } from '../../src/uplink/network.js';
import { writeCachedUplink } from '../../src/uplink/cache.js';
import { tempDir } from '../helpers/tmp.js';

const net = (localAddress: string, name: string): UplinkNetwork => ({
  localAddress,
  interface: name,
  target: 'live.example.net',
  port: 1935,
});
const home = net('192.168.1.20', 'wlan0');
const AT = Date.parse('2026-11-29T10:00:00Z');
const HOUR = 3600_000;
const measurement = (network?: UplinkNetwork): UplinkMeasurement => ({
  kbps: 8000,
  method: 'rtmp-acknowledgements',
  target: 'twitch',
  perSecondKbps: [8000],
  variationPct: 0,
  seconds: 10,
  measuredAt: new Date(AT).toISOString(),
  senderSideKbps: null,
  ...(network ? { network } : {}),
});
const TAIL = 'not applied — run rtmpush uplink to measure this one';

describe('the network a measurement was made on', () => {
  it('is the same only with the same local address on the same interface', () => {
    assert.equal(sameNetwork(home, net('192.168.1.20', 'wlan0')), true);
    assert.equal(sameNetwork(home, { ...net('192.168.1.20', 'wlan0'), target: 'other.host', port: 443 }), true);
    assert.equal(sameNetwork(home, net('192.168.1.20', 'eth0')), false);
    assert.equal(sameNetwork(home, net('192.168.1.21', 'wlan0')), false);
  });

  it('an address is found on its interface (an IPv6 scope is ignored)', () => {
    const info = (address: string) => ({ address }) as import('node:os').NetworkInterfaceInfo;
    const interfaces = { lo: [info('127.0.0.1'), info('::1')], eth0: [info('10.0.0.5'), info('fe80::1')] };
    assert.equal(interfaceOf('10.0.0.5', interfaces), 'eth0');
    assert.equal(interfaceOf('FE80::1%eth0', interfaces), 'eth0');
    assert.equal(interfaceOf('::1', interfaces), 'lo');
    assert.equal(interfaceOf('192.0.2.7', interfaces), undefined);
  });

  it('the way to 127.0.0.1 is found for real: from 127.0.0.1, on the loopback interface', async () => {
    const route = await findRoute('127.0.0.1', 1935);
    assert.equal(route.localAddress, '127.0.0.1');
    assert.equal(route.interface, process.platform === 'darwin' ? 'lo0' : 'lo');
    assert.deepEqual([route.target, route.port], ['127.0.0.1', 1935]);
  });

  it('a name lookup that hangs holds it no longer than the bound', async () => {
    const t = Date.now();
    const hang = () => new Promise<never>(() => {});
    await assert.rejects(findRoute('live.example.net', 1935, { lookup: hang, timeoutMs: 100 }), {
      message: 'live.example.net did not resolve within 0.1 s',
    });
    assert.ok(Date.now() - t < 1000);
  });

  it("a name that does not resolve says so in the resolver's words", async () => {
    const notFound = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }));
    await assert.rejects(findRoute('nowhere.example', 1935, { lookup: notFound }), {
      message: 'nowhere.example did not resolve (ENOTFOUND)',
    });
  });
});

describe('a cached measurement is applied only on the network it was made on', () => {
  const cases: [string, number][] = [
    ['0 s', 0],
    ['40 s', 40_000],
    ['12 min', 12 * 60_000],
    ['3 h', 3 * HOUR + 59 * 60_000],
  ];
  for (const [text, ms] of cases) it(`${ms} ms ago reads "${text}"`, () => assert.equal(ago(ms), text));

  it('the same network: applied, nothing to say', () => {
    assert.deepEqual(judgeCachedUplink(measurement(home), net('192.168.1.20', 'wlan0'), AT + 3 * HOUR), {
      measurement: measurement(home),
    });
  });

  it('another network: not applied, and both networks are named', () => {
    assert.deepEqual(judgeCachedUplink(measurement(home), net('10.0.0.5', 'eth0'), AT + 3 * HOUR), {
      notice:
        'uplink: the measurement from 3 h ago was made on another network (wlan0 192.168.1.20; now eth0 10.0.0.5): ' +
        TAIL,
    });
  });

  it('a measurement from before rtmpush recorded networks: not applied', () => {
    assert.deepEqual(judgeCachedUplink(measurement(), net('10.0.0.5', 'eth0'), AT + 5 * 60_000), {
      notice: `uplink: the measurement from 5 min ago was made before rtmpush recorded networks: ${TAIL}`,
    });
  });

  it('the way there cannot be found now: not applied, and why', () => {
    const why = new Error('live.example.net did not resolve within 2 s');
    assert.deepEqual(judgeCachedUplink(measurement(home), why, AT + HOUR), {
      notice:
        'uplink: the measurement from 1 h ago cannot be matched to this network ' +
        `(live.example.net did not resolve within 2 s): ${TAIL}`,
    });
  });

  it('--uplink auto reads the cache and finds the way to its target; off, a rate or no cache: nothing', async () => {
    const env = { XDG_CACHE_HOME: tempDir('check') };
    const asked: string[] = [];
    const route = async (host: string, port: number) => {
      asked.push(`${host}:${port}`);
      return net('192.168.1.20', 'wlan0');
    };
    assert.deepEqual(await checkCachedUplink(undefined, env, { nowMs: AT, route }), {});
    writeCachedUplink(env, measurement(home));
    assert.equal((await checkCachedUplink('auto', env, { nowMs: AT + HOUR, route })).measurement?.kbps, 8000);
    assert.deepEqual(asked, ['live.example.net:1935']);
    assert.deepEqual(await checkCachedUplink('off', env, { nowMs: AT, route }), {});
    assert.deepEqual(await checkCachedUplink('8M', env, { nowMs: AT, route }), {});
    const failing = () => Promise.reject(new Error('no route to live.example.net (ENETUNREACH)'));
    assert.match((await checkCachedUplink(undefined, env, { nowMs: AT, route: failing })).notice ?? '', /ENETUNREACH/);
    assert.equal(asked.length, 1, 'off and a rate look nothing up');
  });
});

describe('the plan from a checked measurement', () => {
  const dir = tempDir('plan-uplink');
  const plan = (to: string, cachedUplink: CheckedUplink, uplink?: string) =>
    resolveStream({ to: [to], preset: '360p30', uplink }, { env: {}, cwd: dir, os: 'linux', cachedUplink }).plan;
  const remote = 'a=rtmp://192.0.2.10:1/live/unitKey99';
  const notice = `uplink: the measurement from 3 h ago was made on another network (…): ${TAIL}`;

  it('applied: the bitrate is capped by it (0.7 × 1000 − 96 audio)', () => {
    const p = plan(remote, { measurement: { ...measurement(home), kbps: 1000 } });
    assert.deepEqual([p.bitrate.by, p.video.kbps], ['uplink', 604]);
  });
  it('not applied: the preset’s bitrate, and the notice first among the notes', () => {
    const p = plan(remote, { notice });
    assert.deepEqual([p.bitrate.by, p.video.kbps, p.notes[0]], ['preset', 800, notice]);
  });
  it('nothing leaves the machine: no uplink to speak of', () => assert.deepEqual(plan('local', { notice }).notes, []));
  it('no check (the context has none): nothing is applied', () => assert.equal(plan(remote, {}).bitrate.by, 'preset'));
});
