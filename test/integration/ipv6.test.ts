import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { probe } from '../helpers/probe.js';

describe('an IPv6 literal in the URL (rtmp://[::1]:PORT/app/key)', () => {
  const nginx = new NginxRtmp(undefined, { ipv6: true });
  before(() => nginx.start());
  after(() => nginx.dispose());

  it('connects (the brackets are not part of the address), goes live, and the server records it', async () => {
    const r = await runCli([
      'start',
      '--to',
      `v6=rtmp://[::1]:${nginx.port}/live/ipv6Key4321`,
      '--preset',
      '360p30',
      '--duration',
      '5s',
      '--json',
      '--uplink',
      'off',
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const states = r.events.filter((e) => e.type === 'state').map((e) => e.state);
    assert.deepEqual(states, ['connecting', 'live', 'stopped']);
    const got = await probe(nginx.recording('ipv6Key4321'));
    assert.ok(got.videoFrames >= 3 * 30, `frames ${got.videoFrames}`);
  });

  it('plan shows the address in brackets, the key hidden', async () => {
    const r = await runCli(['plan', '--to', `v6=rtmp://[::1]:${nginx.port}/live/ipv6Key4321`, '--json']);
    assert.equal(r.events[0]!.destinations[0].url, `rtmp://[::1]:${nginx.port}/live/****`);
  });
});
