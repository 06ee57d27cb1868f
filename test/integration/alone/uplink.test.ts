import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, ISOLATED } from '../../helpers/cli.js';
import { NetNs } from '../../helpers/netns.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { tempDir } from '../../helpers/tmp.js';
import { probe } from '../../helpers/probe.js';

const usable = await NetNs.usable();

describe('rtmpush uplink on a shaped link (tbf in a network namespace, loopback only)', {
  skip: usable ? false : 'needs root for ip netns and tc (CI runs as root)',
}, () => {
  const ns = new NetNs();
  let nginx: NginxRtmp;
  const cache = tempDir('uplink-cache');

  before(async () => {
    await ns.create();
    nginx = new NginxRtmp(ns);
    await nginx.start(19360);
  });
  after(async () => {
    await nginx?.dispose();
    await ns.dispose();
  });

  const measure = async (rate: number) => {
    await ns.shapeAll(`${rate}mbit`);
    const t = Date.now();
    const r = await ns.exec([
      'env',
      `XDG_CACHE_HOME=${cache}`,
      `XDG_CONFIG_HOME=${ISOLATED.XDG_CONFIG_HOME}`,
      'node',
      BIN,
      'uplink',
      '--target',
      nginx.url('live', `uplinkKey${rate}`),
      '--seconds',
      '10',
      '--json',
    ]);
    return {
      took: Date.now() - t,
      out: JSON.parse(String(r.stdout).trim().split('\n').at(-1)!) as Record<string, any>,
    };
  };

  // 4 last: the remembered measurement the stream below plans from
  for (const rate of [2, 8, 4]) {
    it(`${rate} Mbit/s: within ±10 % of what the link carries (0.95 × rate), in ≤ 12 s`, async () => {
      const { took, out } = await measure(rate);
      const truth = rate * 1000 * 0.95;
      assert.equal(out.type, 'uplink');
      assert.equal(out.method, 'rtmp-acknowledgements');
      assert.ok(Math.abs(out.kbps - truth) <= truth * 0.1, `measured ${out.kbps} kbps, link carries ~${truth}`);
      assert.ok(took <= 12_500, `took ${took} ms`);
      assert.ok(!JSON.stringify(out).includes(`uplinkKey${rate}`));
    });
  }

  it('the result is remembered, and plan uses it: video = 0.7 × uplink ÷ 2 − audio', async () => {
    const cached = JSON.parse(readFileSync(path.join(cache, 'rtmpush', 'uplink.json'), 'utf8')) as { kbps: number };
    const r = await ns.exec([
      'env',
      `XDG_CACHE_HOME=${cache}`,
      `XDG_CONFIG_HOME=${ISOLATED.XDG_CONFIG_HOME}`,
      // the server is on this namespace's shaped loopback: here it stands for a server across the uplink
      'RTMPUSH_UPLINK_LOOPBACK=count',
      'node',
      BIN,
      'plan',
      '--to',
      'a=rtmp://127.0.0.1:1/live/key1,b=rtmp://127.0.0.1:2/live/key2',
      '--preset',
      '1080p30',
      '--json',
    ]);
    const plan = JSON.parse(String(r.stdout)) as Record<string, any>;
    const want = (0.7 * cached.kbps) / 2 - plan.audio.kbps;
    assert.ok(Math.abs(plan.video.kbps - want) <= want * 0.01 + 1, `video ${plan.video.kbps}, want ${want}`);
    assert.equal(plan.bitrate.by, 'uplink');
    assert.match(plan.bitrate.text, /2 destinations on a \d+\.\d Mbps uplink: \d+\.\d Mbps video each \(70 % rule\)/);
    // without the knob, servers on loopback do not leave the machine: the uplink caps nothing
    const plain = await ns.exec(
      ['env', `XDG_CACHE_HOME=${cache}`, `XDG_CONFIG_HOME=${ISOLATED.XDG_CONFIG_HOME}`, 'node', BIN, 'plan'].concat([
        '--to',
        'a=rtmp://127.0.0.1:1/live/key1,b=rtmp://127.0.0.1:2/live/key2',
        '--preset',
        '1080p30',
        '--json',
      ]),
    );
    const uncapped = JSON.parse(String(plain.stdout)) as Record<string, any>;
    assert.deepEqual([uncapped.video.kbps, uncapped.bitrate.by], [6000, 'preset']);
  });

  const start = async (args: string[]) => {
    const r = await ns
      .exec([
        'env',
        `XDG_CACHE_HOME=${cache}`,
        `XDG_CONFIG_HOME=${ISOLATED.XDG_CONFIG_HOME}`,
        'RTMPUSH_UPLINK_LOOPBACK=count',
        'node',
        BIN,
        'start',
        ...args,
        '--json',
      ])
      .catch((e) => e);
    const events = String(r.stdout)
      .split('\n')
      .filter((l: string) => l.startsWith('{'))
      .map((l: string) => JSON.parse(l) as Record<string, any>);
    return { exitCode: r.exitCode as number, events };
  };

  it('a 15 s stream at the planned bitrate fits the link: speed ≥ 0.98, no frame lost, no congestion', async () => {
    const cached = JSON.parse(readFileSync(path.join(cache, 'rtmpush', 'uplink.json'), 'utf8')) as { kbps: number };
    assert.ok(Math.abs(cached.kbps - 3800) <= 380, `the remembered measurement is the 4 Mbit/s link's: ${cached.kbps}`);
    // From here only traffic to the server is shaped: ffmpeg's leg to its relay also crosses this loopback.
    await ns.shapePort(19360, '4mbit');
    const r = await start(['--to', `one=${nginx.url('live', 'fitKey1')}`, '--preset', '720p30', '--duration', '15s']);
    assert.equal(r.exitCode, 0);
    const begin = r.events.find((e) => e.type === 'start')!;
    // the figure remembered above, as the plan says it (3.95 Mbit/s reads 4.0)
    assert.ok(
      begin.bitrate.startsWith(`1 destination on a ${(cached.kbps / 1000).toFixed(1)} Mbps uplink`),
      begin.bitrate,
    );
    assert.equal(r.events.filter((e) => e.type === 'warning' && /congested/.test(e.message)).length, 0);
    const stats = r.events.filter((e) => e.type === 'stats');
    assert.ok(stats.at(-1)!.speed >= 0.98, `speed ${stats.at(-1)!.speed}`);
    assert.equal(stats.at(-1)!.droppedFrames, 0);
    assert.equal(stats.at(-1)!.destinations.one.droppedFrames, 0);
    const got = await probe(nginx.recording('fitKey1'));
    assert.equal(got.lostFrames, 0);
  });

  it('a stream held at 1.5× the link is flagged congested once its 4 s are absorbed, with the figure', async () => {
    // the bitrate held (it would follow the link): a third of the stream short, 4 s of it queue in about 12 s
    const r = await start([
      ...['--to', `over=${nginx.url('live', 'overKey1')}`, '--preset', '720p30', '--uplink', 'off'],
      ...['--video-bitrate', '5600k', '--no-adaptive-bitrate', '--duration', '19s'],
    ]);
    const begin = Date.parse(r.events.find((e) => e.type === 'start')!.time);
    const warning = r.events.find((e) => e.type === 'warning' && /^over: congested/.test(e.message));
    assert.ok(warning, 'congested warning');
    assert.ok(Date.parse(warning.time) - begin <= 16_000, `after ${Date.parse(warning.time) - begin} ms`);
    assert.match(warning.message, /\(\d+ kbps delivered of 5728 kbps\)/);
  });
});
