import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { runCli } from '../../helpers/cli.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { probe } from '../../helpers/probe.js';
import { childPids, startCli } from '../../helpers/spawn.js';
import { tempDir } from '../../helpers/tmp.js';
import type { ReceivedSummary } from '../../../src/probe/summary.js';

/** The mean colour of a third of a frame (left, centre, right) at `atS` seconds into a recording. */
async function thirds(file: string, atS: number): Promise<[number, number, number][]> {
  const probeSize = await execa(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries'].concat(['stream=width,height', '-of', 'csv=p=0', file]),
  );
  const [w, h] = probeSize.stdout.trim().split(',').map(Number) as [number, number];
  const raw = await execa(
    'ffmpeg',
    ['-v', 'error', '-ss', String(atS), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer' },
  );
  const px = raw.stdout as Uint8Array;
  const out: [number, number, number][] = [];
  for (let t = 0; t < 3; t++) {
    const sum = [0, 0, 0];
    let n = 0;
    for (let y = 0; y < h; y += 4) {
      for (let x = Math.floor((t * w) / 3) + 2; x < Math.floor(((t + 1) * w) / 3) - 2; x += 4) {
        const i = (y * w + x) * 3;
        for (let c = 0; c < 3; c++) sum[c]! += px[i + c]!;
        n++;
      }
    }
    out.push(sum.map((s) => Math.round(s / n)) as [number, number, number]);
  }
  return out;
}

const colour = ([r, g, b]: [number, number, number]): string =>
  r > 150 && g < 90 && b < 90
    ? 'red'
    : g > 90 && r < 90 && b < 90
      ? 'green'
      : b > 150 && r < 90 && g < 90
        ? 'blue'
        : '?';

describe('per-destination encodes: three destinations in two settings, one ffmpeg process, one tee', () => {
  const nginx = new NginxRtmp();
  const dir = tempDir('encodes');
  const source = path.join(dir, 'rgb.mp4');
  let events: Record<string, any>[] = [];
  let ffmpegChildren: string[] = [];
  const got: Record<string, ReceivedSummary> = {};
  const base = (): string => nginx.url('live', 'x').replace(/\/x$/, '');
  const runtime = path.join(dir, 'run');
  const added: Record<string, { exitCode?: number; stdout: unknown; stderr: unknown }> = {};

  before(async () => {
    await nginx.start();
    // a landscape source whose thirds are red, green and blue: a 9:16 crop of its centre is all green
    await execa('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=red:s=428x720:r=30,format=yuv420p[r];color=green:s=424x720:r=30[g];color=blue:s=428x720:r=30[b];' +
        '[r][g][b]hstack=3',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
      '-t',
      '14',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-c:a',
      'aac',
      source,
    ]);
    // a preset of the user's own, beside the config: portrait at 25 fps
    mkdirSync(path.join(dir, 'presets'));
    writeFileSync(
      path.join(dir, 'presets', 'portrait-25.json'),
      JSON.stringify({
        name: 'portrait-25',
        description: 'test: 9:16 at 25 fps',
        width: 360,
        height: 640,
        fps: 25,
        videoKbps: 1500,
        minVideoKbps: 500,
        fit: 'crop',
        x264: { preset: 'superfast', tune: null, profile: 'main' },
        audio: { kbps: 128, sampleRate: 48000, channels: 2 },
      }),
    );
    const config = path.join(dir, 'rtmpush.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        destinations: {
          wide1: { url: base(), keyEnv: 'WIDE1_KEY' },
          wide2: { url: base(), keyEnv: 'WIDE2_KEY' },
          // Instagram caps video at 6000 kbps: the vertical one is held to it, the wide ones are not
          vert: { platform: 'instagram', keyEnv: 'VERT_KEY', preset: 'portrait-25', videoBitrate: '8000k' },
        },
      }),
    );
    const run = startCli(
      ['start', '--config', config, '--to', 'wide1,vert,wide2', '--source', source].concat([
        '--preset',
        '480p30',
        '--video-bitrate',
        '7000k',
        '--duration',
        '10s',
        '--json',
      ]),
      {
        WIDE1_KEY: 'wideKeyOne1',
        WIDE2_KEY: 'wideKeyTwo2',
        VERT_KEY: 'vertKeyThree3',
        RTMPUSH_INSTAGRAM_URL: base(),
        // what `add x…` below resolves with, in the running stream
        RTMPUSH_X_URL: base(),
        RTMPUSH_X_KEY: 'xKey123456',
        RTMPUSH_RUNTIME_DIR: runtime,
      },
    );
    await run.waitFor((e) => e.type === 'state' && e.state === 'live', 20_000);
    // destinations added while streaming, through its socket: one whose setting an encode makes joins it; one whose
    // setting none makes is refused (409, the encodes named); an unknown preset is bad input (400)
    const client = (...args: string[]) => runCli([...args], { RTMPUSH_RUNTIME_DIR: runtime });
    added.joins = await client('add', `wide3=${nginx.url('live', 'wideKeyFour4')}`, '--json');
    added.refused = await client('add', 'x@vertical-720p30');
    const sock = path.join(runtime, 'default.sock');
    const curl = (body: string) =>
      execa(
        'curl',
        ['-s', '--unix-socket', sock, '-X', 'POST', '-w', '\n%{http_code}', 'http://rtmpush/v1/destinations'].concat([
          '-H',
          'content-type: application/json',
          '--data-binary',
          body,
        ]),
        { reject: false },
      );
    added.unknown = await curl(JSON.stringify({ to: 'x@nope' }));
    // rtmpush's own children while it streams: ffmpeg (behind setpriv, which execs it) and nothing else encoding
    ffmpegChildren = childPids(run.proc.pid!).map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return 'gone';
      }
    });
    await run.proc;
    events = run.events;
    for (const key of ['wideKeyOne1', 'wideKeyTwo2', 'vertKeyThree3']) got[key] = await probe(nginx.recording(key));
  });
  after(() => nginx.dispose());

  it('one ffmpeg process encodes both settings; every destination live, then stopped', () => {
    assert.deepEqual(
      ffmpegChildren.filter((c) => c === 'ffmpeg'),
      ['ffmpeg'],
      `children: ${ffmpegChildren}`,
    );
    for (const label of ['wide1', 'wide2', 'vert']) {
      const states = events.filter((e) => e.type === 'state' && e.destination === label).map((e) => e.state);
      assert.deepEqual(states, ['connecting', 'live', 'stopped'], label);
    }
    assert.equal(events.at(-1)!.exitCode, 0);
  });

  it('each recording has its own size, frame rate and bitrate (±15 %), keyframes every 2 s', () => {
    const wide = [got.wideKeyOne1!, got.wideKeyTwo2!];
    const vert = got.vertKeyThree3!;
    for (const r of wide) {
      assert.deepEqual([r.width, r.height, Math.round(r.fps)], [854, 480, 30]);
      // 7000k kept: Instagram's 6000k cap is the vertical one's only
      assert.ok(Math.abs(r.steadyKbps / 7000 - 1) <= 0.15, `wide ${r.steadyKbps} kbps`);
    }
    assert.deepEqual([vert.width, vert.height, Math.round(vert.fps)], [360, 640, 25]);
    assert.ok(Math.abs(vert.steadyKbps / 6000 - 1) <= 0.15, `vertical ${vert.steadyKbps} kbps`);
    // a swap for the machine's pace (a `speed` event: two encodes on two busy cores) starts its encoder on a
    // keyframe: the group it ends is shorter, never longer
    const swaps = events.filter((e) => e.type === 'speed').length;
    for (const r of [...wide, vert]) {
      assert.ok(r.keyframeIntervalS, 'keyframes');
      const { min, max } = r.keyframeIntervalS;
      const regular = swaps > 0 ? min > 0 : Math.abs(min - 2) <= 0.05;
      assert.ok(Math.abs(max - 2) <= 0.05 && regular, `keyframes every ${min}..${max} s, ${swaps} speed steps`);
      assert.equal(r.audioCodec, 'aac');
      assert.equal(r.lostFrames, 0);
    }
  });

  it('the vertical picture is the centre of the source; the wide ones show all of it', async () => {
    assert.deepEqual((await thirds(nginx.recording('vertKeyThree3'), 4)).map(colour), ['green', 'green', 'green']);
    assert.deepEqual((await thirds(nginx.recording('wideKeyOne1'), 4)).map(colour), ['red', 'green', 'blue']);
  });

  it('added while streaming: the same setting joins its encode; another is refused; an unknown preset is 400', () => {
    assert.equal(added.joins!.exitCode, 0, String(added.joins!.stderr));
    assert.ok(events.some((e) => e.type === 'state' && e.destination === 'wide3' && e.state === 'live'));
    assert.equal(added.refused!.exitCode, 2);
    assert.match(
      String(added.refused!.stderr),
      new RegExp(
        '^rtmpush: x needs an encode this stream does not make \\(720x1280@30 3000k, vertical-720p30; ' +
          'it makes e1 854x480@30 7000k, e2 360x640@25 6000k\\)',
      ),
    );
    const lines = String(added.unknown!.stdout).trim().split('\n');
    const [body, code] = [lines[0], lines.at(-1)];
    assert.equal(code, '400');
    assert.match(JSON.parse(body!).error, /^unknown preset "nope" for x: use one of /);
    assert.ok(!JSON.stringify(added).includes('xKey123456'), 'no key in what the API answered');
  });

  it('the start event names each encode, its encoder and its destinations', () => {
    const start = events.find((e) => e.type === 'start')!;
    assert.deepEqual(
      start.encodes.map((e: any) => [e.id, `${e.width}x${e.height}@${e.fps}`, e.kbps, e.encoder, e.destinations]),
      [
        ['e1', '854x480@30', 7000, 'x264', ['wide1', 'wide2']],
        ['e2', '360x640@25', 6000, 'x264', ['vert']],
      ],
    );
    // --encoder auto (the default): this ffmpeg lists hardware encoders that cannot open here (no GPU)
    const notes = start.notes.filter((n: string) =>
      /^no hardware encoder works here \(.*nvenc: .*\): encoding with x264$/.test(n),
    );
    assert.equal(notes.length, 1, JSON.stringify(start.notes));
    assert.ok(!JSON.stringify(events).match(/wideKeyOne1|wideKeyTwo2|vertKeyThree3/), 'no key in any event');
  });
});

