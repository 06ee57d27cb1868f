import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { ReachProbe, probeable } from '../../src/relay/reach-probe.js';
import { freePort } from '../helpers/ports.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the reach probe: a wait for a server that could not be reached ends when it accepts again', () => {
  it('only a server that could not be reached is probed; one that refuses, closes or hangs waits its backoff', () => {
    for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'])
      assert.equal(probeable({ kind: 'network', code, message: code }), true, code);
    assert.equal(probeable({ kind: 'network', code: 'ECONNRESET', message: 'reset' }), false);
    assert.equal(probeable({ kind: 'network', code: 'EPIPE', message: 'pipe' }), false);
    assert.equal(probeable({ kind: 'silent', ms: 10_000 }), false);
    assert.equal(probeable({ kind: 'untrusted', code: 'CERT_HAS_EXPIRED' }), false);
    assert.equal(probeable({ kind: 'refused', phase: 'publish', code: 'NetStream.Publish.BadName' } as never), false);
  });

  it('calls back within about a second of a real server listening again, once; nothing after stop', async () => {
    const port = await freePort();
    const probe = new ReachProbe('127.0.0.1', port);
    const backAt: number[] = [];
    let accepted = 0;
    probe.watch(() => backAt.push(Date.now()));
    await sleep(1500);
    assert.equal(backAt.length, 0, 'nothing listens yet');
    const server = net.createServer((s) => {
      accepted++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const listening = Date.now();
    try {
      await sleep(2500);
      assert.equal(backAt.length, 1, 'called back once');
      assert.ok(backAt[0]! - listening <= 1200, `${backAt[0]! - listening} ms after the server listened`);
      assert.equal(accepted, 1, 'one connection, closed at once: nothing more');
      // stopped: no probe reaches the server any more
      probe.watch(() => backAt.push(Date.now()));
      probe.stop();
      await sleep(1500);
      assert.equal(backAt.length, 1);
      assert.equal(accepted, 1);
    } finally {
      server.close();
    }
  });
});
