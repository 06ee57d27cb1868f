import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { BIN, ISOLATED } from '../../helpers/cli.js';
import { NetNs } from '../../helpers/netns.js';
import { NginxRtmp } from '../../helpers/nginx.js';

const usable = await NetNs.usable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the bitrate follows the uplink (a tc-shaped link in a network namespace)', {
  skip: usable ? false : 'needs root for ip netns and tc (CI runs as root)',
}, () => {
  const ns = new NetNs();
  let upstream: NginxRtmp;
  let dest: NginxRtmp;
  let publisher: ResultPromise | undefined;
  let run: ResultPromise | undefined;
  const events: Record<string, any>[] = [];
  const waitFor = async (pred: (e: Record<string, any>) => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const found = events.find(pred);
      if (found) return found;
      await sleep(100);
    }
    const seen = events.filter((e) => e.type !== 'stats').map((e) => `${e.type}:${e.state ?? e.kbps ?? ''}`);
    throw new Error(`no such event within ${ms} ms; got ${JSON.stringify(seen)}`);
  };

  before(async () => {
    await ns.create();
    upstream = new NginxRtmp(ns);
    dest = new NginxRtmp(ns);
    await upstream.start(19360);
    await dest.start(19361);
    // the source: a stream on a server of its own, pulled by rtmpush as a URL (unshaped)
    publisher = execa('ip', [
      ...['netns', 'exec', ns.name, 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi'],
      ...['-i', 'testsrc2=size=640x360:rate=30', '-re', '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-c:a', 'aac', '-f', 'flv'],
      upstream.url('live', 'source'),
    ]);
    await sleep(2000);
    run = execa(
      'ip',
      [
        ...['netns', 'exec', ns.name, 'node', BIN, 'start', '--source', upstream.url('live', 'source')],
        ...['--to', `d=${dest.url('live', 'adaptKey123')}`, '--preset', '360p30', '--json', '--uplink', 'off'],
        ...['--duration', '90s'],
      ],
      { env: { ...ISOLATED, RTMPUSH_BITRATE_UP_AFTER: '6s' }, reject: false, buffer: false, stdin: 'ignore' },
    );
    let pending = '';
    run.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith('{')) events.push(JSON.parse(line));
      }
    });
    await waitFor((e) => e.type === 'state' && e.state === 'live', 30_000);
  });
  after(async () => {
    run?.kill('SIGKILL');
    publisher?.kill('SIGKILL');
    await Promise.allSettled([run, publisher]);
    await upstream?.dispose();
    await dest?.dispose();
    await ns.dispose();
  });

  it('the link falls to 500 kbit/s: the bitrate steps down to what fits, the destination still live', async () => {
    await sleep(2000);
    await ns.shapePort(19361, '500kbit');
    const shapedAt = Date.now();
    const first = await waitFor((e) => e.type === 'bitrate' && e.kbps < e.previousKbps, 30_000);
    assert.equal(first.previousKbps, 800);
    // the quick step: the queue grew while the server took less than the stream
    assert.match(first.reason, /^the link took \d+ kbps of the 896 sent, and the queue grew \(the destination\)$/);
    // one step or two: a rate that fits the link (with the audio, and the link's own overhead)
    const down = await waitFor((e) => e.type === 'bitrate' && e.kbps + 96 <= 500 * 0.95, 30_000);
    const tookMs = Date.parse(down.time) - shapedAt;
    assert.ok(down.kbps >= 240, 'never under 30 % of the plan');
    const steps = events
      .filter((e) => e.type === 'bitrate')
      .map((e) => `${Date.parse(e.time) - shapedAt} ms: ${e.previousKbps} → ${e.kbps} (${e.reason})`);
    assert.ok(tookMs < 5000, `the bitrate fit ${tookMs} ms after the link fell: ${steps.join('; ')}`);
    // the encoder itself makes the lower rate once the new one took over (a URL is probed again: seconds)
    const changedAt = Date.parse(down.time);
    const made = await waitFor(
      (e) => e.type === 'stats' && Date.parse(e.time) > changedAt && e.bitrateKbps < down.kbps + 96 + 150,
      25_000,
    );
    assert.ok(made.bitrateKbps > 0, `the encoder makes ${made.bitrateKbps} kbps for ${down.kbps}`);
    const states = events.filter((e) => e.type === 'state').map((e) => e.state);
    assert.deepEqual(states, ['connecting', 'live'], 'no reconnect: the session went on');
  });

  it('the link back: the bitrate steps back up once no destination struggled for a while', async () => {
    await ns.exec(['tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
    const up = await waitFor((e) => e.type === 'bitrate' && e.kbps > e.previousKbps, 30_000);
    assert.match(up.reason, /no destination struggled for (6|12) s/);
    // one step (÷0.7), never above the plan
    assert.equal(up.kbps, Math.min(800, Math.round(up.previousKbps / 0.7)), `${up.previousKbps} → ${up.kbps}`);
    run!.kill('SIGTERM');
    const result = await run!;
    assert.equal(result.exitCode, 0);
    assert.deepEqual(
      events.filter((e) => e.type === 'state').map((e) => e.state),
      ['connecting', 'live', 'stopped'],
    );
  });
});
