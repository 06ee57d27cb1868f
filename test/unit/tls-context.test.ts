import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { upgradeTls } from '../../src/net/dial.js';
import { secureContextOf, tlsPolicy } from '../../src/net/tls-policy.js';
import { makeTestCa } from '../helpers/tls.js';

describe('RTMPUSH_CA_FILE: one TLS context for every connection, still checking the certificate', () => {
  let ca: Awaited<ReturnType<typeof makeTestCa>>;
  const servers: tls.Server[] = [];
  const serve = async (cert: string, key: string): Promise<number> => {
    const server = tls.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (s) => s.end());
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as net.AddressInfo).port;
  };
  const dial = async (port: number, policy: ReturnType<typeof tlsPolicy>) => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r, j) => socket.once('connect', r).once('error', j));
    const secure = await upgradeTls(socket, '127.0.0.1', policy, 5000);
    secure.destroy();
  };
  before(async () => {
    ca = await makeTestCa();
  });
  after(() => {
    for (const s of servers) s.close();
    ca.dispose();
  });

  it('made once per policy; no context of its own without a CA file', () => {
    const policy = tlsPolicy({ RTMPUSH_CA_FILE: ca.caCert }, '/', false);
    const context = secureContextOf(policy);
    assert.ok(context);
    assert.equal(secureContextOf(policy), context);
    assert.equal(secureContextOf(tlsPolicy({}, '/', false)), undefined);
  });

  it('a server signed by the CA: accepted, twice over the same context; a self-signed one: refused', async () => {
    const policy = tlsPolicy({ RTMPUSH_CA_FILE: ca.caCert }, '/', false);
    const good = await serve(ca.cert, ca.key);
    await dial(good, policy);
    await dial(good, policy);
    const bad = await serve(ca.selfSignedCert, ca.selfSignedKey);
    await assert.rejects(dial(bad, policy));
    // and without the CA file, the private CA's server is refused: the context is what trusts it
    await assert.rejects(dial(good, tlsPolicy({}, '/', false)));
  });
});
