import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { BIN, runCli } from '../helpers/cli.js';
import { isAvcHeader, isKeyframe, videoTags } from '../helpers/flv.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { freePort, waitListening } from '../helpers/ports.js';
import { probe } from '../helpers/probe.js';
import { childPids, commandOf, startCli } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

const KEYS = { d1: 'ctlFirstKey11', d2: 'ctlSecondKey22', d3: 'ctlAddedKey33' };
const ffmpegOf = (pid: number) => childPids(pid).find((p) => commandOf(p)[0]?.endsWith('ffmpeg'));

describe('the control socket: a running stream driven only through its socket and the client commands', () => {
  const nginx = new NginxRtmp();
  const dir = path.join(tempDir('control'), 'run');
  const sock = path.join(dir, 'ctl.sock');
  const env = { RTMPUSH_RUNTIME_DIR: dir };
  const printed: string[] = [];
  let run: ReturnType<typeof startCli>;
  let exitCode: number | undefined;
  const client = async (...args: string[]) => {
    const r = await runCli([...args, '--name', 'ctl'], env);
    printed.push(r.stdout, r.stderr);
    return r;
  };
  const curl = async (method: string, url: string, body?: string) => {
    const args = ['-s', '--unix-socket', sock, '-X', method, '-w', '\n%{http_code}', `http://rtmpush${url}`];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', body);
    const r = await execa('curl', args, { reject: false });
    const lines = String(r.stdout).trimEnd().split('\n');
    const status = Number(lines.pop());
    printed.push(lines.join('\n'));
    return { status, body: JSON.parse(lines.join('\n') || 'null') as Record<string, any> };
  };
  const states = (label: string) =>
    run.events.filter((e) => e.type === 'state' && e.destination === label).map((e) => e.state);
  const ffmpegPids: (number | undefined)[] = [];
  let metricsPort = 0;

  before(async () => {
    await nginx.start();
    metricsPort = await freePort();
    const to = `d1=${nginx.url('live', KEYS.d1)},d2=${nginx.url('live', KEYS.d2)}`;
    run = startCli(
      [
        ...['start', '--to', to, '--preset', '360p30', '--duration', '60s', '--json', '--name', 'ctl'],
        ...['--uplink', 'off', '--metrics', `127.0.0.1:${metricsPort}`],
      ],
      env,
    );
    await run.waitFor((e) => e.type === 'state' && e.destination === 'd1' && e.state === 'live');
    await run.waitFor((e) => e.type === 'state' && e.destination === 'd2' && e.state === 'live');
    ffmpegPids.push(ffmpegOf(run.proc.pid!));
    // a few seconds of stream: the encoder at its steady pace, figures over more than one sample
    await new Promise((r) => setTimeout(r, 4000));
  });
  after(async () => {
    run.proc.kill('SIGKILL');
    await run.proc;
    await nginx.dispose();
  });

  it('the socket is the user’s alone: the folder 0700, the socket 0600', () => {
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(statSync(sock).isSocket());
    assert.equal(statSync(sock).mode & 0o777, 0o600);
  });

  it('status: a table to read, and JSON with true figures; exit 0 when every destination is live', async () => {
    const table = await client('status');
    assert.equal(table.exitCode, 0, table.stderr);
    assert.match(table.stdout, /^rtmpush `ctl` \(pid \d+\), streaming for /);
    assert.match(table.stdout, /\nd1 +- +live +\d\d:\d\d:\d\d +\d+ kbps +0/);
    const json = await client('status', '--json');
    const s = JSON.parse(json.stdout);
    assert.equal(s.pid, run.proc.pid);
    assert.equal(s.name, 'ctl');
    assert.ok(s.encoder.fps > 20 && s.encoder.bitrateKbps > 500, JSON.stringify(s.encoder));
    for (const d of s.destinations) {
      assert.equal(d.state, 'live');
      assert.ok(d.deliveredKbps > 300 && d.deliveredKbps < 2000, `${d.label} ${d.deliveredKbps}`);
      assert.equal(d.paused, false);
    }
  });

  it('a second start with the same name: exit 2 naming the running one, and nothing started', async () => {
    const r = await runCli(['start', '--to', 'local', '--duration', '5s', '--name', 'ctl'], env);
    assert.equal(r.exitCode, 2);
    assert.equal(
      r.stderr.trim(),
      `rtmpush: rtmpush \`ctl\` is already running (pid ${run.proc.pid}); pick another --name`,
    );
    assert.ok(existsSync(sock), 'the running stream’s socket is still there');
  });

  it('add: the same encoder (same ffmpeg pid) feeds it, live within a second, starting on a keyframe', async () => {
    const asked = Date.now();
    const r = await client('add', `d3=${nginx.url('live', KEYS.d3)}`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'added d3: connecting');
    const live = await run.waitFor((e) => e.type === 'state' && e.destination === 'd3' && e.state === 'live');
    assert.ok(Date.parse(live.time) - asked < 1000, `live ${Date.parse(live.time) - asked} ms after the add`);
    ffmpegPids.push(ffmpegOf(run.proc.pid!));
    assert.equal(ffmpegPids[1], ffmpegPids[0], 'the encoder was not restarted');
    const tags = videoTags(nginx.recording(KEYS.d3));
    assert.ok(isAvcHeader(tags[0]!) && isKeyframe(tags[1]!), 'the AVC header, then a keyframe');
  });

  it('the API’s errors: JSON {"error"} with 400, 404, 405 and 409, and a missing key names its variable', async () => {
    const bad = await curl('POST', '/v1/destinations', '{"to": ');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /not JSON/);
    const noKey = await curl('POST', '/v1/destinations', '{"to": "twitch"}');
    assert.equal(noKey.status, 400);
    assert.match(noKey.body.error, /RTMPUSH_TWITCH_KEY/);
    const taken = await curl(
      'POST',
      '/v1/destinations',
      JSON.stringify({ to: `d1=${nginx.url('live', 'otherKey44')}` }),
    );
    assert.equal(taken.status, 409);
    assert.match(taken.body.error, /d1 is already a destination/);
    const sameKey = await curl('POST', '/v1/destinations', JSON.stringify({ to: `d4=${nginx.url('live', KEYS.d1)}` }));
    assert.equal(sameKey.status, 409);
    assert.match(sameKey.body.error, /d1 already publishes there with that key/);
    const local = await curl('POST', '/v1/destinations', '{"to": "local"}');
    assert.equal(local.status, 400);
    assert.equal((await curl('DELETE', '/v1/destinations/nope')).status, 404);
    assert.equal((await curl('POST', '/v1/destinations/d1/jump')).status, 404);
    assert.equal((await curl('GET', '/v1/stop')).status, 405);
    assert.equal((await curl('GET', '/v2/status')).status, 404);
    const big = await curl('POST', '/v1/destinations', JSON.stringify({ to: 'x'.repeat(20_000) }));
    assert.equal(big.status, 413);
    const client404 = await client('remove', 'nope');
    assert.equal(client404.exitCode, 2);
    assert.equal(client404.stderr, 'rtmpush: no destination nope');
    // none of it disturbed the stream
    assert.deepEqual(states('d1'), ['connecting', 'live']);
  });

  it('pause unpublishes one destination and holds it; resume brings it back; the others never notice', async () => {
    const paused = await client('pause', 'd2');
    assert.equal(paused.stdout, 'd2: paused');
    const s = (await curl('GET', '/v1/status')).body;
    const d2 = s.destinations.find((d: any) => d.label === 'd2');
    assert.deepEqual([d2.state, d2.paused, d2.deliveredKbps], ['paused', true, 0]);
    assert.equal((await client('status')).exitCode, 0, 'paused is the operator’s choice');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await client('resume', 'd2')).stdout, 'd2: connecting');
    for (let i = 0; i < 50 && states('d2').length < 5; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(states('d2'), ['connecting', 'live', 'paused', 'connecting', 'live']);
  });

  it('remove: a clean unpublish, then gone from the status; a pause racing it disturbs nothing', async () => {
    const [paused, r] = await Promise.all([curl('POST', '/v1/destinations/d3/pause'), client('remove', 'd3')]);
    assert.ok([200, 404].includes(paused.status), JSON.stringify(paused));
    assert.equal(r.stdout, 'removed d3');
    assert.equal((await client('status')).exitCode, 0, 'still running and answering');
    const s = (await curl('GET', '/v1/status')).body;
    assert.deepEqual(
      s.destinations.map((d: any) => d.label),
      ['d1', 'd2'],
    );
    assert.equal(states('d3').at(-1), 'stopped');
  });

  it('metrics: a Prometheus scrape with each destination’s state and figures, labelled without keys', async () => {
    const scrape = await execa('curl', ['-s', `http://127.0.0.1:${metricsPort}/metrics`]);
    const text = String(scrape.stdout);
    printed.push(text);
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${line} `))
          ?.split(' ')[1],
      );
    assert.equal(value('rtmpush_destination_state{destination="d1",platform="",state="live"}'), 1);
    assert.equal(value('rtmpush_destination_state{destination="d2",platform="",state="reconnecting"}'), 0);
    const bps = value('rtmpush_destination_delivered_bits_per_second{destination="d1",platform=""}');
    assert.ok(bps > 300_000 && bps < 2_000_000, `delivered ${bps}`);
    const acked = value('rtmpush_destination_acknowledged_bytes_total{destination="d1",platform=""}');
    assert.ok(acked > 500_000, `acknowledged ${acked}: ${text.slice(0, 3000)}`);
    assert.equal(value('rtmpush_destination_reconnects_total{destination="d1",platform=""}'), 0);
    assert.ok(value('rtmpush_destination_live_seconds{destination="d1",platform=""}') > 3);
    assert.ok(value('rtmpush_encoder_fps') > 20);
    assert.ok(value('process_resident_memory_bytes') > 10_000_000);
    assert.ok(!text.includes('rtmp://') && !text.includes('127.0.0.1:'), 'no URL in the metrics');
    const post = await execa('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', scrapeUrl()]);
    assert.equal(String(post.stdout), '405');
    const other = await execa('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', scrapeUrl('/v1/status')]);
    assert.equal(String(other.stdout), '404');
  });
  const scrapeUrl = (p = '/metrics') => `http://127.0.0.1:${metricsPort}${p}`;

  it('events: Server-Sent Events with the objects --json prints', async () => {
    const r = await execa('curl', ['-sN', '--max-time', '2.5', '--unix-socket', sock, 'http://rtmpush/v1/events'], {
      reject: false,
    });
    const events = String(r.stdout)
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    printed.push(String(r.stdout));
    const stats = events.find((e) => e.type === 'stats');
    assert.ok(stats && typeof stats.time === 'string', String(r.stdout).slice(0, 300));
    assert.deepEqual(Object.keys(stats.destinations), ['d1', 'd2']);
  });

  it('stop: the stream ends cleanly (exit 0), followers get the summary, nothing can be added meanwhile', async () => {
    const follower = execa('curl', ['-sN', '--max-time', '30', '--unix-socket', sock, 'http://rtmpush/v1/events']);
    await new Promise((r) => setTimeout(r, 500));
    // the stop, then at once (one curl, the next request on the heels of the first) a destination to add: a stream
    // that stops fast has removed its socket before a second client could even start
    const both = await execa('curl', [
      ...['-s', '--unix-socket', sock, '-X', 'POST', '-w', '\n%{http_code}\n', 'http://rtmpush/v1/stop'],
      ...['--next', '-s', '--unix-socket', sock, '-X', 'POST', '-w', '\n%{http_code}\n'],
      ...['-H', 'content-type: application/json', '--data-binary'],
      JSON.stringify({ to: `d5=${nginx.url('live', 'lateKey555')}` }),
      'http://rtmpush/v1/destinations',
    ]);
    printed.push(both.stdout);
    const [stopBody, stopStatus, lateBody, lateStatus] = both.stdout.split('\n').filter((l) => l.trim() !== '');
    assert.deepEqual([stopStatus, JSON.parse(stopBody!)], ['202', { stopping: true }]);
    assert.equal(lateStatus, '409');
    assert.match(JSON.parse(lateBody!).error, /the stream is stopping/);
    exitCode = (await run.proc).exitCode;
    assert.equal(exitCode, 0);
    const summary = run.events.at(-1)!;
    assert.equal(summary.type, 'summary');
    // the removed destination is in the summary, as it was
    assert.deepEqual([summary.destinations.d3.finalState, summary.destinations.d3.reason], ['stopped', 'removed']);
    const followed = String((await follower).stdout)
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    assert.equal(followed.at(-1)?.type, 'summary', 'the follower heard the summary last');
    printed.push(JSON.stringify(followed));
    assert.ok(!existsSync(sock));
    const r = await client('status');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /^rtmpush: no rtmpush named ctl is running/);
  });

  it('d1 recorded the whole run without a gap; no key in what the clients, the API or the events printed', async () => {
    const got = await probe(nginx.recording(KEYS.d1));
    assert.ok(got.maxFrameGapS < 0.1, `gap ${got.maxFrameGapS}`);
    const all = printed.join('\n') + JSON.stringify(run.events);
    for (const key of Object.values(KEYS)) assert.ok(!all.includes(key), `${key} was printed`);
  });
});

