import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { probe } from '../../helpers/probe.js';
import { startCli } from '../../helpers/spawn.js';
import { makeTestCa } from '../../helpers/tls.js';

const states = (events: Record<string, any>[], label: string) =>
  events.filter((e) => e.type === 'state' && e.destination === label);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RTMPS through a real TLS endpoint (nginx stream ssl in front of nginx-rtmp)', () => {
  const trusted = new NginxRtmp();
  const selfSigned = new NginxRtmp();
  let ca: Awaited<ReturnType<typeof makeTestCa>>;

  before(async () => {
    ca = await makeTestCa();
    await trusted.start(undefined, { cert: ca.cert, key: ca.key });
    await selfSigned.start(undefined, { cert: ca.selfSignedCert, key: ca.selfSignedKey });
  });
  after(async () => {
    await trusted.dispose();
    await selfSigned.dispose();
    ca.dispose();
  });

  const url = (n: NginxRtmp, key: string) => `rtmps://127.0.0.1:${n.tls!.port}/live/${key}`;

  it('a certificate from a CA given in RTMPUSH_CA_FILE: live, and the server recorded it', async () => {
    const r = await runCli(
      ['start', '--to', `s=${url(trusted, 'tlsKey1111')}`, '--preset', '360p30', '--duration', '5s', '--json'],
      { RTMPUSH_CA_FILE: ca.caCert },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(
      states(r.events, 's').map((e) => e.state),
      ['connecting', 'live', 'stopped'],
    );
    const got = await probe(trusted.recording('tlsKey1111'));
    assert.ok(got.videoFrames >= 3 * 30, `frames ${got.videoFrames}`);
  });

  it(
    'RTMPUSH_CA_FILE adds a CA, it does not replace the store: ' +
      'a front the store trusts and one the file trusts, both live in one run (and in doctor)',
    async () => {
      const other = new NginxRtmp();
      const systemCa = await makeTestCa();
      try {
        await other.start(undefined, { cert: systemCa.cert, key: systemCa.key });
        // NODE_EXTRA_CA_CERTS is how a CA gets into Node's own store (as a company CA or a distribution's would)
        const env = { NODE_EXTRA_CA_CERTS: systemCa.caCert, RTMPUSH_CA_FILE: ca.caCert };
        const to = `store=${url(other, 'tlsKey5555')},file=${url(trusted, 'tlsKey6666')}`;
        const r = await runCli(['start', '--to', to, '--preset', '360p30', '--duration', '5s', '--json'], env);
        assert.equal(r.exitCode, 0, r.stdout + r.stderr);
        for (const label of ['store', 'file'])
          assert.deepEqual(
            states(r.events, label).map((e) => e.state),
            ['connecting', 'live', 'stopped'],
            label,
          );
        const doctor = await runCli(['doctor', '--to', to, '--json', '--no-speed'], env);
        assert.equal(doctor.exitCode, 0, doctor.stdout);
        assert.equal(doctor.events.filter((e) => e.step === 'tls' && e.status === 'pass').length, 2);
      } finally {
        await other.dispose();
        systemCa.dispose();
      }
    },
  );

  it('without that CA the certificate is not trusted: rejected with the reason at once, exit 3', async () => {
    const r = await runCli([
      'start',
      '--to',
      `local,s=${url(trusted, 'tlsKey2222')}`,
      '--preset',
      '360p30',
      '--duration',
      '4s',
      '--json',
    ]);
    assert.equal(r.exitCode, 3, r.stderr);
    const s = states(r.events, 's');
    assert.equal(s.at(-1)?.state, 'rejected');
    assert.match(
      s.at(-1)?.reason,
      /TLS certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\).*RTMPUSH_CA_FILE.*--insecure-tls/,
    );
    assert.equal(s.filter((e) => e.state === 'rejected').length, 1, 'no retry loop on a bad certificate');
    const started = Date.parse(r.events.find((e) => e.type === 'start')!.time);
    const after = Date.parse(s.at(-1)!.time) - started;
    assert.ok(after < 1000, `rejected ${after} ms after the start (at once: the first TLS handshake says it)`);
  });

  it('a self-signed certificate is rejected; --insecure-tls accepts it', async () => {
    const strict = await runCli(
      ['start', '--to', `local,s=${url(selfSigned, 'tlsKey3333')}`, '--preset', '360p30', '--duration', '4s', '--json'],
      { RTMPUSH_CA_FILE: ca.caCert },
    );
    assert.equal(strict.exitCode, 3);
    assert.match(
      states(strict.events, 's').at(-1)?.reason,
      /not trusted \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/,
    );
    const loose = await runCli([
      'start',
      '--to',
      `s=${url(selfSigned, 'tlsKey4444')}`,
      '--insecure-tls',
      '--preset',
      '360p30',
      '--duration',
      '5s',
      '--json',
    ]);
    assert.equal(loose.exitCode, 0, loose.stderr);
    assert.ok(states(loose.events, 's').some((e) => e.state === 'live'));
  });
});

describe('a hung server (SIGSTOP) does not disturb the others', () => {
  const good = new NginxRtmp();
  const hung = new NginxRtmp();
  let events: Record<string, any>[] = [];
  let stoppedAt = 0;

  before(async () => {
    await good.start();
    await hung.start();
    const run = startCli([
      'start',
      '--to',
      `good=${good.url('live', 'okKey1212')},hung=${hung.url('live', 'hungKey3434')}`,
      '--preset',
      '360p30',
      '--duration',
      '22s',
      '--json',
    ]);
    events = run.events;
    await run.waitFor((e) => e.type === 'state' && e.destination === 'hung' && e.state === 'live');
    await sleep(1000);
    hung.signal('SIGSTOP');
    stoppedAt = Date.now();
    await run.proc;
  });
  after(async () => {
    hung.signal('SIGCONT');
    await good.dispose();
    await hung.dispose();
  });

  it('the hung one is flagged congested, then dropped and retried; the encoder keeps speed', () => {
    const warning = events.find((e) => e.type === 'warning' && /^hung: congested/.test(e.message));
    assert.ok(warning, 'congested warning');
    assert.ok(
      Date.parse(warning.time) - stoppedAt < 8000,
      `congested after ${Date.parse(warning.time) - stoppedAt} ms`,
    );
    const stalled = states(events, 'hung').find((e) => e.state === 'reconnecting');
    assert.match(String(stalled?.reason), /stopped acknowledging/);
    const stats = events.filter((e) => e.type === 'stats' && Date.parse(e.time) > stoppedAt + 2000);
    assert.ok(
      stats.some((e) => e.destinations.hung.congested === true),
      'stats carry the congestion flag',
    );
    const last = stats.at(-1)!;
    assert.ok(last.speed >= 0.98, `speed ${last.speed}`);
  });

  it('the good one recorded everything with no gap', async () => {
    const got = await probe(good.recording('okKey1212'));
    assert.ok(got.videoFrames >= 20 * 30, `frames ${got.videoFrames}`);
    assert.ok(got.maxFrameGapS < 0.1, `gap ${got.maxFrameGapS}`);
    const delivered = events.filter((e) => e.type === 'stats').at(-2)!.destinations.good.deliveredKbps;
    assert.ok(delivered > 600 && delivered < 1200, `good delivered ${delivered} kbps`);
  });
});
