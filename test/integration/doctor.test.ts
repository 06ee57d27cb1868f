import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { makeTestCa } from '../helpers/tls.js';

describe('rtmpush doctor against nginx-rtmp', () => {
  const nginx = new NginxRtmp();
  let ca: Awaited<ReturnType<typeof makeTestCa>>;
  let r: CliResult;
  const steps = (label: string) => r.events.filter((e) => e.type === 'doctor' && e.destination === label);

  before(async () => {
    ca = await makeTestCa();
    await nginx.start(undefined, { cert: ca.selfSignedCert, key: ca.selfSignedKey });
    const to = [
      `good=${nginx.url('live', 'docKey1234')}`,
      `noapp=${nginx.url('nope', 'docKey1234')}`,
      'closed=rtmp://127.0.0.1:1/live/docKey1234',
      'nohost=rtmp://nonexistent.invalid/live/docKey1234',
      `tls=rtmps://127.0.0.1:${nginx.tls!.port}/live/docKey1234`,
      'twitch',
    ].join(',');
    r = await runCli(['doctor', '--to', to, '--json'], { RTMPUSH_TWITCH_KEY: 'live_1 2' });
  });
  after(async () => {
    await nginx.dispose();
    ca.dispose();
  });

  it('a good destination passes every step', () => {
    assert.deepEqual(
      steps('good').map((s) => `${s.step}:${s.status}`),
      ['key:pass', 'dns:pass', 'tcp:pass', 'rtmp:pass', 'rtt:pass'],
    );
    assert.match(steps('good')[3]!.detail, /NetConnection\.Connect\.Success/);
    assert.ok(steps('good').every((s) => typeof s.time === 'string' && typeof s.ms === 'number'));
  });

  it('an unknown app fails step 5 with what the server did', () => {
    const last = steps('noapp').at(-1)!;
    assert.deepEqual([last.step, last.status], ['rtmp', 'fail']);
    // the same words as the relay's (advice/cause.ts)
    assert.match(
      last.detail,
      /app "nope": the server closed the connection after the handshake without answering connect/,
    );
  });

  it('a closed port fails step 3; an unresolvable host step 2; an untrusted certificate step 4', () => {
    assert.deepEqual(((s) => [s.step, s.status])(steps('closed').at(-1)!), ['tcp', 'fail']);
    assert.match(steps('closed').at(-1)!.detail, /ECONNREFUSED/);
    assert.deepEqual(((s) => [s.step, s.status])(steps('nohost').at(-1)!), ['dns', 'fail']);
    const tls = steps('tls').at(-1)!;
    assert.deepEqual([tls.step, tls.status], ['tls', 'fail']);
    assert.match(tls.detail, /SELF_SIGNED/);
    assert.match(tls.fix, /RTMPUSH_CA_FILE/);
  });

  it('a key with whitespace fails step 1 with what to do, and is never printed', () => {
    const k = steps('twitch');
    assert.deepEqual(
      k.map((s) => `${s.step}:${s.status}`),
      ['key:fail'],
    );
    assert.match(k[0]!.fix, /RTMPUSH_TWITCH_KEY/);
    assert.ok(!r.stdout.includes('live_1 2') && !r.stdout.includes('docKey1234'));
  });

  it('exit 3 (some cannot be reached), a summary line, and nothing was published', () => {
    assert.equal(r.exitCode, 3, r.stderr);
    assert.deepEqual(r.events.at(-1), { ...r.events.at(-1), type: 'summary', reachable: 1, total: 6 });
    assert.doesNotMatch(nginx.log(), /publish: name='docKey1234'|create publisher/);
    assert.deepEqual(nginx.recordings(), []);
  });

  it('with only good destinations: exit 0', async () => {
    const ok = await runCli(['doctor', '--to', `good=${nginx.url('live', 'docKey1234')}`]);
    assert.equal(ok.exitCode, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /good {2}5\/6 rtmp pass connect to app "live" accepted/);
    assert.match(ok.stdout, /1 of 1 destination can be reached/);
  });

  it('bad input is still exit 2', async () => {
    const bad = await runCli(['doctor', '--to', 'http://example.com/live/k']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /http:\/\/ is not an ingest URL/);
  });

  it('port 1935 refused on a platform: the fix looks at the RTMPS ingest on 443 and says what it found', async () => {
    // YouTube's RTMP ingest pointed at a loopback address where nothing listens; offline, its RTMPS host does not
    // resolve either, so the fix says both fail (with a network, an open 443 is named with the RTMPS URL)
    const r = await runCli(['doctor', '--to', 'youtube', '--json'], {
      RTMPUSH_YOUTUBE_URL: 'rtmp://127.0.0.9:1935/live2',
      RTMPUSH_YOUTUBE_KEY: 'yt-doctor-key-1',
    });
    assert.equal(r.exitCode, 3);
    const tcp = r.events.find((e) => e.step === 'tcp');
    assert.equal(tcp?.status, 'fail');
    assert.match(
      tcp.fix,
      new RegExp(
        /port 1935 and 443 both fail: check your network or firewall|/.source +
          /port 1935 looks blocked but 443 is open: use the RTMPS URL rtmps:\/\/a\.rtmps\.youtube\.com/.source,
      ),
    );
  });
});