describe('the control socket’s folder and stale sockets', () => {
  it('a folder others may enter is refused: exit 2, nothing started', async () => {
    const dir = path.join(tempDir('control-open'), 'run');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const r = await runCli(['start', '--to', 'local', '--duration', '3s', '--json'], { RTMPUSH_RUNTIME_DIR: dir });
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /can be entered by other users \(mode 755\); set RTMPUSH_RUNTIME_DIR/);
    assert.deepEqual(r.events, []);
  });

  it('--metrics that is not HOST:PORT, or an address in use: exit 2, nothing started', async () => {
    const bad = await runCli(['start', '--to', 'local', '--metrics', 'localhost', '--json']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /--metrics localhost: give HOST:PORT/);
    const port = await freePort();
    const holder = execa('node', ['-e', `require('net').createServer().listen(${port}, '127.0.0.1')`]);
    await waitListening(port);
    const taken = await runCli(['start', '--to', 'local', '--metrics', `127.0.0.1:${port}`, '--json']);
    holder.kill('SIGKILL');
    await holder.catch(() => {});
    assert.equal(taken.exitCode, 2);
    assert.match(taken.stderr, /cannot listen there \(EADDRINUSE\)/);
    assert.deepEqual(taken.events, []);
  });

  it('--metrics on an address other machines reach: a warning saying so', async () => {
    const port = await freePort();
    const r = await runCli(['start', '--to', 'local', '--metrics', `0.0.0.0:${port}`, '--duration', '2s', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const warnings = r.events.filter((e) => e.type === 'warning').map((e) => e.message);
    assert.ok(
      warnings.some((w) => w.startsWith(`--metrics 0.0.0.0:${port}: anyone who can reach this address`)),
      JSON.stringify(warnings),
    );
  });

  it('a client talks to no socket another user could have planted (run as uid nobody)', async () => {
    const asNobody = (dir: string) =>
      execa(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'node', BIN, 'status', '--name', 'x'],
        { env: { RTMPUSH_RUNTIME_DIR: dir, PATH: process.env.PATH ?? '' }, extendEnv: false, reject: false },
      );
    // a folder anyone may enter, with a socket in it (made by root: another user for nobody)
    const open = tempDir('control-planted');
    chmodSync(open, 0o777);
    const holderA = execa('node', ['-e', `require('net').createServer().listen(${JSON.stringify(`${open}/x.sock`)})`]);
    // nobody's own 0700 folder, with a socket root put there
    const own = tempDir('control-own');
    chownSync(own, 65534, 65534);
    const holderB = execa('node', ['-e', `require('net').createServer().listen(${JSON.stringify(`${own}/x.sock`)})`]);
    for (let i = 0; i < 50 && !(existsSync(`${open}/x.sock`) && existsSync(`${own}/x.sock`)); i++)
      await new Promise((r) => setTimeout(r, 100));
    const a = await asNobody(open);
    const b = await asNobody(own);
    for (const h of [holderA, holderB]) h.kill('SIGKILL');
    await Promise.allSettled([holderA, holderB]);
    assert.equal(a.exitCode, 2);
    assert.match(String(a.stderr), /belongs to another user \(uid 0\); set RTMPUSH_RUNTIME_DIR/);
    assert.equal(b.exitCode, 2);
    assert.match(String(b.stderr), /x\.sock belongs to another user \(uid 0\)/);
  });

  it('a socket a killed run left behind is replaced', async () => {
    const dir = tempDir('control-stale');
    const sock = path.join(dir, 'default.sock');
    // a process that listens on the socket, killed before it can remove it
    const holder = execa('node', ['-e', `require('net').createServer().listen(${JSON.stringify(sock)})`]);
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    holder.kill('SIGKILL');
    await holder.catch(() => {});
    assert.ok(existsSync(sock), 'the stale socket is there');
    const r = await runCli(['start', '--to', 'local', '--duration', '3s', '--json'], { RTMPUSH_RUNTIME_DIR: dir });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(!existsSync(sock), 'and removed at the end');
  });
});
