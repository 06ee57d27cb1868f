import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BIN } from '../../helpers/cli.js';
import { NetNs } from '../../helpers/netns.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { probe } from '../../helpers/probe.js';

const usable = await NetNs.usable();

describe('a destination behind a link slower than the bitrate (tc tbf in a network namespace)', {
  skip: usable ? false : 'needs root for ip netns and tc (CI runs as root)',
}, () => {
  const ns = new NetNs();
  let good: NginxRtmp;
  let slow: NginxRtmp;
  let events: Record<string, any>[] = [];
  let exitCode: number | undefined;

  before(async () => {
    await ns.create();
    good = new NginxRtmp(ns);
    slow = new NginxRtmp(ns);
    await good.start(19350);
    await slow.start(19351);
    // 360p30 is ~900 kbit/s with audio; the slow server gets 400 kbit/s
    await ns.shapePort(19351, '400kbit');
    const r = await ns
      .exec([
        'node',
        BIN,
        'start',
        '--to',
        `good=${good.url('live', 'fastKey1')},slow=${slow.url('live', 'slowKey2')}`,
        '--preset',
        '360p30',
        '--duration',
        '20s',
        '--json',
      ])
      .catch((e) => e);
    exitCode = r.exitCode;
    events = String(r.stdout)
      .split('\n')
      .filter((l: string) => l.startsWith('{'))
      .map((l: string) => JSON.parse(l));
  });
  after(async () => {
    await good?.dispose();
    await slow?.dispose();
    await ns.dispose();
  });

  it('the slow one is flagged congested, with what it really gets', () => {
    const warning = events.find((e) => e.type === 'warning' && /^slow: congested/.test(e.message));
    assert.ok(
      warning,
      `congested warning; got ${events
        .filter((e) => e.type !== 'stats')
        .map((e) => JSON.stringify(e))
        .join('\n')}`,
    );
    const late = events.filter((e) => e.type === 'stats').slice(-6, -1);
    const delivered = late.map((e) => e.destinations.slow.deliveredKbps).filter((k) => k !== null);
    assert.ok(delivered.length > 0 && Math.max(...delivered) < 500, `slow delivered ${delivered}`);
    assert.ok(late.some((e) => e.destinations.slow.congested));
  });

  it('the other destination and the encoder are unaffected', async () => {
    // the slow one may end congested-but-live (0) or dropped (3); rtmpush's own side never fails (1), input is good (2)
    assert.ok(exitCode === 0 || exitCode === 3, `exit ${exitCode}`);
    const got = await probe(good.recording('fastKey1'));
    assert.ok(got.videoFrames >= 18 * 30, `frames ${got.videoFrames}`);
    assert.equal(got.lostFrames, 0);
    const last = events.filter((e) => e.type === 'stats').at(-1)!;
    assert.ok(last.speed >= 0.98, `speed ${last.speed}`);
    assert.equal(events.filter((e) => e.type === 'warning' && /^good:/.test(e.message)).length, 0);
  });
});
