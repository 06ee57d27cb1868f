import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricsExposure, parseMetricsAddress } from '../../src/control/address.js';

describe('--metrics HOST:PORT', () => {
  it('HOST:PORT and [IPv6]:PORT; anything else is one line saying what to give', () => {
    assert.deepEqual(parseMetricsAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseMetricsAddress('[::1]:9464'), { host: '::1', port: 9464 });
    for (const bad of ['localhost', ':9464', '127.0.0.1:0', '127.0.0.1:70000', 'a b:1', 'http://h:1'])
      assert.throws(() => parseMetricsAddress(bad), /give HOST:PORT, e\.g\. 127\.0\.0\.1:9464/, bad);
  });

  it('served where other machines may read them: a warning; on loopback: none', () => {
    for (const local of [
      ...['127.0.0.1:9464', '127.1.2.3:1', '[::1]:9464', 'localhost:9464'],
      ...['[::ffff:127.0.0.1]:1', '[0:0:0:0:0:0:0:1]:1'],
    ])
      assert.equal(metricsExposure(local, parseMetricsAddress(local).host), undefined, local);
    for (const open of [
      ...['0.0.0.0:9464', '[::]:9464', '192.168.1.5:9464', 'box.lan:9464', '127.example.com:1'],
      ...['[::ffff:10.0.0.1]:1', '[1::1]:1'],
    ]) {
      const w = metricsExposure(open, parseMetricsAddress(open).host);
      assert.match(w ?? '', /anyone who can reach this address reads the metrics .* serve them on 127\.0\.0\.1/, open);
    }
  });
});