describe('an encode this machine cannot carry: said while streaming, and by doctor before', () => {
  const nginx = new NginxRtmp();
  const dir = tempDir('slow');
  const runtime = path.join(dir, 'run');
  const env = { RTMPUSH_RUNTIME_DIR: runtime };
  before(async () => {
    await nginx.start();
    // 1080p60 at x264 medium: far under real time on two cores; zerolatency, so its output comes steadily from the
    // start (with x264's lookahead the first frames come in a burst after a pause longer than the 1 s a source may
    // be silent: the slate played for a few seconds at the start — noted in issue 14's closing note)
    mkdirSync(path.join(dir, 'presets'));
    writeFileSync(
      path.join(dir, 'presets', 'heavy.json'),
      JSON.stringify({
        name: 'heavy',
        description: 'test: too much for a small machine',
        width: 1920,
        height: 1080,
        fps: 60,
        videoKbps: 6000,
        minVideoKbps: 1000,
        x264: { preset: 'medium', tune: 'zerolatency', profile: 'high' },
        audio: { kbps: 128, sampleRate: 48000, channels: 2 },
      }),
    );
    writeFileSync(path.join(dir, 'rtmpush.config.json'), '{}');
  });
  after(() => nginx.dispose());

  it('under 0.97× for 10 s: a warning, status says so, x264 steps faster on the live session', async () => {
    const config = path.join(dir, 'rtmpush.config.json');
    // a URL source (its encoder can be swapped under the held session): a small stream rtmpush blows up to 1080p60
    const upstream = nginx.url('live', 'slowSource1');
    const pub = execa(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30']
        .concat(['-re', '-f', 'lavfi', '-i', 'sine=frequency=220:sample_rate=48000', '-c:a', 'aac', '-t', '60'])
        .concat(['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-f', 'flv', upstream]),
      { reject: false, stdin: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 1500));
    const run = startCli(
      ['start', '--config', config, '--source', upstream, '--to', `d=${nginx.url('live', 'slowKey123')}`]
        .concat(['--preset', 'heavy', '--encoder', 'x264', '--duration', '40s', '--json', '--name', 'slow'])
        .concat(['--uplink', 'off', '--no-adaptive-bitrate']),
      env,
    );
    try {
      const warning = await run.waitFor((e) => e.type === 'warning' && /^the encoder makes/.test(e.message), 25_000);
      // from the encoder's first frames (the URL is opened and read first): 10 s of falling behind, then said
      const begin = Date.parse(run.events.find((e) => e.type === 'stats' && e.outTimeMs > 0)!.time);
      const after = Date.parse(warning.time) - begin;
      assert.ok(after >= 9_000 && after <= 20_000, `said ${after} ms after the encoder's first frames`);
      const said = new RegExp(
        '^the encoder makes 0\\.\\d\\d s of stream per second \\(the last 10 s\\): ' +
          'this machine cannot carry 1920x1080@60 \\(x264 medium\\) in real time',
      );
      assert.match(warning.message, said);
      const status = await runCli(['status', '--json', '--name', 'slow'], env);
      const s = JSON.parse(status.stdout);
      assert.equal(s.encoder.slow, true);
      assert.ok(s.encoder.realtime < 0.97, `realtime ${s.encoder.realtime}`);
      const text = await runCli(['status', '--name', 'slow'], env);
      assert.match(text.stdout, /TOO SLOW: 0\.\d\d s of stream per second, the platforms buffer/);
      // one x264 speed faster, swapped in under the held session: the destination never reconnects
      const step = run.events.find((e) => e.type === 'speed')!;
      assert.deepEqual([step.previous, step.x264Preset], ['medium', 'fast']);
      assert.match(step.reason, /^the encoder made 0\.\d\d s of stream per second$/);
      await new Promise((r) => setTimeout(r, 4000));
      const states = run.events.filter((e) => e.type === 'state' && e.destination === 'd').map((e) => e.state);
      assert.deepEqual(states, ['connecting', 'live'], JSON.stringify(run.events.filter((e) => e.type !== 'stats')));
      const seen = JSON.stringify(run.events.filter((e) => ['source', 'speed', 'warning'].includes(e.type)));
      assert.equal(run.events.filter((e) => e.type === 'source' && e.state === 'slate').length, 0, `no slate: ${seen}`);
    } finally {
      run.proc.kill('SIGTERM');
      await run.proc;
      pub.kill('SIGKILL');
      await pub;
    }
  });

  it('doctor measures the encodes here: 360p30 fits, in its text and JSON', async () => {
    const config = path.join(dir, 'rtmpush.config.json');
    const fits = await runCli(['doctor', '--config', config, '--preset', '360p30', '--json'], env);
    const fast = fits.events.find((e) => e.type === 'speed')!;
    assert.ok(fast.planned.fits && fast.planned.speed >= 1.15, JSON.stringify(fast));
    assert.equal(fast.planned.what, '640x360@30, x264 veryfast');
    assert.equal(fast.trials.length, 1);
    const text = await runCli(['doctor', '--config', config, '--preset', '360p30'], env);
    assert.match(text.stdout, /^encoding here: 640x360@30, x264 veryfast: \d+\.\d\d× real time — fits$/m);
    const none = await runCli(['doctor', '--config', config, '--preset', '360p30', '--no-speed', '--json'], env);
    assert.equal(none.events.filter((e) => e.type === 'speed').length, 0);
  });
});
