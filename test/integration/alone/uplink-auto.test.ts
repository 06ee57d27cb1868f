import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { tempDir } from '../../helpers/tmp.js';

describe('start --uplink auto: measures first when no figure is from today, and again with --remeasure', () => {
  const nginx = new NginxRtmp();
  const cache = tempDir('uplink-auto');
  let env: Record<string, string>;
  before(async () => {
    await nginx.start();
    // Twitch's ingest pointed at a local nginx (its app `sink` takes the bandwidth-test stream and the real one)
    env = {
      RTMPUSH_TWITCH_URL: `rtmp://127.0.0.1:${nginx.port}/sink`,
      RTMPUSH_TWITCH_KEY: 'live_autoKey42',
      XDG_CACHE_HOME: cache,
    };
  });
  after(() => nginx.dispose());
  const run = (...extra: string[]) =>
    runCli(['start', '--to', 'twitch', '--preset', '360p30', '--duration', '3s', '--json', ...extra], env);
  const measured = (events: Record<string, any>[]) => events.filter((e) => e.type === 'uplink');

  it('no figure yet: it measures through the test mode before going live, and keeps the figure', async () => {
    const r = await run();
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const [m] = measured(r.events);
    assert.ok(m && m.kbps > 0 && m.target === 'twitch', JSON.stringify(r.events.slice(0, 3)));
    assert.ok(r.events.indexOf(m) < r.events.findIndex((e) => e.type === 'start'), 'before the stream starts');
    assert.ok(existsSync(path.join(cache, 'rtmpush', 'uplink.json')));
    assert.ok(!r.stdout.includes('live_autoKey42'));
  });

  it('a figure from today: no measurement', async () => {
    const r = await run();
    assert.equal(r.exitCode, 0);
    assert.deepEqual(measured(r.events), []);
  });

  it('--remeasure: measures again', async () => {
    const r = await run('--remeasure');
    assert.equal(r.exitCode, 0);
    assert.equal(measured(r.events).length, 1);
  });
});
