#!/usr/bin/env node
// Keep on air (issue 13), measured against real servers:
//  1. --source listen: an encoder (ffmpeg, as OBS) publishes, is killed, publishes again. A player (ffmpeg reading
//     the destination's nginx) notes when each frame arrives: time from the kill to the first slate frame at the
//     platform, and back to the source; the largest timestamp gap in the destination's recording.
//  2. The link to the destination falls from 8 to 1.5 Mbit/s (tc in a network namespace; root only): time until
//     the bitrate fits, and the frames the destination dropped meanwhile.
//  3. The same 720p ingest for 30 s, re-encoded and with --copy: the CPU of rtmpush and everything it started.
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { flvTags } from '../dist/test/helpers/flv.js';
import { NetNs } from '../dist/test/helpers/netns.js';
import { NginxRtmp } from '../dist/test/helpers/nginx.js';
import { freePort } from '../dist/test/helpers/ports.js';
import { BIN, cpuOf } from './lib.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const W = 64;
const H = 36;

/** ffmpeg publishing a test pattern as OBS would (H.264 + AAC, keyframe every 2 s), through `prefix` (netns). */
function publisher(url, size, prefix = []) {
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`],
    ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=220:sample_rate=48000'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-c:a', 'aac', '-f', 'flv', url],
  ];
  return execa(prefix[0] ?? 'ffmpeg', [...prefix.slice(1), ...(prefix.length ? ['ffmpeg'] : []), ...args], {
    reject: false,
    stdin: 'ignore',
  });
}

/** rtmpush with its NDJSON events collected as they come. */
function rtmpush(args, { prefix = [], env = {} } = {}) {
  const file = prefix[0] ?? 'node';
  const proc = execa(file, [...prefix.slice(1), ...(prefix.length ? ['node'] : []), BIN, 'start', ...args], {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    env: { ...process.env, ...env },
  });
  let stderr = '';
  proc.stderr.on('data', (c) => {
    stderr = (stderr + c).slice(-2000);
  });
  const events = [];
  let pending = '';
  proc.stdout.on('data', (c) => {
    pending += c;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) events.push(JSON.parse(line));
    }
  });
  const waitFor = async (pred, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const e = events.find(pred);
      if (e) return e;
      await sleep(50);
    }
    const seen = events.filter((e) => e.type !== 'stats').map((e) => `${e.type}:${e.state ?? e.message ?? ''}`);
    throw new Error(`no such event in ${ms} ms; got ${seen.join(', ')}; stderr: ${stderr}`);
  };
  return { proc, events, waitFor };
}

/** A viewer at the platform: each frame's arrival time and whether it is the slate (its dark grey). */
function player(url) {
  const proc = execa(
    'ffmpeg',
    ['-v', 'error', '-i', url, '-vf', `scale=${W}:${H},format=gray`, '-f', 'rawvideo', '-'],
    { reject: false, buffer: false, stdin: 'ignore' },
  );
  const frames = [];
  let buf = Buffer.alloc(0);
  proc.stdout.on('data', (c) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= W * H) {
      let dark = 0;
      for (let i = 0; i < W * H; i++) if (Math.abs(buf[i] - 0x20) <= 8) dark++;
      frames.push({ at: Date.now(), slate: dark / (W * H) > 0.8 });
      buf = buf.subarray(W * H);
    }
  });
  return { proc, frames };
}

async function slateRun() {
  const nginx = new NginxRtmp();
  await nginx.start();
  const port = await freePort();
  const run = rtmpush([
    ...['--source', 'listen', '--listen', `127.0.0.1:${port}`, '--preset', '720p30', '--uplink', 'off', '--json'],
    ...['--to', `d=${nginx.url('live', 'keepOnAirKey1')}`, '--name', 'keep-on-air'],
  ]);
  const ingest = `rtmp://127.0.0.1:${port}/live/obs`;
  await run.waitFor((e) => e.type === 'source' && e.state === 'waiting');
  let pub = publisher(ingest, '1280x720');
  await run.waitFor((e) => e.type === 'state' && e.state === 'live');
  const view = player(nginx.url('live', 'keepOnAirKey1'));
  const results = [];
  try {
    await sleep(8000);
    for (let round = 0; round < 3; round++) {
      const killedAt = Date.now();
      pub.kill('SIGKILL');
      await sleep(6000);
      const backAt = Date.now();
      pub = publisher(ingest, '1280x720');
      await sleep(8000);
      const slate = view.frames.find((f) => f.at > killedAt && f.slate);
      const source = view.frames.find((f) => f.at > backAt && !f.slate);
      results.push({ toSlateMs: slate ? slate.at - killedAt : undefined, toSourceMs: source && source.at - backAt });
    }
  } finally {
    pub.kill('SIGKILL');
    run.proc.kill('SIGTERM');
    await run.proc;
    view.proc.kill('SIGKILL');
  }
  const tags = flvTags(nginx.recording('keepOnAirKey1')).filter((t) => t.type === 9);
  const gaps = tags.slice(2).map((t, i) => t.timestamp - tags[i + 1].timestamp);
  await nginx.dispose();
  const states = run.events.filter((e) => e.type === 'state').map((e) => e.state);
  return { results, maxGapMs: Math.max(...gaps), backwards: gaps.filter((g) => g < 0).length, states };
}

async function linkRun() {
  if (!(await NetNs.usable())) return undefined;
  const ns = new NetNs();
  await ns.create();
  const upstream = new NginxRtmp(ns);
  const dest = new NginxRtmp(ns);
  const prefix = ['ip', 'netns', 'exec', ns.name];
  let pub;
  let run;
  try {
    await upstream.start(19370);
    await dest.start(19371);
    await ns.shapePort(19371, '8mbit');
    pub = publisher(upstream.url('live', 'src'), '1280x720', prefix);
    await sleep(2000);
    run = rtmpush(
      [
        ...['--source', upstream.url('live', 'src'), '--to', `d=${dest.url('live', 'linkKey1')}`],
        ...['--preset', '720p30', '--video-bitrate', '4000k', '--uplink', 'off', '--json', '--duration', '120s'],
      ],
      { prefix },
    );
    await run.waitFor((e) => e.type === 'state' && e.state === 'live');
    await sleep(10_000);
    const dropped = () => run.events.filter((e) => e.type === 'stats').at(-1)?.destinations?.d?.droppedFrames ?? 0;
    const before = dropped();
    await ns.exec([
      'tc',
      'class',
      'change',
      'dev',
      'lo',
      'classid',
      '1:30',
      'htb',
      'rate',
      '1500kbit',
      'ceil',
      '1500kbit',
      'burst',
      '16k',
    ]);
    const fellAt = Date.now();
    const fits = (e) => e.type === 'bitrate' && e.kbps + 128 <= 1500 * 0.95;
    const fit = await run.waitFor(fits, 60_000).catch(() => undefined);
    const steps = run.events.filter((e) => e.type === 'bitrate').map((e) => `${e.previousKbps}→${e.kbps}`);
    await sleep(10_000);
    const after = dropped();
    const states = run.events.filter((e) => e.type === 'state').map((e) => e.state);
    return { fitMs: fit ? Date.parse(fit.time) - fellAt : undefined, steps, droppedFrames: after - before, states };
  } finally {
    run?.proc.kill('SIGTERM');
    await run?.proc;
    pub?.kill('SIGKILL');
    await upstream.dispose();
    await dest.dispose();
    await ns.dispose();
  }
}

async function copyCpu() {
  const nginx = new NginxRtmp();
  await nginx.start();
  const out = {};
  try {
    for (const copy of [false, true]) {
      const port = await freePort();
      const script =
        `node ${BIN} start --source listen --listen 127.0.0.1:${port} ${copy ? '--copy' : ''} --preset 720p30 ` +
        `--to a=${nginx.url('live', `cpuKey${copy ? 'Copy' : 'Enc'}1`)} --uplink off --duration 30s --name cpu`;
      const measuring = cpuOf(script);
      await sleep(1500);
      const pub = publisher(`rtmp://127.0.0.1:${port}/live/obs`, '1280x720');
      out[copy ? 'copy' : 'encode'] = (await measuring).total;
      pub.kill('SIGKILL');
      await pub;
    }
  } finally {
    await nginx.dispose();
  }
  return out;
}

const slate = await slateRun();
const link = await linkRun();
const cpu = await copyCpu();
const ffmpegVersion = execFileSync('ffmpeg', ['-version']).toString().split(' ')[2];
const row = (measure, value, goal = '') => console.log(`| ${measure} | ${value} | ${goal} |`);
const verdict = (ok) => (ok ? 'met' : 'NOT met');
console.log(`keep on air: node ${process.version}, ffmpeg ${ffmpegVersion}`);
console.log('| measure | value | goal |');
console.log('| --- | ---: | --- |');
slate.results.forEach((r, i) => {
  const n = `round ${i + 1}`;
  row(
    `ingest killed (${n}) → slate at the platform`,
    `${r.toSlateMs ?? 'never'} ms`,
    `≤ 1000 ms: ${verdict(r.toSlateMs <= 1000)}`,
  );
  row(`ingest back (${n}) → source at the platform`, `${r.toSourceMs ?? 'never'} ms`);
});
const gapOk = slate.maxGapMs <= 1000 && slate.backwards === 0;
row(
  'largest timestamp gap in the recording (3 losses)',
  `${slate.maxGapMs} ms, ${slate.backwards} backwards`,
  `≤ 1000 ms: ${verdict(gapOk)}`,
);
row('destination states', slate.states.join(' → '), 'never reconnecting');
const share = cpu.copy / cpu.encode;
row(
  '--copy CPU vs re-encoding the same 720p30 ingest (30 s)',
  `${cpu.copy.toFixed(2)} vs ${cpu.encode.toFixed(2)} CPU-s = ${(share * 100).toFixed(1)} %`,
  `≤ 10 %: ${verdict(share <= 0.1)}`,
);
if (!link) row('link 8 → 1.5 Mbit/s', 'not measured: needs root (ip netns, tc)');
else {
  row(
    'link 8 → 1.5 Mbit/s → a bitrate that fits',
    `${link.fitMs ?? 'never'} ms (${link.steps.join(', ')})`,
    `≤ 15 000 ms: ${verdict(link.fitMs <= 15_000)}`,
  );
  row('frames the destination dropped meanwhile (to 10 s after)', link.droppedFrames);
  row('destination states', link.states.join(' → '));
}
